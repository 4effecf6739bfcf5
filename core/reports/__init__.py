"""Reports: KPIs over a period, computed in the background and kept as immutable snapshots."""
