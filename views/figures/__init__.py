"""The Plotly figure builders the pages show: pure functions from records to figures.
See docs/architecture.md#layers."""
