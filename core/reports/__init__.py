"""Reports: KPIs over a period, computed in the background and kept as immutable snapshots.
See docs/architecture.md#reports."""

# Runner timings, here so the CLI can show them without importing the report machinery.
LEASE_SECONDS = 120.0  # how long a claim lasts unless renewed (every third of it)
STOP_GRACE_SECONDS = 25.0  # how long a stopping runner lets its report finish
REFRESH_SECONDS = 2.0  # how often a page showing unfinished reports looks again
