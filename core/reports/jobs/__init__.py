"""Report jobs, pending -> running -> completed | failed (or cancelled): ``records`` (what users
ask), ``queue`` (claims and leases in SQL), ``runner`` (computing them). See
docs/architecture.md#reports."""

from core.errors import UncancellableReport, UndeletableReport, UnfinishedReport, UnknownReport
from core.reports.jobs.queue import (
    MAX_ATTEMPTS,
    Claim,
    LeaseKeeper,
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
from core.reports.jobs.runner import ReportRunner, compute_claimed, generate_report

__all__ = [
    "ACTIVE",
    "MAX_ATTEMPTS",
    "NOTIFY_CHANNEL",
    "Claim",
    "LeaseKeeper",
    "ReportRecord",
    "ReportRunner",
    "ReportStatus",
    "UncancellableReport",
    "UndeletableReport",
    "UnfinishedReport",
    "UnknownReport",
    "cancel_report",
    "claim",
    "compute_claimed",
    "count_reports",
    "delete_report",
    "generate_report",
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
]
