"""Import components from CSV: every row checked by ``core.grid.component_fields``, then one atomic
write. See docs/design.md#import-formats."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from core import logs
from core.domain import Actor, require_manager
from core.errors import InvalidInput
from core.grid.component_fields import (
    COMPONENT_FIELDS,
    OPTIONAL_FIELDS,
    OPTIONAL_OF_TYPE,
    TO_SUBSTATION,
    ComponentSpec,
    validate_component,
)
from core.grid.components import update_component
from core.grid.look_alikes import SUBSTATION_FIELDS, substation_problem
from core.grid.network import place_new_substations
from core.grid.substation_records import created_in, substation_ids
from core.import_errors import ImportRejection, RowProblem, UnreadableFile
from core.imports.csv_table import read_csv_table
from core.imports.files import PARQUET_MAGIC, decode_text, read_bytes
from core.imports.limits import one_at_a_time
from core.imports.summary import ImportSummary
from core.imports.table import LINE
from core.models import Component
from core.validation import name_key


def _columns_for(header: tuple[str, ...]) -> tuple[str, ...]:
    """The exercise's columns, plus the optional ones the file has (older files lack them)."""
    return COMPONENT_FIELDS + tuple(name for name in OPTIONAL_FIELDS if name in header)


@one_at_a_time
def import_components(
    *,
    session: Session,
    actor: Actor,
    source: bytes | Path,
    file_name: str,
    overwrite: bool = False,
) -> ImportSummary:
    """Import a components CSV atomically.

    Refuses the whole file with ``ImportRejection`` (every bad cell, by line and column) or
    ``UnreadableFile``; otherwise creates every new component, and skips the ones whose name
    and substation already exist unless ``overwrite`` updates them (a type change included).
    """
    started = time.perf_counter()
    require_manager(actor, "import components")
    data = read_bytes(source, file_name)
    if data.startswith(PARQUET_MAGIC):
        raise UnreadableFile(file_name, "is a Parquet file; components are imported from CSV")
    table = read_csv_table(
        decode_text(data, file_name),
        file_name=file_name,
        columns_for=_columns_for,
        optional=OPTIONAL_FIELDS,
    )
    problems = table.problems
    valid: list[tuple[int, dict[str, str], ComponentSpec]] = []
    for row in table.frame.iter_rows(named=True):
        line: int = row.pop(LINE)
        try:
            valid.append((line, row, validate_component(row)))
        except InvalidInput as error:
            problems.extend(RowProblem(line, p.field, p.reason) for p in error.problems)

    stored: dict[tuple[str, str], int] = {}
    stored_ends: dict[int, str | None] = {}
    stored_optional: dict[int, dict[str, object]] = {}
    optional_columns = [getattr(Component, name) for name in OPTIONAL_FIELDS]
    for component_id, name, substation, *optional in session.execute(
        select(Component.id, Component.name, Component.substation, *optional_columns)
    ):
        stored[name, substation] = component_id
        values: dict[str, object] = dict(zip(OPTIONAL_FIELDS, optional, strict=True))
        stored_optional[component_id] = values
        end = values[TO_SUBSTATION]
        stored_ends[component_id] = end if isinstance(end, str) else None
    problems.extend(_look_alike_problems(valid, stored, stored_ends))
    if problems:
        raise ImportRejection(problems)

    new = [spec for _line, _row, spec in valid if (spec.name, spec.substation) not in stored]
    existing = [
        (stored[spec.name, spec.substation], row, spec)
        for _line, row, spec in valid
        if (spec.name, spec.substation) in stored
    ]
    if new:
        who = {"created_by": actor.username, "updated_by": actor.username}
        ids = substation_ids(session, new)
        session.execute(
            insert(Component),
            [
                spec.stored()
                | who
                | {
                    "substation_id": ids[spec.substation],
                    "to_substation_id": ids[spec.to_substation] if spec.to_substation else None,
                    "name_key": name_key(spec.name),
                }
                for spec in new
            ],
        )
    if overwrite:
        with logs.quiet(session):
            for component_id, row, spec in existing:
                fields: dict[str, object] = dict(row)
                for key in OPTIONAL_OF_TYPE[spec.component_type]:
                    if key not in row:
                        # A file without the column says nothing about it: keep the stored value.
                        fields[key] = stored_optional[component_id][key]
                update_component(
                    session=session, actor=actor, component_id=component_id, fields=fields
                )
    place_new_substations(session)
    summary = ImportSummary(
        file_name=file_name,
        rows=table.rows,
        inserted=len(new),
        skipped=0 if overwrite else len(existing),
        overwritten=len(existing) if overwrite else 0,
        created_substations=tuple(created_in(session)),
        ignored_columns=table.ignored,
    )
    logs.on_commit(
        session,
        "import.components",
        user=actor.username,
        started=started,
        **summary.log_fields(),
        component_ids=sorted(component_id for component_id, *_ in existing) if overwrite else [],
    )
    return summary


def _look_alike_problems(
    valid: list[tuple[int, dict[str, str], ComponentSpec]],
    stored: dict[tuple[str, str], int],
    stored_ends: dict[int, str | None],
) -> Iterator[RowProblem]:
    """Rows whose name and substation repeat an earlier line's, or look like one stored or
    earlier in the file but are written otherwise (``core.validation.name_key``)."""
    spelling: dict[str, str] = {}  # a substation's key -> its first spelling, stored ones first
    for name in [*(sub for _name, sub in stored), *(end for end in stored_ends.values() if end)]:
        spelling.setdefault(name_key(name), name)
    components: dict[tuple[str, str], str] = {
        (name_key(name), name_key(sub)): name for name, sub in stored
    }
    first_line: dict[tuple[str, str], int] = {}
    for line, _row, spec in valid:
        for field in SUBSTATION_FIELDS:
            asked = getattr(spec, field)
            if asked:
                known = spelling.setdefault(name_key(asked), asked)
                if known != asked:
                    problem = substation_problem(field, asked, known)
                    yield RowProblem(line, problem.field, problem.reason)
        key = (name_key(spec.name), name_key(spec.substation))
        if key in first_line:
            repeated = f"repeats line {first_line[key]}: the same name and substation"
            yield RowProblem(line, "", repeated)
            continue
        first_line[key] = line
        stored_name = components.get(key)
        if stored_name is not None and (spec.name, spec.substation) not in stored:
            yield RowProblem(
                line,
                "name",
                f"{spec.name!r} looks the same as the component {stored_name!r} stored in "
                f"{spec.substation!r} but is written with other characters",
            )
