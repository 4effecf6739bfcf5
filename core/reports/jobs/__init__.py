"""Report jobs: pending -> running -> completed | failed (or cancelled).

``records`` holds what users do with reports (request, list, get, cancel), ``queue`` the SQL
that claims them and fences every later write, ``runner`` the loop that computes them.
"""

from core.errors import ReportFinished, ReportNotFound, ReportNotReady, ReportStillActive
from core.reports.jobs.queue import (
    MAX_ATTEMPTS,
    Claim,
    claim,
    new_worker_id,
    release_claim,
    release_orphans,
    renew_lease,
)
from core.reports.jobs.records import (
    ACTIVE,
    NOTIFY_CHANNEL,
    ReportRecord,
    ReportStatus,
    cancel_report,
    count_reports,
    delete_report,
    get_report,
    get_report_tables,
    list_reports,
    marked_tables,
    oldest_pending_since,
    report_partial_days,
    request_report,
)
from core.reports.jobs.runner import LeaseKeeper, ReportRunner, run_held, run_report_now

__all__ = [
    "ACTIVE",
    "MAX_ATTEMPTS",
    "NOTIFY_CHANNEL",
    "Claim",
    "LeaseKeeper",
    "ReportFinished",
    "ReportNotFound",
    "ReportNotReady",
    "ReportRecord",
    "ReportRunner",
    "ReportStatus",
    "ReportStillActive",
    "cancel_report",
    "claim",
    "count_reports",
    "delete_report",
    "get_report",
    "get_report_tables",
    "list_reports",
    "marked_tables",
    "new_worker_id",
    "oldest_pending_since",
    "release_claim",
    "release_orphans",
    "renew_lease",
    "report_partial_days",
    "request_report",
    "run_held",
    "run_report_now",
]
