"""The monitor list's kept answer: one build shared by requests at once, dropped by a write."""

from __future__ import annotations

import asyncio

import pytest

from web.monitor_list_answers import ListAnswers

pytestmark = pytest.mark.anyio


async def test_one_build_is_shared_and_a_write_drops_it() -> None:
    builds = []

    async def build(full: bool) -> bytes:
        builds.append(full)
        await asyncio.sleep(0.01)
        return b'[{"n": %d}]' % len(builds)

    answers = ListAnswers(build)
    first = await asyncio.gather(*(answers.bodies(True) for _ in range(5)))
    assert builds == [True] and {body for body, _ in first} == {b'[{"n": 1}]'}
    answers.forget()
    body, compressed = await answers.bodies(True)
    assert body == b'[{"n": 2}]' and compressed[:2] == b"\x1f\x8b"
