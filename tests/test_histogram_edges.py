"""The histogram's edges that random samples rarely reach: the count widths of the dense form at
their limits, sparse counts of exactly 7 and 8, the dense-or-sparse choice at its boundary,
heads of stored forms with bytes at 0x80, in-place patches at the ends of their range, and
bucketing a sample once for several histograms."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from analytics.histogram import (
    LatencyHistogram,
    add_to_each,
    bucket_index,
    bucket_value,
    merge_histograms,
)
from analytics.histogram_blobs import add_into_serialized, merge_serialized
from analytics.histogram_codec import (
    DENSE_SLACK,
    TAG_SPARSE,
    _encode_dense,
    _encode_sparse,
    decode_histogram,
)


def histogram_of(values: list[float]) -> LatencyHistogram:
    histogram = LatencyHistogram()
    for value in values:
        histogram.add(value)
    return histogram


def from_counts(buckets: dict[int, int], zeros: int = 0) -> LatencyHistogram:
    """A histogram with these bucket counts; min and max the values of its end buckets."""
    if not buckets:
        return LatencyHistogram({}, zeros, 0.0 if zeros else None, 0.0 if zeros else None)
    low = 0.0 if zeros else bucket_value(min(buckets))
    return LatencyHistogram(dict(buckets), zeros, low, bucket_value(max(buckets)))


def round_trips(histogram: LatencyHistogram) -> bytes:
    blob = histogram.to_bytes()
    assert LatencyHistogram.from_bytes(blob) == histogram
    return blob


# --- the stored form ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("largest", "tag"),
    [(2, 3), (255, 3), (256, 4), (300, 4), (0xFFFF, 4), (0x10000, 5), (10**9, 5)],
)
def test_dense_counts_take_the_narrowest_width_that_holds_them(largest: int, tag: int) -> None:
    histogram = from_counts({10 + i: largest - i % 2 for i in range(30)} | {20: largest})
    blob = round_trips(histogram)
    width = {3: 1, 4: 2, 5: 4}[tag]
    # tag | zeros | min, max | first index (one byte) | one count per bucket, none past the last
    assert blob[0] == tag and len(blob) == 1 + 1 + 16 + 1 + 30 * width


@pytest.mark.parametrize("count", [6, 7, 8, 9, 135, 136, 1000])
@pytest.mark.parametrize("where", ["first", "middle", "last"])
def test_sparse_counts_either_side_of_the_one_byte_limit_read_back(count: int, where: str) -> None:
    indices = [-200, -50, 100, 400, 600]
    position = {"first": 0, "middle": 2, "last": 4}[where]
    histogram = from_counts({index: (count if i == position else 1)
                             for i, index in enumerate(indices)})
    blob = round_trips(histogram)
    assert blob[0] == TAG_SPARSE


def shaped(counts: list[int], gaps: list[int]) -> LatencyHistogram:
    """Buckets from index 5 on, `gaps[i]` apart, with these counts."""
    index, buckets = 5, {}
    for n, gap in zip(counts, [0, *gaps], strict=True):
        index += gap
        buckets[index] = n
    return from_counts(buckets)


def spread(total: int, parts: int) -> list[int]:
    """`parts` gaps adding up to `total`, as even as can be."""
    return [total // parts + (1 if i < total % parts else 0) for i in range(parts)]


def boundary_shapes() -> list[tuple[list[int], list[int]]]:
    """Histograms whose dense form is near DENSE_SLACK times their sparse form, either side:
    with gaps of at most 16 (each entry one byte, as the size floor counts it) and with one gap
    whose entry takes two bytes."""
    shapes = []
    for counts in ([1] * 6, [7] * 6, [8, 1, 1, 1, 1, 1], [1, 9, 1, 30, 1, 1], [8] * 6,
                   [200, 1, 1, 1, 1, 1], [1] * 12):
        k = len(counts)
        sparse_size = len(_encode_sparse(sorted(shaped(counts, [1] * (k - 1)).buckets),
                                         shaped(counts, [1] * (k - 1)).buckets))
        for extra in range(-4, 7):
            span = DENSE_SLACK * sparse_size + extra  # buckets from the first to the last
            shapes.append((counts, spread(span - 1, k - 1)))
            shapes.append((counts, [20, *spread(span - 21, k - 2)]))
    return [(counts, gaps) for counts, gaps in shapes if min(gaps) >= 1]


@pytest.mark.parametrize(("counts", "gaps"), boundary_shapes())
def test_dense_is_chosen_exactly_while_it_is_at_most_three_times_the_sparse_size(
    counts: list[int], gaps: list[int]
) -> None:
    histogram = shaped(counts, gaps)
    indices = sorted(histogram.buckets)
    dense_tag, dense = _encode_dense(indices, histogram.buckets)
    sparse = _encode_sparse(indices, histogram.buckets)
    blob = round_trips(histogram)
    expected = dense_tag if len(dense) <= DENSE_SLACK * len(sparse) else TAG_SPARSE
    assert blob[0] == expected, (len(dense), len(sparse))


@given(st.dictionaries(st.integers(-230, 666), st.integers(1, 70_000), min_size=1, max_size=40),
       st.integers(0, 300))
def test_any_bucket_counts_read_back_exactly(buckets: dict[int, int], zeros: int) -> None:
    round_trips(from_counts(buckets, zeros))


def test_an_unknown_encoding_is_refused_by_its_tag() -> None:
    with pytest.raises(ValueError, match="unknown histogram encoding 9"):
        decode_histogram(bytes([9]) + b"\x00" * 20)


# --- merging stored forms -----------------------------------------------------------------------


def merged_both_ways(histograms: list[LatencyHistogram]) -> None:
    blobs = [h.to_bytes() for h in histograms]
    merged = merge_serialized(blobs)
    expected = merge_histograms(histograms)
    assert merged == expected
    assert merged.to_bytes() == expected.to_bytes()  # counts are whole numbers, not floats
    assert merged.quantiles([0.5, 0.99]) == expected.quantiles([0.5, 0.99])


def test_merging_busy_days_whose_counts_all_take_16_bits() -> None:
    days = [from_counts({200 + i: 300 + 7 * i + d for i in range(40)}) for d in range(5)]
    assert {day.to_bytes()[0] for day in days} == {4}
    merged_both_ways(days)
    merged_both_ways(days[:1])


def test_merging_dense_forms_of_every_width_together() -> None:
    merged_both_ways([from_counts({30 + i: 5 for i in range(20)}),
                      from_counts({40 + i: 400 for i in range(20)}),
                      from_counts({35 + i: 70_000 for i in range(20)})])


@pytest.mark.parametrize("zeros", [0, 1, 127, 128, 129, 200, 16_383, 16_384])
@pytest.mark.parametrize("first", [-65, -64, -1, 0, 1, 63, 64, 65, 300])
def test_merging_reads_heads_with_bytes_either_side_of_0x80(zeros: int, first: int) -> None:
    # The zeros counter and the first index are varints: one byte below 0x80, more from it.
    day = from_counts({first + i: 2 + i % 3 for i in range(25)}, zeros)
    assert day.to_bytes()[0] == 3
    merged_both_ways([day, day])
    merged_both_ways([day, from_counts({first + 3: 1, first + 4: 1, first + 5: 1})])


def test_a_sparse_or_empty_form_among_dense_ones_is_merged_and_the_rest_still_read() -> None:
    dense = from_counts({100 + i: 3 for i in range(30)})
    spread = histogram_of([0.05, 20.0, 60_000.0])
    assert spread.to_bytes()[0] == TAG_SPARSE
    merged_both_ways([spread, dense, LatencyHistogram(), dense])
    merged_both_ways([LatencyHistogram(), LatencyHistogram()])


# --- patching a stored form in place ------------------------------------------------------------


def patched(stored: LatencyHistogram, added: LatencyHistogram) -> bytes:
    expected = stored.copy()
    expected.merge(added)
    blob = add_into_serialized(stored.to_bytes(), added)
    assert blob == expected.to_bytes()
    return blob


@pytest.mark.parametrize("first", [-40, 0, 1, 7, 64, 200])
def test_a_patch_lands_in_its_own_bucket_whatever_the_first_index(first: int) -> None:
    stored = from_counts({first + i: 2 for i in range(20)})
    for offset in (0, 1, 5, 19, 20, -1):  # inside, at both ends, and one past each
        patched(stored, from_counts({first + offset: 1}))


def test_a_patch_raises_the_max_and_lowers_the_min_inside_the_end_buckets() -> None:
    stored = histogram_of([10.0 + i for i in range(60)])
    top, bottom = stored.max_ms, stored.min_ms
    assert top is not None and bottom is not None
    higher = top * 1.001  # the same bucket as the max, a larger value
    lower = bottom * 0.999
    assert bucket_index(higher) == bucket_index(top)
    assert bucket_index(lower) == bucket_index(bottom)
    blob = patched(stored, histogram_of([higher]))
    assert LatencyHistogram.from_bytes(blob).max_ms == higher
    blob = patched(stored, histogram_of([lower]))
    assert LatencyHistogram.from_bytes(blob).min_ms == lower


@pytest.mark.parametrize(("count", "added"), [(200, 55), (200, 56), (65_000, 535), (65_000, 536)])
def test_a_patch_that_reaches_the_width_limit_re_encodes(count: int, added: int) -> None:
    stored = from_counts({50 + i: (count if i == 3 else 1) for i in range(20)})
    patched(stored, from_counts({53: added}))


def test_zeros_or_nothing_added_re_encode() -> None:
    stored = from_counts({50 + i: 1 for i in range(20)})
    patched(stored, histogram_of([0.0]))
    patched(stored, LatencyHistogram())


# --- adding one sample to several histograms ----------------------------------------------------


@given(st.lists(st.one_of(st.just(0.0), st.floats(0.001, 600_000)), max_size=50),
       st.lists(st.floats(0.0, 1000), max_size=20))
def test_adding_to_each_equals_adding_to_every_one(added: list[float], before: list[float]) -> None:
    hour, day = histogram_of(before), histogram_of([*before, 5.0])
    expected = [hour.copy(), day.copy()]
    for value in added:
        add_to_each([hour, day], value)
        for histogram in expected:
            histogram.add(value)
    assert [hour, day] == expected


@pytest.mark.parametrize("bad", [-1.0, math.nan, math.inf, -math.inf])
def test_adding_an_impossible_latency_to_each_is_refused(bad: float) -> None:
    with pytest.raises(ValueError, match="a latency must be a finite number of ms >= 0"):
        add_to_each([LatencyHistogram()], bad)


def test_a_sample_must_be_added_a_positive_number_of_times() -> None:
    for times in (0, -1):
        with pytest.raises(ValueError, match=r"^times must be positive$"):
            LatencyHistogram().add(5.0, times)
    histogram = LatencyHistogram()
    histogram.add(5.0, 3)
    assert histogram.count == 3


# --- quantiles ----------------------------------------------------------------------------------


@pytest.mark.parametrize("q", [-0.01, 1.01, 1.5, 2.0, 95])
def test_quantiles_outside_zero_to_one_are_refused(q: float) -> None:
    with pytest.raises(ValueError, match="between 0 and 1"):
        histogram_of([1.0]).quantiles([0.5, q])


def test_parts_without_a_min_or_a_max_answer_no_quantile() -> None:
    assert LatencyHistogram({5: 1}, 0, 1.0, None).quantiles([0.5]) == [None]
    assert LatencyHistogram({5: 1}, 0, None, 2.0).quantiles([0.5]) == [None]


@given(st.lists(st.floats(0.01, 600_000), min_size=1, max_size=200),
       st.lists(st.floats(0, 1), min_size=1, max_size=8))
def test_every_quantile_lies_between_the_min_and_the_max_and_they_rise_with_q(
    values: list[float], qs: list[float]
) -> None:
    histogram = histogram_of(values)
    answers = histogram.quantiles(sorted(qs))
    assert all(min(values) <= a <= max(values) for a in answers if a is not None)
    assert answers == sorted(answers)  # type: ignore[type-var]
    low, high = min(values), max(values)
    assert histogram.quantiles([0.0, 1.0]) == [
        min(high, max(low, bucket_value(bucket_index(low)))),
        min(high, max(low, bucket_value(bucket_index(high))))]
