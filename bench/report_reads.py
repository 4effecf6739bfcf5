"""How a report's rows get into Polars: ``pl.read_database`` on the SQLAlchemy connection
(what ``core.reports.compute`` does) against plain rows and against Arrow from an ADBC driver.

    python bench/report_reads.py --database-url URL [--repeat 20]

Times, median of ``--repeat`` runs, the full-period and 7-day statements of a report (the
database selects the period's rows, pre-summed per local day) on a seeded database:

* ``read_database``: ``pl.read_database(statement, session.connection())``;
* ``rows``: ``session.execute(statement).all()`` then ``pl.DataFrame(rows)``;
* ``adbc``: the same SQL with its values inlined, run on an ADBC connection and read as Arrow
  (skipped unless ``adbc-driver-sqlite`` / ``adbc-driver-postgresql`` are installed; they are
  not GridBoard dependencies).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import polars as pl  # noqa: E402
from sqlalchemy import func, select, union_all  # noqa: E402

from core.db import Database  # noqa: E402
from core.models import Measurement  # noqa: E402
from core.reports import compute, kpis  # noqa: E402
from core.timestamps import to_micros  # noqa: E402

SCHEMA = {"raw": pl.Boolean(), **kpis.SAMPLES_SCHEMA}


def statement(dialect: str, start: datetime, end: datetime, zone: str):  # type: ignore[no-untyped-def]
    served, raw = compute._spans(zone, to_micros(start), to_micros(end))
    parts = [compute._rollup_part(span, dialect) for span in served]
    parts += [compute._raw_part(span, dialect) for span in raw]
    return union_all(*parts) if len(parts) > 1 else parts[0]


def adbc_connection(database: Database):  # type: ignore[no-untyped-def]
    try:
        if database.engine.dialect.name == "sqlite":
            import adbc_driver_sqlite.dbapi as driver

            return driver.connect(str(database.engine.url.database))
        import adbc_driver_postgresql.dbapi as driver

        url = database.engine.url.set(drivername="postgresql")
        return driver.connect(url.render_as_string(hide_password=False))
    except ImportError:
        return None


def median_ms(function, repeat: int) -> float:  # type: ignore[no-untyped-def]
    samples = []
    for _ in range(repeat):
        began = time.perf_counter()
        function()
        samples.append(time.perf_counter() - began)
    return statistics.median(samples) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    database = Database.from_url(args.database_url)
    dialect = database.engine.dialect.name
    with database.read() as session:
        first, last = session.execute(
            select(func.min(Measurement.timestamp_us), func.max(Measurement.timestamp_us))
        ).one()
    start = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=first)
    end = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=last + 1)
    adbc = adbc_connection(database)
    print(f"database: {database.url}  ADBC: {'yes' if adbc else 'not installed'}")
    for label, low in (("full period", start), ("7 days", end - timedelta(days=7))):
        query = statement(dialect, low, end, "Europe/Zurich")
        sql = str(query.compile(database.engine, compile_kwargs={"literal_binds": True}))

        def via_read_database(query=query) -> pl.DataFrame:  # type: ignore[no-untyped-def]
            with database.read() as session:
                return pl.read_database(query, session.connection(), schema_overrides=SCHEMA)

        def via_rows(query=query) -> pl.DataFrame:  # type: ignore[no-untyped-def]
            with database.read() as session:
                rows = session.execute(query).all()
            return pl.DataFrame(rows, schema=SCHEMA, orient="row")

        def via_adbc(sql: str = sql) -> pl.DataFrame:
            with adbc.cursor() as cursor:
                cursor.execute(sql)
                return pl.from_arrow(cursor.fetch_arrow_table())  # type: ignore[return-value]

        rows = via_rows().height
        figures = [
            f"read_database {median_ms(via_read_database, args.repeat):7.1f} ms",
            f"rows {median_ms(via_rows, args.repeat):7.1f} ms",
        ]
        if adbc is not None:
            figures.append(f"adbc {median_ms(via_adbc, args.repeat):7.1f} ms")
        print(f"{label:12} {rows:6} rows   " + "   ".join(figures))


if __name__ == "__main__":
    main()
