"""Connect to the first of several addresses that answers (RFC 8305, "Happy Eyeballs").

Attempts start one after another, STAGGER_S apart, or at once when the previous one fails; the
first connection made wins and every other attempt is cancelled (its socket closed). The caller
bounds the whole race with the monitor's timeout. `Attempts` keeps what each address did, so a
failure (or a timeout) names every address tried and why.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

from checks.addresses import ip_version_of
from checks.probe_failure import ProbeFailure, describe_os_error

Connection = TypeVar("Connection")
STAGGER_S = 0.25  # RFC 8305's recommended "Connection Attempt Delay"
NO_ANSWER = "no answer yet"


class Attempts:
    """Each address tried, with why it failed (NO_ANSWER while it is still trying), and the
    one that answered."""

    def __init__(self) -> None:
        self.outcomes: dict[str, str] = {}
        self.answered: str | None = None

    def describe(self) -> str:
        return "; ".join(f"{address}: {why}" for address, why in self.outcomes.items())

    def reason(self, fallback: str) -> str:
        """`fallback` (e.g. "timed out after 5 s") with each address tried, when more than one
        was and none answered (a timeout after connecting is not the addresses' doing)."""
        if self.answered is not None or len(self.outcomes) < 2:
            return fallback
        return f"{fallback} (tried {self.describe()})"


async def _connect(address: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ip_version_of(address) == 6 else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setblocking(False)
        await asyncio.get_running_loop().sock_connect(sock, (address, port))
    except BaseException:
        sock.close()
        raise
    return sock


def _close_if_connected(task: asyncio.Task[socket.socket]) -> None:
    if not task.cancelled() and task.exception() is None:
        task.result().close()


async def connect_first(
    addresses: Sequence[str],
    port: int,
    connect: Callable[[str], Awaitable[Connection]],
    adopt: Callable[[socket.socket], Awaitable[Connection]],
    attempts: Attempts | None = None,
) -> tuple[Connection, str]:
    """A connection to the first of `addresses` to answer, and that address.

    One address is connected to with `connect(address)` (the loop's own connect, as before
    several were tried); of several, the winning socket is handed to `adopt`. Raises
    ProbeFailure naming each address and why it failed when none connects.
    """
    attempts = attempts if attempts is not None else Attempts()
    if len(addresses) == 1:  # the common case, without tasks
        address = addresses[0]
        attempts.outcomes[address] = NO_ANSWER
        try:
            connection = await connect(address)
        except OSError as exc:
            attempts.outcomes[address] = describe_os_error(exc)
            raise
        del attempts.outcomes[address]
        attempts.answered = address
        return connection, address
    sock, address = await _race(list(addresses), port, attempts)
    try:
        return await adopt(sock), address
    except BaseException:
        sock.close()
        raise


async def _race(addresses: list[str], port: int, attempts: Attempts) -> tuple[socket.socket, str]:
    pending: dict[asyncio.Task[socket.socket], str] = {}
    waiting = list(addresses)
    try:
        while waiting or pending:
            if waiting:
                address = waiting.pop(0)
                attempts.outcomes[address] = NO_ANSWER
                pending[asyncio.ensure_future(_connect(address, port))] = address
            done, _ = await asyncio.wait(
                pending, timeout=STAGGER_S if waiting else None,
                return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                address = pending.pop(task)
                error = task.exception()
                if error is None:
                    del attempts.outcomes[address]
                    attempts.answered = address
                    return task.result(), address
                attempts.outcomes[address] = (
                    describe_os_error(error) if isinstance(error, OSError) else repr(error))
    finally:
        for task in pending:
            task.cancel()
            task.add_done_callback(_close_if_connected)
    raise ProbeFailure(f"no address connected ({attempts.describe()})")


__all__ = ["NO_ANSWER", "STAGGER_S", "Attempts", "connect_first"]
