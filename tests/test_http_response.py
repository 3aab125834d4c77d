"""The response parser on its own: bytes are handed to `Exchange` as asyncio would hand them,
in any pieces, with a transport that records pausing. No sockets: what the transport does with
a parsed response is tests/test_http_transport.py's and tests/test_http_probe.py's."""

from __future__ import annotations

import asyncio

import httptools
import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from checks.http_response import (
    INCOMPLETE_BODY,
    MAX_HEADER_BYTES,
    NO_RESPONSE,
    READ_AHEAD_BYTES,
    Exchange,
    PhaseMarks,
    ResponseHeadersTooLarge,
)


class RecordingTransport:
    def __init__(self) -> None:
        self.calls: list[str] = []

    def pause_reading(self) -> None:
        self.calls.append("pause")

    def resume_reading(self) -> None:
        self.calls.append("resume")


def exchange(head_only: bool = False) -> tuple[Exchange, RecordingTransport]:
    parsed = Exchange(PhaseMarks(), head_only)
    transport = RecordingTransport()
    parsed.connection_made(transport)  # type: ignore[arg-type]
    return parsed, transport


def feed(parsed: Exchange, *pieces: bytes) -> Exchange:
    for piece in pieces:
        parsed.data_received(piece)
    return parsed


SIMPLE = b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 5\r\nX-Id: 7\r\n\r\nhello"
CHUNKED = (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
           b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n")


def summary(parsed: Exchange) -> tuple[object, ...]:
    return (parsed.status_code, parsed.reason, parsed.http_version, parsed.headers,
            bytes(parsed.body), parsed.head_done, parsed.body_done, parsed.framed, parsed.invalid)


def test_a_response_in_one_piece() -> None:
    parsed = feed(exchange()[0], SIMPLE)
    assert summary(parsed) == (
        503, b"Service Unavailable", b"HTTP/1.1",
        [(b"Content-Length", b"5"), (b"X-Id", b"7")], b"hello", True, True, True, None)
    assert parsed.header_bytes == 0  # the read carried body: none of it counts as head
    head_alone = feed(exchange()[0], SIMPLE[:-5])
    assert head_alone.header_bytes == len(SIMPLE) - 5


def test_a_chunked_response_and_an_http_1_0_one() -> None:
    assert summary(feed(exchange()[0], CHUNKED))[4:] == (b"hello world", True, True, True, None)
    old = feed(exchange()[0], b"HTTP/1.0 200 OK\r\n\r\nall of it")
    assert (old.http_version, old.framed, old.head_done, old.body_done) == (
        b"HTTP/1.0", False, True, False)  # unframed: the body ends at EOF
    assert bytes(old.body) == b"all of it"


@given(st.sampled_from([SIMPLE, CHUNKED]), st.lists(st.integers(1, 40), max_size=40))
def test_any_split_of_the_bytes_parses_the_same(response: bytes, cuts: list[int]) -> None:
    whole = feed(exchange()[0], response)
    pieces, at = [], 0
    for cut in cuts:
        pieces.append(response[at:at + cut])
        at += cut
    pieces.append(response[at:])
    split = feed(exchange()[0], *[p for p in pieces if p])
    assert summary(split) == summary(whole)


@pytest.mark.parametrize(
    ("header", "framed"),
    [(b"Content-Length: 0", True), (b"content-length: 3", True),
     (b"Transfer-Encoding: chunked", True), (b"transfer-encoding: gzip, CHUNKED", True),
     (b"Transfer-Encoding: gzip", False), (b"X-Content-Length: 3", False)],
)
def test_framed_means_the_body_has_an_end_short_of_eof(header: bytes, framed: bool) -> None:
    parsed = feed(exchange()[0], b"HTTP/1.1 200 OK\r\n" + header + b"\r\n\r\n")
    assert parsed.framed is framed


@pytest.mark.parametrize("interim", [b"100 Continue", b"103 Early Hints\r\nLink: </a.css>"])
def test_interim_answers_come_before_the_real_one(interim: bytes) -> None:
    parsed, _ = exchange()
    feed(parsed, b"HTTP/1.1 " + interim + b"\r\n\r\n")
    assert (parsed.status_code, parsed.head_done, parsed.body_done) == (0, False, False)
    assert parsed.informational is False  # the interim message is over
    feed(parsed, b"HTTP/1.0 404 Not Found\r\nContent-Length: 2\r\n\r\nno")
    assert summary(parsed) == (404, b"Not Found", b"HTTP/1.0", [(b"Content-Length", b"2")],
                               b"no", True, True, True, None)


def test_an_interim_head_while_it_is_arriving() -> None:
    parsed = feed(exchange()[0], b"HTTP/1.1 100 Continue\r\nContent-Length: 1\r\n\r\n")
    # a 1xx has no body whatever it says: the next bytes are the real answer's head
    feed(parsed, b"HTTP/1.1 204 No Content\r\n\r\n")
    assert (parsed.status_code, parsed.reason, parsed.framed, parsed.body_done) == (
        204, b"No Content", False, True)
    assert parsed.headers == []


def test_101_switching_protocols_ends_the_http_part() -> None:
    parsed = feed(exchange()[0],
                  b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                  b"Connection: Upgrade\r\n\r\n\x81\x05hello")
    assert (parsed.status_code, parsed.head_done, parsed.body_done, parsed.invalid) == (
        101, True, True, None)
    assert parsed.informational is False


def test_bytes_after_a_complete_response_are_not_parsed() -> None:
    parsed = feed(exchange()[0], SIMPLE, b"this is not HTTP\r\n\r\n")
    assert (parsed.body_done, parsed.invalid, bytes(parsed.body)) == (True, None, b"hello")


# --- the header cap: the whole head, interim heads, chunk framing and trailers together ---------


def header_line(size: int) -> bytes:
    """One header line of exactly `size` bytes."""
    return b"X-Pad: " + b"a" * (size - 9) + b"\r\n"


def test_header_lines_trickled_in_small_reads_are_capped_in_total() -> None:
    parsed, _ = exchange()
    status = b"HTTP/1.1 200 OK\r\n"
    feed(parsed, status)
    sent = len(status)
    while sent + 1000 <= MAX_HEADER_BYTES:
        feed(parsed, header_line(1000))
        sent += 1000
    feed(parsed, header_line(MAX_HEADER_BYTES - sent))  # exactly at the cap: still allowed
    assert (parsed.header_bytes, parsed.invalid) == (MAX_HEADER_BYTES, None)
    feed(parsed, b"X")  # one byte more than the cap
    assert parsed.invalid is not None and "100 KiB" in parsed.invalid
    error = parsed.broken(INCOMPLETE_BODY)
    assert isinstance(error, ResponseHeadersTooLarge)
    assert isinstance(error, httpx.RemoteProtocolError)
    assert str(error) == "response headers larger than 100 KiB"
    feed(parsed, b"\r\n\r\n")
    assert parsed.head_done is False  # nothing more is parsed once over the cap


def test_interim_heads_count_towards_the_cap() -> None:
    parsed, _ = exchange()
    interim = b"HTTP/1.1 103 Early Hints\r\n" + header_line(1000) + b"\r\n"
    while parsed.header_bytes + len(interim) <= MAX_HEADER_BYTES:
        feed(parsed, interim)
    assert parsed.invalid is None
    feed(parsed, interim)
    assert isinstance(parsed.broken(NO_RESPONSE), ResponseHeadersTooLarge)


def test_trailers_after_a_chunked_body_count_towards_the_cap() -> None:
    parsed, _ = exchange()
    feed(parsed, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n")
    assert bytes(parsed.body) == b"hello" and parsed.invalid is None
    for _ in range(MAX_HEADER_BYTES // 1000 + 1):
        feed(parsed, header_line(1000))
    assert isinstance(parsed.broken(INCOMPLETE_BODY), ResponseHeadersTooLarge)
    assert parsed.body_done is False


def test_body_bytes_do_not_count_towards_the_cap() -> None:
    parsed, _ = exchange()
    size = 3 * 100_000
    feed(parsed, b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % size)
    head = parsed.header_bytes
    for _ in range(size // 1000):
        feed(parsed, b"b" * 1000)
        parsed.take_body()
    assert (parsed.invalid, parsed.header_bytes, parsed.body_done) == (None, head, True)


# --- reading pauses while the body buffered is unread -------------------------------------------


def test_reading_pauses_once_the_read_ahead_is_full_and_resumes_when_it_is_taken() -> None:
    parsed, transport = exchange()
    feed(parsed, b"HTTP/1.1 200 OK\r\nContent-Length: 300000\r\n\r\n")
    feed(parsed, b"x" * (READ_AHEAD_BYTES - 1))
    assert (parsed.reading_paused, transport.calls) == (False, [])
    feed(parsed, b"x")
    assert (parsed.reading_paused, transport.calls) == (True, ["pause"])
    feed(parsed, b"x" * 1000)  # bytes already on their way: kept, no second pause
    assert transport.calls == ["pause"]
    assert parsed.take_body() == b"x" * (READ_AHEAD_BYTES + 1000)
    assert (parsed.reading_paused, transport.calls, bytes(parsed.body)) == (
        False, ["pause", "resume"], b"")
    assert parsed.take_body() == b""
    assert transport.calls == ["pause", "resume"]  # not paused: nothing to resume


def test_a_huge_body_is_read_in_read_ahead_sized_steps() -> None:
    parsed, transport = exchange()
    size = 200 * 1024 * 1024
    feed(parsed, b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % size)
    block = b"z" * READ_AHEAD_BYTES
    for _ in range(8):
        feed(parsed, block)
        assert parsed.reading_paused
        assert len(parsed.take_body()) == READ_AHEAD_BYTES
    assert transport.calls == ["pause", "resume"] * 8


def test_a_closed_connection_is_not_resumed() -> None:
    parsed, transport = exchange()
    feed(parsed, b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n", b"y" * READ_AHEAD_BYTES)
    parsed.connection_lost(None)
    assert len(parsed.take_body()) == READ_AHEAD_BYTES
    assert transport.calls == ["pause"]


def test_a_head_request_buffers_no_body() -> None:
    parsed, transport = exchange(head_only=True)
    feed(parsed, b"HTTP/1.1 200 OK\r\nContent-Length: 70000\r\n\r\n" + b"q" * READ_AHEAD_BYTES)
    assert (parsed.head_done, bytes(parsed.body), transport.calls) == (True, b"", [])


# --- broken and malformed responses -------------------------------------------------------------


@pytest.mark.parametrize(
    "garbage",
    [b"garbage\r\n\r\n", b"HTTP/1.1 2x0 OK\r\n\r\n", b"HTTP/1.1 200 OK\r\nBad Header\r\n\r\n",
     b"HTTP/1.1 200 OK\r\nContent-Length: nope\r\n\r\n"],
)
def test_bytes_that_are_not_a_response(garbage: bytes) -> None:
    parsed = feed(exchange()[0], garbage)
    assert parsed.invalid
    error = parsed.broken(NO_RESPONSE)
    assert type(error) is httpx.RemoteProtocolError
    assert str(error) == f"invalid HTTP response ({parsed.invalid})"
    feed(parsed, SIMPLE)  # once invalid, nothing more is parsed
    assert parsed.head_done is False


BAD_CHUNK = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"


def test_a_parse_error_after_a_gets_head_breaks_the_response() -> None:
    parsed = feed(exchange()[0], BAD_CHUNK)
    assert parsed.head_done and parsed.invalid
    assert str(parsed.broken(INCOMPLETE_BODY)).startswith("invalid HTTP response (")


def test_a_parse_error_after_a_heads_head_is_ignored() -> None:
    parsed = feed(exchange(head_only=True)[0], BAD_CHUNK)
    assert (parsed.head_done, parsed.invalid) == (True, None)
    assert parsed.broken(INCOMPLETE_BODY).args == (INCOMPLETE_BODY,)


def test_a_parse_error_before_a_heads_head_is_not_ignored() -> None:
    parsed = feed(exchange(head_only=True)[0], b"garbage\r\n\r\n")
    assert parsed.invalid


def test_a_truncated_chunked_body_is_incomplete() -> None:
    parsed, _ = exchange()
    feed(parsed, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel")
    assert parsed.eof_received() is False  # the transport closes itself
    parsed.connection_lost(None)
    assert (parsed.eof, parsed.closed, parsed.body_done, bytes(parsed.body)) == (
        True, True, False, b"hel")
    error = parsed.broken(INCOMPLETE_BODY)
    assert type(error) is httpx.RemoteProtocolError and str(error) == INCOMPLETE_BODY


def test_a_lost_connection_is_a_read_error_with_its_cause() -> None:
    parsed, _ = exchange()
    reset = ConnectionResetError(104, "Connection reset by peer")
    parsed.connection_lost(reset)
    error = parsed.broken(NO_RESPONSE)
    assert type(error) is httpx.ReadError and error.__cause__ is reset
    assert str(error) == str(reset)
    quiet = exchange()[0]
    quiet.connection_lost(TimeoutError())
    assert str(quiet.broken(NO_RESPONSE)) == "TimeoutError"


# --- the coroutine waiting is woken -------------------------------------------------------------


def test_the_waiting_coroutine_is_woken_by_data_eof_and_loss() -> None:
    async def scenario() -> list[str]:
        parsed, _ = exchange()
        woken = []
        for event, deliver in (("data", lambda: parsed.data_received(SIMPLE[:10])),
                               ("eof", parsed.eof_received),
                               ("lost", lambda: parsed.connection_lost(None))):
            waiting = asyncio.ensure_future(parsed.wait())
            await asyncio.sleep(0)
            assert not waiting.done()
            deliver()
            await asyncio.wait_for(waiting, 1)
            assert parsed._waiter is None
            woken.append(event)
        return woken

    assert asyncio.run(scenario()) == ["data", "eof", "lost"]


def test_writing_waits_while_the_transport_is_paused() -> None:
    async def scenario() -> None:
        parsed, _ = exchange()
        await asyncio.wait_for(parsed.wait_writable(), 1)  # never paused: no wait
        parsed.pause_writing()
        parsed.pause_writing()  # a second pause keeps the same wait
        writable = asyncio.ensure_future(parsed.wait_writable())
        await asyncio.sleep(0)
        assert not writable.done()
        parsed.resume_writing()
        await asyncio.wait_for(writable, 1)
        parsed.resume_writing()  # resuming twice is harmless
        parsed.pause_writing()
        writable = asyncio.ensure_future(parsed.wait_writable())
        await asyncio.sleep(0)
        assert not writable.done()
        parsed.connection_lost(None)  # a lost connection ends the wait too
        await asyncio.wait_for(writable, 1)

    asyncio.run(scenario())


def test_phase_marks_start_unset() -> None:
    marks = PhaseMarks()
    assert (marks.connect_started, marks.connected, marks.tls_done) == (None, None, None)


def test_a_fresh_exchange_has_read_nothing() -> None:
    marks = PhaseMarks()
    fresh = Exchange(marks, head_only=False)
    assert fresh.marks is marks and fresh.transport is None
    assert (fresh.status_code, fresh.http_version, fresh.reason, fresh.headers) == (
        0, b"HTTP/1.1", b"", [])
    assert (fresh.framed, fresh.informational, fresh.head_done, fresh.body_done) == (
        False, False, False, False)
    assert (fresh.eof, fresh.closed, fresh.lost, fresh.invalid, fresh.header_bytes) == (
        False, False, None, None, 0)
    assert (bytes(fresh.body), fresh.reading_paused) == (b"", False)


class _Callbacks:
    """What httptools says about bytes, for comparing with what the exchange kept of it."""

    def on_headers_complete(self) -> None:
        pass


def test_an_invalid_response_keeps_the_parsers_own_words() -> None:
    garbage = b"HTTP/1.1 2x0 OK\r\n\r\n"
    with pytest.raises(httptools.HttpParserError) as raised:
        httptools.HttpResponseParser(_Callbacks()).feed_data(garbage)
    said = str(raised.value)
    assert said and said != type(raised.value).__name__
    assert feed(exchange()[0], garbage).invalid == said
