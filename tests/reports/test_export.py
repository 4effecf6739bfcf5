from __future__ import annotations

import polars as pl

from core.reports.export import neutralise_formulas, table_csv


def test_text_that_a_spreadsheet_would_run_is_neutralised_and_numbers_are_not():
    frame = pl.DataFrame(
        {
            "name": ['=HYPERLINK("x")', "+1", "-2", "@SUM(A1)", "\tcmd", "plain", None],
            "value": [-1.5, 2.0, -3.0, 4.0, 5.0, 6.0, 7.0],
        }
    )
    safe = neutralise_formulas(frame)
    assert safe["name"].to_list() == [
        '\'=HYPERLINK("x")',
        "'+1",
        "'-2",
        "'@SUM(A1)",
        "'\tcmd",
        "plain",
        None,
    ]
    assert safe["value"].to_list() == frame["value"].to_list()
    assert table_csv(frame).decode().splitlines()[1].startswith("\"'=HYPERLINK")
