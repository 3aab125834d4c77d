"""Validation of a monitor as a user submits it: the same rules for the form, the API and YAML.

Each kind reads its target differently (an http(s) URL, `host:port`, a DNS name, nothing for
push monitors) and has its own options, validated by the models of `domain.check_options`.
Errors come back as one message per field; an option's field is named `options.<name>`.
Sizes, characters and numbers are held to the limits of `domain.limits`.
"""

from __future__ import annotations

import ipaddress
import re
from functools import cache
from typing import TYPE_CHECKING, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from domain.check_options import (
    STORED_WHEN_SET,
    DnsOptions,
    HttpOptions,
    TcpOptions,
    TlsOptions,
)
from domain.dependencies import clean_dependencies
from domain.escalation import checked_override, override_json_schema
from domain.limits import (
    MAX_TAG_CHARS,
    MAX_TAGS,
    FiniteFloat,
    Name,
    UrlText,
    check_port,
    parse_port,
    text_problem,
)
from domain.limits import InvalidInput as InvalidInput  # where callers have always found it
from domain.push import PushOptions
from domain.severity import DEFAULT_SEVERITY, SEVERITIES, SEVERITY_CHOICES
from domain.window_rules import (
    MAX_RULES,
    parse_rules,
    rule_json_schema,
    rules_from_stored,
    rules_to_stored,
    unfit_rule,
)

if TYPE_CHECKING:  # httpx is imported when a URL is parsed: the read-model process never does
    import httpx

MIN_INTERVAL_S = 10
MAX_INTERVAL_S = 86_400
MIN_RETRY_INTERVAL_S = 5
MAX_CONFIRMATIONS = 10
SUPPORTED_SCHEMES = ("http", "https")
KINDS = ("http", "tls", "tcp", "dns", "push")
Kind = Literal["http", "tls", "tcp", "dns", "push"]
OPTION_MODELS: dict[str, type[BaseModel]] = {
    "http": HttpOptions, "tls": TlsOptions, "tcp": TcpOptions, "dns": DnsOptions,
    "push": PushOptions,
}
# Shown instead of a stored secret; sending it back means "keep the stored value".
SECRET_MASK = "**********"
# One label of a host name; the name is checked label by label (a single pattern for the whole
# name backtracks exponentially on a long run of letters that ends badly).
_HOST_LABEL = re.compile(r"[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9])?")
# Whatever is in the URL is shown with it (the API, and the status page with "show URL").
USERINFO_REFUSED = (
    "remove the user name and password from the URL (they would be shown wherever the URL is): "
    "use the basic auth options (basic_auth_user and basic_auth_password) instead"
)


def _check_host(host: str) -> str:
    try:
        ipaddress.ip_address(host)
        return host
    except ValueError:
        pass
    labels = host.removesuffix(".").split(".")
    if not 1 <= len(host) <= 253 or not all(_HOST_LABEL.fullmatch(label) for label in labels):
        raise ValueError(f"'{host[:60]}' is not a valid host name")
    return host


def split_host_port(target: str, default_port: int | None = None) -> tuple[str, int]:
    """'example.com:443', '[::1]:22', 'https://example.com' (TLS) -> (host, port)."""
    if "://" in target:
        url = _parse_url(target)
        if url.scheme != "https" or not url.host:
            raise ValueError("give host:port, like example.com:443")
        if url.userinfo:
            raise ValueError(USERINFO_REFUSED)
        return _check_host(url.host), check_port(url.port or 443)
    host, port_text = target, None
    if target.startswith("["):
        host, _, rest = target[1:].partition("]")
        port_text = rest.removeprefix(":") or None
    elif target.count(":") == 1:
        host, port_text = target.split(":")
    if not host:
        raise ValueError("give host:port, like example.com:443")
    if port_text is None:
        if default_port is None:
            raise ValueError("give the port too, like example.com:5432")
        return _check_host(host), default_port
    port = parse_port(port_text)
    return _check_host(host), port


def _parse_url(url: str) -> httpx.URL:
    import httpx

    try:
        return httpx.URL(url)
    except (httpx.InvalidURL, ValueError) as exc:
        raise ValueError(f"this is not a valid URL ({exc})") from None


