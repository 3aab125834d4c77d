"""Options of each check kind, validated the same way for the form, the REST API and YAML.

Validators raise ValueError with a sentence meant to be shown next to the field. Rules that
involve two fields prefix their message with the field to show it on ("field: message"), the
convention `domain.monitor_input` uses to turn a ValidationError into {"errors": {field: message}}.
"""

from __future__ import annotations

import ipaddress
import json
import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, SecretStr, field_validator, model_validator

from domain.certificates import (
    CERT_CRITICAL_DAYS,
    CERT_WARNING_DAYS,
    check_ca_bundle,
    check_client_certificate,
    check_client_key,
    key_matches_certificate,
)
from domain.limits import (
    MAX_HEADER_CHARS,
    MAX_HEADERS,
    MAX_LIST_ITEMS,
    FiniteFloat,
    MultiLineText,
    PemText,
    SecretLine,
    SecretPem,
    SingleLineText,
    load_json,
    parse_port,
    text_problem,
)

HTTP_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
JSON_OPERATORS = ("==", "!=", "<", ">", "contains")
DNS_RECORD_TYPES = ("A", "AAAA", "CNAME", "MX", "TXT", "NS")
# Which addresses of a name are tried: all of them (IPv6 and IPv4 in turn), or one family only.
IP_VERSIONS = ("any", "ipv4", "ipv6")
IpVersion = Literal["any", "ipv4", "ipv6"]
MAX_REDIRECTS_LIMIT = 20
MAX_DEGRADED_ABOVE_MS = 86_400_000.0  # a day: the longest interval

_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_STATUS_RANGE = re.compile(r"^(\d{3})(?:\s*-\s*(\d{3}))?$")
# `status`, `checks[0].ok`, `data.items[2][0]`: names separated by dots, each with optional indexes.
_JSON_PATH = re.compile(r"^[A-Za-z_$][\w$-]*(\[\d+\])*(\.[A-Za-z_$][\w$-]*(\[\d+\])*)*$")
_JSON_PATH_STEP = re.compile(r"([A-Za-z_$][\w$-]*)|\[(\d+)\]")


def _degraded_threshold(threshold: float | None) -> float | None:
    if threshold is not None and not 0 < threshold <= MAX_DEGRADED_ABOVE_MS:
        raise ValueError(
            f"the threshold must be more than 0 ms and at most {MAX_DEGRADED_ABOVE_MS:,.0f} ms")
    return threshold


def _upper_choice(value: object, choices: tuple[str, ...]) -> object:
    """Accept any letter case; refuse anything that is not one of `choices`."""
    if isinstance(value, str):
        value = value.strip().upper()
        if value not in choices:
            raise ValueError(f"choose one of {', '.join(choices)}")
    return value


class _Options(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True,
                              allow_inf_nan=False)


class CertThresholds(_Options):
    cert_warning_days: int = CERT_WARNING_DAYS
    cert_critical_days: int = CERT_CRITICAL_DAYS

    @field_validator("cert_warning_days", "cert_critical_days")
    @classmethod
    def _days_in_range(cls, days: int) -> int:
        if not 0 <= days <= 3650:
            raise ValueError("enter a number of days between 0 and 3650")
        return days

    @model_validator(mode="after")
    def _critical_not_above_warning(self) -> CertThresholds:
        if self.cert_critical_days > self.cert_warning_days:
            raise ValueError(
                "cert_critical_days: the critical threshold must not be above the warning "
                f"threshold ({self.cert_warning_days} days)"
            )
        return self


class AddressChoice(_Options):
    ip_version: IpVersion = "any"

    @field_validator("ip_version", mode="before")
    @classmethod
    def _version_lower(cls, version: object) -> object:
        if isinstance(version, int) and not isinstance(version, bool):
            version = f"ipv{version}"  # 4 or 6 in a monitors file
        if isinstance(version, str):
            version = version.strip().lower()
            if version not in IP_VERSIONS:
                raise ValueError(f"choose one of {', '.join(IP_VERSIONS)}")
        return version


# Stored only when set: a monitor without them keeps the options it always had.
STORED_WHEN_SET = ("ca_bundle", "client_certificate", "client_key", "ip_version")


