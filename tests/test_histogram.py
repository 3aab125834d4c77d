"""The latency histogram: 1% quantiles, exact merges, compact round-tripping bytes."""

from __future__ import annotations

import math
import random
from collections.abc import Sequence

import pytest
from hypothesis import given
from hypothesis import strategies as st

from analytics.histogram import LatencyHistogram, bucket_index, bucket_value, merge_histograms
from analytics.histogram_blobs import merge_serialized

latencies = st.one_of(
    st.floats(min_value=0.01, max_value=600_000, allow_nan=False, allow_infinity=False),
    st.just(0.0),
)
samples = st.lists(latencies, min_size=1, max_size=300)
quantiles = st.sampled_from([0.0, 0.01, 0.25, 0.5, 0.9, 0.95, 0.99, 0.999, 1.0])
TOLERANCE = 0.01 + 1e-9  # 1%, plus float rounding at a bucket's exact edge


def histogram_of(values: Sequence[float]) -> LatencyHistogram:
    histogram = LatencyHistogram()
    for value in values:
        histogram.add(value)
    return histogram


def nearest_rank(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(1, math.ceil(q * len(ordered))) - 1]


@given(st.floats(min_value=0.01, max_value=600_000))
def test_every_value_is_within_one_percent_of_its_bucket(value: float) -> None:
    assert abs(bucket_value(bucket_index(value)) - value) <= TOLERANCE * value


@given(samples, quantiles)
def test_quantiles_are_within_one_percent_of_the_nearest_rank(
    values: list[float], q: float
) -> None:
    exact = nearest_rank(values, q)
    estimate = histogram_of(values).quantile(q)
    assert estimate is not None
    assert abs(estimate - exact) <= TOLERANCE * exact


@given(samples)
def test_several_quantiles_at_once_match_one_at_a_time(values: list[float]) -> None:
    histogram = histogram_of(values)
    qs = [0.99, 0.5, 0.95, 0.0, 1.0]
    assert histogram.quantiles(qs) == [histogram.quantile(q) for q in qs]


@given(samples)
def test_count_min_and_max_are_exact(values: list[float]) -> None:
    histogram = histogram_of(values)
    assert (histogram.count, histogram.min_ms, histogram.max_ms) == (
        len(values), min(values), max(values)
    )


@given(samples, samples, samples)
def test_merge_is_associative_commutative_and_loses_nothing(
    a: list[float], b: list[float], c: list[float]
) -> None:
    ha, hb, hc = histogram_of(a), histogram_of(b), histogram_of(c)
    left = merge_histograms([merge_histograms([ha, hb]), hc])
    right = merge_histograms([ha, merge_histograms([hb, hc])])
    swapped = merge_histograms([hc, ha, hb])
    assert left == right == swapped == histogram_of(a + b + c)
    assert ha == histogram_of(a), "merging must leave its inputs alone"


@given(st.lists(latencies, max_size=300), st.integers(min_value=1, max_value=100_000))
def test_bytes_round_trip_exactly(values: list[float], heavy: int) -> None:
    histogram = histogram_of(values)
    assert LatencyHistogram.from_bytes(histogram.to_bytes()) == histogram
    # Counts past one and two bytes take the wider dense and sparse encodings.
    histogram.add(123.0, times=heavy)
    assert LatencyHistogram.from_bytes(histogram.to_bytes()) == histogram


@given(st.lists(samples, max_size=12))
def test_merging_serialized_forms_equals_merging_histograms(batches: list[list[float]]) -> None:
    histograms = [histogram_of(values) for values in batches]
    blobs = [h.to_bytes() for h in histograms]
    assert merge_serialized(blobs) == merge_histograms(histograms)


def test_merging_dense_forms_reads_every_kind_of_head() -> None:
    # Dense heads read inline by merge_serialized: a first index of one byte (~1 ms) or two
    # (~100 ms), and more than 127 zeros, whose count takes two bytes and the general reader.
    near_one_ms = histogram_of([1.0 + i / 100 for i in range(40)])
    near_100_ms = histogram_of([80 + i for i in range(60)] * 3)
    many_zeros = histogram_of([0.0] * 200 + [90 + i for i in range(50)])
    histograms = [near_one_ms, near_100_ms, many_zeros, near_100_ms]
    blobs = [h.to_bytes() for h in histograms]
    assert all(blob[0] in (3, 4, 5) for blob in blobs)  # all dense
    assert blobs[0][18] < 0x80 and blobs[1][18] >= 0x80 and blobs[2][1] >= 0x80
    assert merge_serialized(blobs) == merge_histograms(histograms)


def test_a_typical_hour_is_dense_and_small() -> None:
    # Dense, so the recorder can add a batch's samples in place; still about a hundred bytes.
    rng = random.Random(4)
    for _ in range(20):
        hour = histogram_of([rng.uniform(50, 300) for _ in range(60)])
        blob = hour.to_bytes()
        assert blob[0] == 3
        assert len(blob) <= 128


def test_a_widely_spread_histogram_is_stored_sparsely() -> None:
    hour = histogram_of([0.05, 1.0, 20.0, 900.0, 60_000.0])
    blob = hour.to_bytes()
    assert blob[0] == 2
    assert len(blob) < 40
    assert LatencyHistogram.from_bytes(blob) == hour


def test_a_busy_day_is_stored_densely_and_reads_back() -> None:
    rng = random.Random(5)
    day = histogram_of([rng.lognormvariate(4.6, 0.5) for _ in range(1440)])
    blob = day.to_bytes()
    assert blob[0] in (3, 4, 5)
    assert len(blob) < 400
    assert LatencyHistogram.from_bytes(blob) == day


def test_an_empty_histogram_has_no_quantiles_and_one_byte() -> None:
    empty = LatencyHistogram()
    assert empty.quantiles([0.5, 0.99]) == [None, None]
    assert empty.to_bytes() == b"\x01"
    assert LatencyHistogram.from_bytes(b"\x01") == empty


def test_zero_latency_ranks_below_everything() -> None:
    histogram = histogram_of([0.0, 0.0, 0.0, 5.0])
    assert histogram.quantiles([0.5, 0.75, 1.0]) == [0.0, 0.0, 5.0]
    assert LatencyHistogram.from_bytes(histogram_of([0.0]).to_bytes()) == histogram_of([0.0])


@pytest.mark.parametrize("bad", [-1.0, math.nan, math.inf])
def test_impossible_latencies_are_refused(bad: float) -> None:
    with pytest.raises(ValueError, match="latency"):
        LatencyHistogram().add(bad)


def test_quantile_outside_zero_to_one_is_refused() -> None:
    with pytest.raises(ValueError, match="quantile"):
        histogram_of([1.0]).quantile(95)