def _check_http_url(url: str) -> None:
    if "://" not in url:
        raise ValueError("start the URL with http:// or https://")
    parsed = _parse_url(url)
    if parsed.scheme not in SUPPORTED_SCHEMES:
        raise ValueError(f"'{parsed.scheme[:20]}' URLs are not supported: use http:// or https://")
    if not parsed.host:
        raise ValueError("the URL has no host name")
    if parsed.userinfo:
        raise ValueError(USERINFO_REFUSED)
    if parsed.port is not None:
        check_port(parsed.port)


def check_target(kind: str, url: str) -> None:
    """Raise ValueError (a sentence for the user) when `url` is not a target for `kind`."""
    if kind == "http":
        _check_http_url(url)
    elif kind == "tls":
        split_host_port(url, default_port=443)
    elif kind == "tcp":
        split_host_port(url)
    elif kind == "dns":
        if not url:
            raise ValueError("give the name to look up, like example.com")
        _check_host(url)


def options_for_storage(options: BaseModel) -> dict[str, Any]:
    """Options as JSON-ready values, secrets included (the API and UI mask them on the way out)."""
    def plain(value: Any) -> Any:
        if isinstance(value, SecretStr):
            return value.get_secret_value()
        if isinstance(value, BaseModel):
            return {k: plain(getattr(value, k)) for k in type(value).model_fields}
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        if isinstance(value, list):
            return [plain(v) for v in value]
        return value
    fields = type(options).model_fields
    return {k: plain(getattr(options, k)) for k, info in fields.items()
            if k not in STORED_WHEN_SET or getattr(options, k) != info.default}


# Header names whose values are credentials: shown masked, kept when the mask is sent back.
_SECRET_HEADER = re.compile(
    r"authorization|cookie|token|secret|passw|api[-_]?key|(^|[-_])key$|signature|session",
    re.IGNORECASE)


def is_secret_header(name: str) -> bool:
    return bool(_SECRET_HEADER.search(name))


def default_options(kind: str) -> dict[str, Any]:
    """The options of a monitor of `kind` given none, as they are stored."""
    model = OPTION_MODELS.get(kind)
    return {} if model is None else options_for_storage(model.model_validate({}))


@cache
def _secret_fields(model: type[BaseModel]) -> frozenset[str]:
    """The secret fields of an options model: found once per model (reading the annotations'
    text costs ~0.5 ms a monitor, most of a list of 1,000 monitors' time)."""
    return frozenset(name for name, info in model.model_fields.items()
                     if "SecretStr" in str(info.annotation))


def masked_options(options: dict[str, Any], kind: str) -> dict[str, Any]:
    """Stored options with secret values replaced by SECRET_MASK, for showing: the secret
    fields of the kind's options, and the values of headers whose names look secret."""
    model = OPTION_MODELS.get(kind)
    if model is None:
        return dict(options)
    secret_fields = _secret_fields(model)
    shown = {k: (SECRET_MASK if k in secret_fields and v is not None else v)
             for k, v in options.items()}
    headers = shown.get("headers")
    if isinstance(headers, dict):
        shown["headers"] = {name: (SECRET_MASK if is_secret_header(str(name)) else value)
                            for name, value in headers.items()}
    return shown


def _unmasked_headers(given: Any, stored: Any) -> Any:
    """Headers sent back with a masked value keep the stored value of that header."""
    if not isinstance(given, dict) or not isinstance(stored, dict):
        return given
    return {name: (stored.get(name, value) if value == SECRET_MASK else value)
            for name, value in given.items()}