class TrustOptions(CertThresholds, AddressChoice):
    """Whom a TLS connection trusts beyond the default store, and who it says it is.

    The CA bundle adds authorities (a company's private CA) to the system store; the client
    certificate and key answer a server that demands one (mutual TLS). The key is a secret:
    sealed at rest, masked wherever options are shown.
    """

    ca_bundle: PemText | None = None
    client_certificate: PemText | None = None
    client_key: SecretPem | None = None

    @field_validator("ca_bundle", "client_certificate", mode="before")
    @classmethod
    def _blank_pem_is_none(cls, text: object) -> object:
        return None if isinstance(text, str) and not text.strip() else text

    @field_validator("client_key", mode="before")
    @classmethod
    def _blank_key_is_none(cls, text: object) -> object:
        raw = text.get_secret_value() if isinstance(text, SecretStr) else text
        return None if isinstance(raw, str) and not raw.strip() else text

    @field_validator("ca_bundle")
    @classmethod
    def _bundle_is_pem(cls, text: str | None) -> str | None:
        return check_ca_bundle(text) if text is not None else None

    @field_validator("client_certificate")
    @classmethod
    def _certificate_is_pem(cls, text: str | None) -> str | None:
        return check_client_certificate(text) if text is not None else None

    @field_validator("client_key")
    @classmethod
    def _key_is_pem(cls, key: SecretStr | None) -> SecretStr | None:
        if key is not None:
            check_client_key(key.get_secret_value())
        return key

    @model_validator(mode="after")
    def _certificate_with_its_key(self) -> TrustOptions:
        certificate, key = self.client_certificate, self.client_key
        if certificate is not None and key is None:
            raise ValueError("client_key: give the private key of the client certificate")
        if key is not None and certificate is None:
            raise ValueError("client_certificate: give the certificate that goes with the key")
        if certificate is not None and key is not None and not key_matches_certificate(
                certificate, key.get_secret_value()):
            raise ValueError("client_key: this key does not belong to the client certificate "
                             "(paste the key it was issued for)")
        return self


class JsonAssertion(_Options):
    """`path op expected`, e.g. `checks[0].ok == true`.

    `expected` is read as JSON when it parses (`true`, `3`, `"ok"`), else as a plain string,
    so that `ok` and `"ok"` mean the same thing to someone filling in a form.
    """

    path: SingleLineText
    op: Literal["==", "!=", "<", ">", "contains"] = "=="
    expected: SingleLineText

    @field_validator("path")
    @classmethod
    def _path_well_formed(cls, path: str) -> str:
        if not _JSON_PATH.fullmatch(path):
            raise ValueError("write the path as names and indexes, like status or checks[0].ok")
        return path

    @property
    def expected_value(self) -> object:
        try:
            return load_json(self.expected)  # bounded: a deep `[[[[…` must not recurse
        except ValueError:
            return self.expected

    @property
    def steps(self) -> list[str | int]:
        return [name if name else int(index) for name, index in _JSON_PATH_STEP.findall(self.path)]

    def describe(self) -> str:
        return f"{self.path} {self.op} {show_json_value(self.expected_value)}"


