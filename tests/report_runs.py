"""Ways to run a report that only tests use: claim and compute in one call."""

from __future__ import annotations

from core.db import Database
from core.reports import LEASE_SECONDS
from core.reports.jobs import Claim, ReportStatus, claim, compute_claimed
from core.reports.jobs.records import report_row


def run_next(
    database: Database, worker_id: str, *, lease_seconds: float = LEASE_SECONDS
) -> int | None:
    """Claim and compute one report; the id it ran, or ``None`` when nothing was waiting."""
    with database.write() as session:
        held = claim(session=session, worker_id=worker_id, lease_seconds=lease_seconds)
    if held is None:
        return None
    compute_claimed(database, held, lease_seconds=lease_seconds)
    return held.report_id


def run_claimed(
    database: Database,
    report_id: int,
    worker_id: str,
    *,
    lease_seconds: float = LEASE_SECONDS,
    attempt: int | None = None,
) -> ReportStatus:
    """Compute a report as the runner ``worker_id`` whose claim is ``attempt`` (default: the
    report's current attempt), and store its outcome if that claim still holds."""
    with database.read() as session:
        held = Claim.of(report_row(session, report_id), worker_id, attempt)
    return compute_claimed(database, held, lease_seconds=lease_seconds)
