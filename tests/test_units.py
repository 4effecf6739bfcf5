"""Sizes and durations read the same everywhere: core.units is what the CLI and the pages call."""

from __future__ import annotations

import pytest

from core.units import format_bytes, format_duration


@pytest.mark.parametrize(
    ("count", "said"),
    [
        (0, "0 bytes"),
        (1, "1 byte"),
        (12, "12 bytes"),
        (1536, "1.54 kB"),
        (999_499, "999 kB"),
        (999_500, "1 MB"),  # rounds up into the next unit, never "1e+03 kB"
        (2_500_000, "2.5 MB"),
        (12_345_678_901, "12.3 GB"),
    ],
)
def test_sizes_count_in_powers_of_1000_with_three_digits(count, said):
    assert format_bytes(count) == said


@pytest.mark.parametrize(
    ("seconds", "said"),
    [(30, "30 seconds"), (90, "1.5 minutes"), (3600, "1 hour"), (86_400 * 2, "2 days")],
)
def test_durations_read_as_people_say_them(seconds, said):
    assert format_duration(seconds) == said