class HttpOptions(TrustOptions):
    method: Literal["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"] = "GET"
    headers: dict[str, str] = {}
    body: MultiLineText | None = None
    basic_auth_user: SingleLineText | None = None
    basic_auth_password: SecretLine | None = None
    bearer_token: SecretLine | None = None
    accepted_status_codes: list[str] = ["200-299"]
    max_redirects: int = 5
    # Custom headers, credentials and cookies go only to the monitored URL's own origin.
    keep_headers_on_redirect: bool = False
    verify_tls: bool = True
    keyword: SingleLineText | None = None
    keyword_absent: bool = False
    json_assertion: JsonAssertion | None = None
    degraded_above_ms: FiniteFloat | None = None

    @field_validator("method", mode="before")
    @classmethod
    def _method_upper(cls, method: object) -> object:
        return _upper_choice(method, HTTP_METHODS)

    @field_validator("headers")
    @classmethod
    def _headers_valid(cls, headers: dict[str, str]) -> dict[str, str]:
        if len(headers) > MAX_HEADERS:
            raise ValueError(f"send at most {MAX_HEADERS} headers")
        for name, value in headers.items():
            if len(name) > MAX_HEADER_CHARS or not _HEADER_NAME.fullmatch(name):
                raise ValueError(f"'{name[:40]}' is not a valid header name")
            # HTTP allows a tab inside a value; nothing else invisible, and never a line break.
            problem = text_problem(value.replace("\t", " "), MAX_HEADER_CHARS,
                                   subject=f"the value of header '{name[:40]}'")
            if problem:
                raise ValueError(problem)
        return headers

    @field_validator("accepted_status_codes", mode="before")
    @classmethod
    def _codes_from_text(cls, codes: object) -> object:
        # Forms send "200-299, 301"; the API may send [200, "300-399"].
        if isinstance(codes, str):
            codes = [part for part in re.split(r"[,\s]+", re.sub(r"\s*-\s*", "-", codes)) if part]
        if isinstance(codes, list):
            # Numbers become text; anything else is left for the list[str] check to refuse.
            return [str(code).strip() if isinstance(code, int | str) and not isinstance(
                code, bool) else code for code in codes]
        return codes

    @field_validator("accepted_status_codes")
    @classmethod
    def _codes_valid(cls, codes: list[str]) -> list[str]:
        if not codes:
            raise ValueError("accept at least one status code, like 200-299")
        if len(codes) > MAX_LIST_ITEMS:
            raise ValueError(f"give at most {MAX_LIST_ITEMS} status codes or ranges")
        for code in codes:
            match = _STATUS_RANGE.fullmatch(code)
            if not match:
                raise ValueError(
                    f"'{code[:20]}' is neither a status code nor a range like 200-299")
            low, high = int(match[1]), int(match[2] or match[1])
            if not (100 <= low <= 599 and 100 <= high <= 599):
                raise ValueError(f"'{code}': status codes go from 100 to 599")
            if low > high:
                raise ValueError(f"'{code}': the range starts above where it ends")
        return codes

    @field_validator("max_redirects")
    @classmethod
    def _redirects_in_range(cls, count: int) -> int:
        if not 0 <= count <= MAX_REDIRECTS_LIMIT:
            raise ValueError(f"enter a number between 0 (don't follow) and {MAX_REDIRECTS_LIMIT}")
        return count

    @field_validator("keyword")
    @classmethod
    def _keyword_not_blank(cls, keyword: str | None) -> str | None:
        return keyword or None

    @field_validator("degraded_above_ms")
    @classmethod
    def _threshold_positive(cls, threshold: float | None) -> float | None:
        return _degraded_threshold(threshold)

    @model_validator(mode="after")
    def _auth_complete(self) -> HttpOptions:
        if self.basic_auth_password is not None and not self.basic_auth_user:
            raise ValueError("basic_auth_user: give the user name that goes with the password")
        if self.basic_auth_user and self.bearer_token is not None:
            raise ValueError("bearer_token: use either basic auth or a bearer token, not both")
        if self.keyword_absent and not self.keyword:
            raise ValueError("keyword: give the keyword that must be absent")
        return self

    def accepts_status(self, status: int) -> bool:
        for code in self.accepted_status_codes:
            match = _STATUS_RANGE.match(code)
            if match and int(match[1]) <= status <= int(match[2] or match[1]):
                return True
        return False


class TlsOptions(TrustOptions):
    pass


class TcpOptions(AddressChoice):
    degraded_above_ms: FiniteFloat | None = None

    @field_validator("degraded_above_ms")
    @classmethod
    def _threshold_positive(cls, threshold: float | None) -> float | None:
        return _degraded_threshold(threshold)


class DnsOptions(_Options):
    record_type: Literal["A", "AAAA", "CNAME", "MX", "TXT", "NS"] = "A"
    resolver: SingleLineText | None = None  # "9.9.9.9", "9.9.9.9:5353" or "[2620:fe::fe]:53"
    expected: SingleLineText | None = None

    @field_validator("record_type", mode="before")
    @classmethod
    def _type_upper(cls, record_type: object) -> object:
        return _upper_choice(record_type, DNS_RECORD_TYPES)

    @field_validator("resolver")
    @classmethod
    def _resolver_is_address(cls, resolver: str | None) -> str | None:
        if not resolver:
            return None
        split_resolver_address(resolver)  # raises ValueError with a user-facing message
        return resolver

    @field_validator("expected")
    @classmethod
    def _expected_not_blank(cls, expected: str | None) -> str | None:
        return expected or None


def show_json_value(value: object) -> str:
    """Strings quoted the way people write them in reasons ('ok'), everything else as JSON."""
    if isinstance(value, str):
        return repr(value)
    return json.dumps(value, default=str)


def split_resolver_address(resolver: str) -> tuple[str, int]:
    """'1.2.3.4' -> ('1.2.3.4', 53); '1.2.3.4:5353', '[::1]:53' and '::1' work too."""
    host, port = resolver, "53"
    if resolver.startswith("["):
        host, _, rest = resolver[1:].partition("]")
        port = rest.removeprefix(":") or "53"
    elif resolver.count(":") == 1:
        host, port = resolver.split(":")
    try:
        ipaddress.ip_address(host)
    except ValueError:
        raise ValueError(
            f"'{resolver[:60]}' is not an IP address: give the resolver as 9.9.9.9 or 9.9.9.9:53"
        ) from None
    return host, parse_port(port)