class MonitorInput(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, allow_inf_nan=False)

    name: Name
    kind: Kind = "http"
    url: UrlText = Field("", validate_default=True)
    interval: int = 60
    timeout: FiniteFloat = 10.0
    public: bool = False
    options: dict[str, Any] = {}
    failures_before_down: int = 2
    successes_before_up: int = 1
    retry_interval: int | None = None
    # Free labels ("payments", "eu-west") to search and filter the dashboard by.
    tags: list[str] = []
    # Where the on-call person reads what to do: shown on the monitor's page, sent in notices.
    runbook_url: UrlText | None = None
    # How urgent its outages are (P1 critical .. P4 low): routing and quiet hours use it, and
    # the incidents it opens take it.
    severity: str = DEFAULT_SEVERITY
    # The monitors (by slug) this one needs: while one of them is down, this one's failures are
    # "blocked by" it and page nobody.
    depends_on: list[str] = []
    # Alert rules over time windows (domain.window_rules), as stored: checked and normalised.
    rules: list[dict[str, Any]] = Field(default=[], json_schema_extra={
        "items": rule_json_schema(), "maxItems": MAX_RULES})
    # This monitor's reminder interval and flap threshold; None: the global setting.
    remind_every_minutes: int | None = Field(
        default=None, json_schema_extra=override_json_schema("remind_every_minutes"))
    flap_changes: int | None = Field(
        default=None, json_schema_extra=override_json_schema("flap_changes"))
    flap_window_minutes: int | None = Field(
        default=None, json_schema_extra=override_json_schema("flap_window_minutes"))

    @model_validator(mode="before")
    @classmethod
    def _push_defaults(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        if data.get("kind") == "push":
            # A missed heartbeat is already confirmed by the grace period: down at the first miss.
            return {"failures_before_down": 1, **data}
        if "url" not in data:
            return {**data, "url": None}  # reported as missing, whatever else is wrong
        return data

    @field_validator("url", mode="before")
    @classmethod
    def _url_given(cls, url: Any, info: ValidationInfo) -> Any:
        if url is None and info.data.get("kind", "http") != "push":
            raise ValueError("this field is required")
        return "" if url is None else url

    @field_validator("url")
    @classmethod
    def _url_fits_kind(cls, url: str, info: ValidationInfo) -> str:
        kind = info.data.get("kind")
        if kind is not None and kind != "push":
            check_target(kind, url)
        return url

    @field_validator("severity", mode="before")
    @classmethod
    def _known_severity(cls, severity: Any) -> Any:
        if severity not in SEVERITIES:
            raise ValueError(f"choose {SEVERITY_CHOICES}")
        return severity

    @field_validator("rules", mode="before")
    @classmethod
    def _rules_valid(cls, rules: Any) -> Any:
        # parse_monitor_input names the rule and field (rules[1].window_minutes); this keeps a
        # model validated on its own just as strict.
        try:
            return rules_to_stored(parse_rules(rules))
        except InvalidInput as exc:
            raise ValueError("; ".join(f"{k}: {v}" for k, v in exc.errors.items())) from None

    @field_validator("remind_every_minutes", "flap_changes", "flap_window_minutes",
                     mode="before")
    @classmethod
    def _override_in_range(cls, value: Any, info: ValidationInfo) -> Any:
        assert info.field_name is not None
        return checked_override(info.field_name, value)

    @field_validator("name")
    @classmethod
    def _name_present(cls, name: str) -> str:
        if not name:
            raise ValueError("give the monitor a name")
        return name

    @field_validator("interval")
    @classmethod
    def _interval_in_range(cls, interval: int) -> int:
        if not MIN_INTERVAL_S <= interval <= MAX_INTERVAL_S:
            raise ValueError(
                f"choose an interval between {MIN_INTERVAL_S} s and {MAX_INTERVAL_S} s (1 day)"
            )
        return interval

    @field_validator("timeout")
    @classmethod
    def _timeout_positive(cls, timeout: float) -> float:
        if timeout <= 0:
            raise ValueError("the timeout must be more than 0 s")
        return timeout

    @field_validator("failures_before_down", "successes_before_up")
    @classmethod
    def _confirmations_in_range(cls, count: int) -> int:
        if not 1 <= count <= MAX_CONFIRMATIONS:
            raise ValueError(f"enter a number between 1 and {MAX_CONFIRMATIONS}")
        return count

    @field_validator("retry_interval", mode="before")
    @classmethod
    def _blank_retry_is_none(cls, value: Any) -> Any:
        return None if value in ("", 0) else value

    @field_validator("tags", "depends_on", mode="before")
    @classmethod
    def _list_from_text(cls, value: Any) -> Any:
        if value is None:
            return []
        if isinstance(value, str):  # "payments, eu-west" from a form's text field
            return [part for part in value.split(",") if part.strip()]
        return value

    @field_validator("tags")
    @classmethod
    def _tags_clean(cls, tags: list[str]) -> list[str]:
        return clean_tags(tags)

    @field_validator("depends_on")
    @classmethod
    def _parents_clean(cls, parents: list[str]) -> list[str]:
        return clean_dependencies(parents)

    @field_validator("runbook_url", mode="before")
    @classmethod
    def _blank_runbook_is_none(cls, value: Any) -> Any:
        return None if value is None or (isinstance(value, str) and not value.strip()) else value

    @field_validator("runbook_url")
    @classmethod
    def _runbook_is_web_address(cls, url: str | None) -> str | None:
        if url is not None:
            _check_http_url(url)
        return url

    @model_validator(mode="after")
    def _consistent(self) -> MonitorInput:
        if self.timeout >= self.interval:
            raise ValueError("timeout: the timeout must be shorter than the interval")
        if self.retry_interval is not None and not (
            MIN_RETRY_INTERVAL_S <= self.retry_interval <= self.interval
        ):
            raise ValueError(
                f"retry_interval: choose between {MIN_RETRY_INTERVAL_S} s and the interval "
                f"({self.interval} s), or leave it empty"
            )
        has_certificate = self.kind == "tls" or (
            self.kind == "http" and self.url.lower().startswith("https://"))
        problem = unfit_rule(rules_from_stored(self.rules), self.kind, has_certificate)
        if problem:
            raise ValueError(problem)
        return self

    def options_model(self) -> BaseModel:
        return OPTION_MODELS[self.kind].model_validate(self.options)


def clean_tags(tags: list[str]) -> list[str]:
    """Tags stripped, each one line of at most MAX_TAG_CHARS, repeats (any case) dropped."""
    kept: dict[str, str] = {}
    for raw in tags:
        tag = " ".join(raw.split())
        if not tag:
            continue
        problem = text_problem(tag, MAX_TAG_CHARS, subject="a tag")
        if problem:
            raise ValueError(problem)
        kept.setdefault(tag.casefold(), tag)
    if len(kept) > MAX_TAGS:
        raise ValueError(f"give at most {MAX_TAGS} tags")
    return list(kept.values())


def _messages(exc: ValidationError, prefix: str = "") -> dict[str, str]:
    errors: dict[str, str] = {}
    for error in exc.errors():
        loc = [str(part) for part in error["loc"]]
        message = str(error["msg"]).removeprefix("Value error, ")
        field = ".".join(loc[:1] if not prefix else loc)
        if not loc and ": " in message:  # model-level rule naming its field
            field, message = message.split(": ", 1)
        if error["type"] == "missing":
            message = "this field is required"
        elif error["type"] == "extra_forbidden":
            message = "unknown field"
        elif error["type"] in ("int_parsing", "float_parsing", "int_from_float"):
            message = "enter a number"
        elif error["type"] == "finite_number":
            message = "enter a finite number (not NaN or Infinity)"
        elif error["type"] in ("bool_parsing", "bool_type"):
            message = "choose true or false"
        elif error["type"] == "literal_error" and field == "kind":
            message = f"choose one of {', '.join(KINDS)}"
        key = f"{prefix}{field}" if field else (prefix.rstrip(".") or "monitor")
        errors.setdefault(key, message)
    return errors


def parse_monitor_input(data: dict[str, Any]) -> MonitorInput:
    """Validate raw input (options included) or raise InvalidInput, one message per bad field."""
    if not isinstance(data, dict):
        raise InvalidInput({"monitor": "send the monitor as an object of fields"})
    if not isinstance(data.get("options", {}), dict):
        raise InvalidInput({"options": "send the options as an object"})
    errors: dict[str, str] = {}
    if "rules" in data:  # checked first, so each error names its rule and field
        try:
            parse_rules(data["rules"])
        except InvalidInput as exc:
            errors.update(exc.errors)
            data = {**data, "rules": []}
    try:
        spec = MonitorInput.model_validate(data)
    except ValidationError as exc:
        errors.update(_messages(exc))
    kind = data.get("kind", "http")
    if isinstance(kind, str) and kind in OPTION_MODELS:
        try:
            options = OPTION_MODELS[kind].model_validate(data.get("options") or {})
        except ValidationError as exc:
            errors.update(_messages(exc, prefix="options."))
    if errors:
        raise InvalidInput(errors)
    return spec.model_copy(update={"options": options_for_storage(options)})


def parse_monitor_update(current: MonitorInput, changes: dict[str, Any]) -> MonitorInput:
    """Apply a partial update and validate the result as a whole.

    Options given are merged into the stored ones; a masked secret sent back keeps the stored
    value. Changing the kind starts from that kind's defaults unless options are given.
    """
    merged = {**current.model_dump(), **changes}
    if "kind" in changes and changes["kind"] != current.kind and "options" not in changes:
        merged["options"] = {}
    elif isinstance(changes.get("options"), dict):
        given = {k: v for k, v in changes["options"].items() if v != SECRET_MASK}
        base = current.options if merged.get("kind") == current.kind else {}
        if "headers" in given:
            given["headers"] = _unmasked_headers(given["headers"], base.get("headers"))
        merged["options"] = {**base, **given}
    return parse_monitor_input(merged)
