from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

from core.reports.zones import DAY_US, offset_spans
from core.timestamps import to_micros

HOUR_US = 3_600 * 1_000_000


def _spans(zone, start, end):
    return [
        (s.start_us, s.end_us, s.offset_us)
        for s in offset_spans(zone, to_micros(start), to_micros(end))
    ]


def test_utc_is_one_span():
    start, end = datetime(2024, 1, 1, tzinfo=UTC), datetime(2025, 1, 1, tzinfo=UTC)
    assert _spans("UTC", start, end) == [(to_micros(start), to_micros(end), 0)]


def test_zurich_changes_offset_at_the_dst_instants():
    start, end = datetime(2024, 1, 1, tzinfo=UTC), datetime(2025, 1, 1, tzinfo=UTC)
    spring = to_micros(datetime(2024, 3, 31, 1, tzinfo=UTC))
    autumn = to_micros(datetime(2024, 10, 27, 1, tzinfo=UTC))
    assert _spans("Europe/Zurich", start, end) == [
        (to_micros(start), spring, HOUR_US),
        (spring, autumn, 2 * HOUR_US),
        (autumn, to_micros(end), HOUR_US),
    ]


def test_spans_cover_the_period_without_gaps_in_many_zones():
    start = datetime(2019, 7, 3, 5, 17, tzinfo=UTC)
    end = start + timedelta(days=900)
    for zone in ("America/St_Johns", "Australia/Lord_Howe", "Asia/Kathmandu", "Pacific/Apia"):
        spans = offset_spans(zone, to_micros(start), to_micros(end))
        assert spans[0].start_us == to_micros(start) and spans[-1].end_us == to_micros(end)
        for before, after in pairwise(spans):
            assert before.end_us == after.start_us
            assert before.offset_us != after.offset_us
        for span in spans:  # each span's offset is the zone's offset at both of its ends
            for micros in (span.start_us, span.end_us - 1):
                moment = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=micros)
                offset = moment.astimezone(ZoneInfo(zone)).utcoffset()
                assert offset == timedelta(microseconds=span.offset_us), (zone, moment)


def test_a_short_period_is_one_span():
    start = datetime(2024, 3, 31, 0, 59, tzinfo=UTC)
    spans = offset_spans("Europe/Zurich", to_micros(start), to_micros(start) + 1)
    assert len(spans) == 1 and spans[0].end_us - spans[0].start_us == 1
    assert DAY_US == 86_400_000_000
