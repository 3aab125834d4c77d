"""The sign-in rules without a server: lockout per address, argon2id hashes, hash-password."""

import logging
import subprocess
import sys
from pathlib import Path

from pydantic import SecretStr

from access.lockout import Lockout, locked_message
from access.passwords import hash_password, password_matches, warn_if_plain
from config.settings import Settings

ROOT = Path(__file__).resolve().parent.parent


def test_five_failures_within_five_minutes_lock_the_address(caplog):
    lockout = Lockout()
    caplog.set_level(logging.WARNING, logger="upwatch")
    for attempt in range(4):
        assert lockout.failed("203.0.113.7", now=1000.0 + attempt) is None
    assert lockout.locked_until("203.0.113.7", now=1004.0) is None
    until = lockout.failed("203.0.113.7", now=1004.0)
    assert until == 1004.0 + 15 * 60
    assert lockout.locked_until("203.0.113.7", now=1005.0) == until
    assert lockout.locked_until("198.51.100.1", now=1005.0) is None  # another address
    assert lockout.locked_until("203.0.113.7", now=until) is None  # over after 15 minutes
    assert "203.0.113.7" in caplog.text and "locked out" in caplog.text


def test_failures_older_than_five_minutes_do_not_count():
    lockout = Lockout()
    for attempt in range(4):
        lockout.failed("a", now=float(attempt))
    assert lockout.failed("a", now=301.0) is None


def test_a_success_clears_the_count():
    lockout = Lockout()
    for attempt in range(4):
        lockout.failed("a", now=float(attempt))
    lockout.succeeded("a")
    assert lockout.failed("a", now=5.0) is None


def test_the_locked_message_says_until_when():
    # 00:16:40 UTC, rounded up to the minute
    assert locked_message(1000.0) == "Too many wrong passwords. Try again after 00:17 UTC."


def _settings(password: str) -> Settings:
    return Settings(admin_password=SecretStr(password))


def test_an_argon2id_hash_is_accepted_and_checked():
    hashed = hash_password("correct horse")
    assert hashed.startswith("$argon2id$")
    assert password_matches("correct horse", _settings(hashed))
    assert not password_matches("wrong", _settings(hashed))
    assert not password_matches(hashed, _settings(hashed))


def test_a_plain_password_still_works_and_warns(caplog):
    caplog.set_level(logging.WARNING, logger="upwatch")
    assert password_matches("plain one", _settings("plain one"))
    assert warn_if_plain(_settings("plain one"))
    assert "upwatch hash-password" in caplog.text and "plain one" not in caplog.text
    assert not warn_if_plain(_settings(hash_password("x")))


def test_hash_password_prints_a_hash_of_the_line_on_stdin():
    done = subprocess.run([sys.executable, "-m", "composition.cli", "hash-password"],
                          input="s3cret words\n", capture_output=True, text=True, cwd=ROOT,
                          timeout=60, check=True)
    hashed = done.stdout.strip()
    assert hashed.startswith("$argon2id$") and "s3cret" not in done.stdout
    assert password_matches("s3cret words", _settings(hashed))


def test_hash_password_refuses_an_empty_line():
    done = subprocess.run([sys.executable, "-m", "composition.cli", "hash-password"],
                          input="\n", capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert done.returncode == 1 and not done.stdout
