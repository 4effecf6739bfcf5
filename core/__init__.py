"""GridBoard's domain: the grid model, measurements, imports, users and reports.

Nothing in this package imports Streamlit, so the CLI, the report worker and the tests use it
directly. Pages call these services and only draw the results.
"""
