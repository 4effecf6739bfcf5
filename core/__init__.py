"""GridBoard's domain: the grid model, measurements, imports, users and reports. It never
imports Streamlit: pages, the API and the CLI call it. See docs/architecture.md#layers."""
