"""The certificate stores a probe trusts by default, and which of them trusted a chain.

By default a probe trusts what curl and Python's ssl trust: OpenSSL's default verify paths, the
system store, where SSL_CERT_FILE and SSL_CERT_DIR replace the file or the directory. certifi's
bundle is used only when the system has no store at all (a slim container image).

Which store trusted a chain is told by the authority that issued the server's certificate:
the first store (the monitor's bundle first) holding a certificate of that name. A chain whose
issuer no store names (an intermediate the server sent) is credited to the default store.
Each store's names are read once per process, at the first check that asks.
"""

from __future__ import annotations

import functools
import os
import ssl
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import certifi
from cryptography import x509

MONITOR_BUNDLE = "the monitor's CA bundle"
SYSTEM = "system"
CERTIFI = "certifi"
FILE_ENV, DIR_ENV = "SSL_CERT_FILE", "SSL_CERT_DIR"
_MAX_STORE_FILE_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class DefaultStore:
    """Where the default trust comes from: OpenSSL's paths, or certifi's bundle instead."""

    cafile: str | None
    capath: str | None
    use_certifi: bool

    def label_of_file(self) -> str:
        return CERTIFI if self.use_certifi else FILE_ENV if os.environ.get(FILE_ENV) else SYSTEM

    def label_of_dir(self) -> str:
        return DIR_ENV if os.environ.get(DIR_ENV) else SYSTEM

    @property
    def label(self) -> str:
        """The name of the default store as a whole (the file's, when only one is set)."""
        if self.use_certifi:
            return CERTIFI
        if self.cafile is None and self.capath is not None:
            return self.label_of_dir()
        return self.label_of_file()


def _has_certificates(directory: str | None) -> bool:
    if not directory or not os.path.isdir(directory):
        return False
    with os.scandir(directory) as entries:
        return any(entry.is_file() for entry in entries)


def default_store() -> DefaultStore:
    """OpenSSL's default paths (environment included) as they are now, or certifi's bundle."""
    return _default_store(os.environ.get(FILE_ENV), os.environ.get(DIR_ENV))


@functools.lru_cache(maxsize=8)
def _default_store(_file_env: str | None, _dir_env: str | None) -> DefaultStore:
    # Looked at once per value of the environment variables (they name the paths).
    paths = ssl.get_default_verify_paths()
    cafile = paths.cafile if paths.cafile and os.path.isfile(paths.cafile) else None
    capath = paths.capath if _has_certificates(paths.capath) else None
    if cafile is None and capath is None:
        return DefaultStore(certifi.where(), None, use_certifi=True)
    return DefaultStore(cafile, capath, use_certifi=False)


def default_context(store: DefaultStore) -> ssl.SSLContext:
    """A client context (verification and host name checks on) trusting `store`."""
    return ssl.create_default_context(cafile=store.cafile if store.use_certifi else None)


def _subjects(pem: bytes) -> set[str]:
    try:
        with warnings.catch_warnings():  # old roots with odd serial numbers are still roots
            warnings.simplefilter("ignore")
            certificates = x509.load_pem_x509_certificates(pem)
    except ValueError:
        return set()
    return {certificate.subject.rfc4514_string() for certificate in certificates}


def _read(path: Path) -> bytes:
    try:
        if path.is_file() and path.stat().st_size <= _MAX_STORE_FILE_BYTES:
            return path.read_bytes()
    except OSError:
        pass
    return b""


def _file_subjects(cafile: str | None) -> set[str]:
    return _subjects(_read(Path(cafile))) if cafile else set()


def _dir_subjects(capath: str | None) -> set[str]:
    if not capath:
        return set()
    names: set[str] = set()
    for path in sorted(Path(capath).iterdir()):
        names |= _subjects(_read(path))
    return names


@functools.lru_cache(maxsize=8)
def _store_index(store: DefaultStore, file_label: str, dir_label: str) -> Mapping[str, str]:
    index: dict[str, str] = {}
    for subject in _dir_subjects(store.capath):
        index[subject] = dir_label
    for subject in _file_subjects(store.cafile):  # OpenSSL looks in the file first
        index[subject] = file_label
    return index


@dataclass(frozen=True, slots=True)
class TrustedBy:
    """Tells which store trusted a chain, from the name of its leaf's issuer."""

    store: DefaultStore
    bundle_subjects: frozenset[str]

    def label(self, issuer: str) -> str:
        if issuer in self.bundle_subjects:
            return MONITOR_BUNDLE
        index = _store_index(self.store, self.store.label_of_file(), self.store.label_of_dir())
        return index.get(issuer, self.store.label)


def trusted_by(store: DefaultStore, bundle: str | None) -> TrustedBy:
    return TrustedBy(store, frozenset(_subjects(bundle.encode()) if bundle else ()))


__all__ = [
    "CERTIFI",
    "MONITOR_BUNDLE",
    "SYSTEM",
    "DefaultStore",
    "TrustedBy",
    "default_context",
    "default_store",
    "trusted_by",
]
