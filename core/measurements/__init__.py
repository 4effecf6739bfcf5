"""Measurements: the service that adds and reads them, their store and rollups, raw reads,
and the series writer. See docs/architecture.md#layers."""
