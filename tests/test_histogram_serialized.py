"""Adding samples to a stored histogram gives the bytes a full re-encode would give."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from analytics.histogram import LatencyHistogram
from analytics.histogram_blobs import add_into_serialized

latencies = st.lists(
    st.one_of(st.just(0.0), st.floats(min_value=0.01, max_value=600_000)), max_size=300
)


def histogram_of(values: list[float]) -> LatencyHistogram:
    histogram = LatencyHistogram()
    for value in values:
        histogram.add(value)
    return histogram


@settings(max_examples=300, deadline=None)
@given(stored=latencies, added=latencies, repeat=st.integers(1, 300))
def test_adding_into_bytes_equals_merging_and_encoding(
    stored: list[float], added: list[float], repeat: int
) -> None:
    base = histogram_of(stored * (1 + repeat % 3))
    increment = histogram_of(added)
    expected = base.copy()
    expected.merge(increment)
    assert add_into_serialized(base.to_bytes(), increment) == expected.to_bytes()


def test_a_day_of_checks_is_patched_in_place_and_still_canonical() -> None:
    day = histogram_of([50 + (i * 7919) % 250 for i in range(1440)])
    blob = day.to_bytes()
    assert blob[0] in (3, 4, 5)  # dense
    for latency in (51.0, 120.0, 299.0, 49.5):
        step = histogram_of([latency])
        blob = add_into_serialized(blob, step)
        day.merge(step)
        assert blob == day.to_bytes()
    overflowing = histogram_of([120.0] * 300)  # pushes one count past a byte
    day.merge(overflowing)
    assert add_into_serialized(blob, overflowing) == day.to_bytes()
