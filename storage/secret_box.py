"""Sealing and opening the secrets stored in the database (Fernet, MultiFernet for rotation).

What is sealed, and how it is marked so that values written in plain by older versions still read:
- in a monitor's options: the options that are SecretStr fields of a check kind's options model
  (read from the models, so a new secret option is sealed without a change here), and the value
  of every custom header (API keys travel in headers; which headers carry one cannot be told).
  A sealed value is `{"$enc": "<token>"}` in place of the string;
- each value of a channel's secrets, marked the same way;
- a single text value (the link-signing key): `$enc:<token>`.
Empty strings are left as they are: there is nothing to hide, and the forms read "" as "no
secret stored".

Which box (keys) a value is sealed with belongs to the engine: `use_box` registers one per
SQLAlchemy dialect instance (each engine has its own), and the column types in
storage/encrypted_types.py look it up only when a value needs it, so rows without secrets cost no
crypto and an engine that never meets a secret needs no box.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Mapping, Sequence
from typing import Any, get_args

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from pydantic import SecretStr
from sqlalchemy.engine import Dialect

from config.secret_keys import fernet_key
from domain.monitor_input import OPTION_MODELS

SEALED = "$enc"
SEALED_TEXT_PREFIX = "$enc:"


class SecretsUnreadable(RuntimeError):
    """A stored secret does not decrypt with any key given: the message says what to do."""


class SecretBox:
    """Seals with the first key, opens with any of them."""

    def __init__(self, keys: Sequence[str]) -> None:
        if not keys:
            raise ValueError("a secret box needs at least one key")
        self._fernet = MultiFernet([Fernet(fernet_key(key)) for key in keys])

    def seal(self, plain: str) -> str:
        return self._fernet.encrypt(plain.encode()).decode("ascii")

    def open(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode("ascii")).decode()
        except (InvalidToken, UnicodeError):
            raise SecretsUnreadable(
                "A secret stored in the database does not decrypt with the keys given: set "
                "UPWATCH_SECRET_KEY to the key it was encrypted with (README, \"Secrets\")."
            ) from None


_boxes: weakref.WeakKeyDictionary[Dialect, SecretBox] = weakref.WeakKeyDictionary()


def use_box(dialect: Dialect, box: SecretBox) -> None:
    """Seal and open the secrets of the engine that owns `dialect` with `box`."""
    _boxes[dialect] = box


def box_for(dialect: Dialect) -> SecretBox:
    box = _boxes.get(dialect)
    if box is None:
        raise RuntimeError("this engine has no secret box: make engines with storage.db.get_engine")
    return box


def _is_secret(annotation: Any) -> bool:
    return annotation is SecretStr or any(_is_secret(arg) for arg in get_args(annotation))


# The options whose values are secrets, whatever the kind: each model forbids unknown options, so
# a name is only ever present for a kind that has it.
SECRET_OPTIONS = tuple(sorted({
    name for model in OPTION_MODELS.values()
    for name, field in model.model_fields.items() if _is_secret(field.annotation)
}))
HEADER_OPTIONS = "headers"


def _sealed_token(value: object) -> str | None:
    if type(value) is dict and len(value) == 1:
        token = value.get(SEALED)
        if isinstance(token, str):
            return token
    return None


def _seal_value(value: object, box: SecretBox) -> object:
    return {SEALED: box.seal(value)} if isinstance(value, str) and value else value


def _open_value(value: object, box: SecretBox) -> object:
    token = _sealed_token(value)
    return box.open(token) if token is not None else value


def has_plain_strings(values: Mapping[str, Any]) -> bool:
    return any(isinstance(value, str) and value for value in values.values())


def seal_strings(values: Mapping[str, Any], box: SecretBox) -> dict[str, Any]:
    """Every non-empty string value sealed (a channel's secrets)."""
    return {name: _seal_value(value, box) for name, value in values.items()}


def has_sealed_strings(values: Mapping[str, Any]) -> bool:
    return any(_sealed_token(value) is not None for value in values.values())


def open_strings(values: Mapping[str, Any], box: SecretBox) -> dict[str, Any]:
    return {name: _open_value(value, box) for name, value in values.items()}


def has_secret_options(options: Mapping[str, Any]) -> bool:
    """Whether a monitor's options hold a secret (plain or sealed): a few look-ups, no crypto."""
    return bool(options.get(HEADER_OPTIONS)) or any(options.get(name) for name in SECRET_OPTIONS)


def _each_secret(options: Mapping[str, Any], box: SecretBox,
                 value: Callable[[Any, SecretBox], Any],
                 strings: Callable[[Mapping[str, Any], SecretBox], dict[str, Any]],
                 ) -> dict[str, Any]:
    """A monitor's options with `value` applied to each secret option and `strings` to the
    headers: sealing and opening walk the same places."""
    changed = dict(options)
    for name in SECRET_OPTIONS:
        if name in changed:
            changed[name] = value(changed[name], box)
    headers = changed.get(HEADER_OPTIONS)
    if isinstance(headers, dict):
        changed[HEADER_OPTIONS] = strings(headers, box)
    return changed


def seal_options(options: Mapping[str, Any], box: SecretBox) -> dict[str, Any]:
    """A monitor's options with its secret values and header values sealed."""
    return _each_secret(options, box, _seal_value, seal_strings)


def has_sealed_options(options: Mapping[str, Any]) -> bool:
    """The test run on every monitor read: a few look-ups, no crypto (a plain loop: this runs
    for each of thousands of monitors whenever the engine re-reads them)."""
    for name in SECRET_OPTIONS:
        if type(options.get(name)) is dict:
            return True
    headers = options.get(HEADER_OPTIONS)
    return bool(headers) and isinstance(headers, dict) and has_sealed_strings(headers)


def open_options(options: Mapping[str, Any], box: SecretBox) -> dict[str, Any]:
    """A monitor's options with every sealed value opened (plain ones kept as they are)."""
    return _each_secret(options, box, _open_value, open_strings)


def is_sealed_text(value: str) -> bool:
    return value.startswith(SEALED_TEXT_PREFIX)


def seal_text(value: str, box: SecretBox) -> str:
    if not value or is_sealed_text(value):
        return value
    return SEALED_TEXT_PREFIX + box.seal(value)


def open_text(value: str, box: SecretBox) -> str:
    """A value written in plain by a version before sealing reads as it is."""
    return box.open(value.removeprefix(SEALED_TEXT_PREFIX)) if is_sealed_text(value) else value

