"""Substations as records: made from the names stored before them, look-alikes refused by the
database even when two writers race, created by name and reported, renamed and deleted by a
manager only while empty."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from alembic import command
from sqlalchemy import select, text

from core.cli import main
from core.db import Database, alembic_config
from core.errors import ConflictingWrite, InvalidInput, SubstationInUse
from core.grid.components import create_component, list_components
from core.grid.network import layout
from core.grid.substation_records import (
    delete_substation,
    list_substation_records,
    update_substation,
)
from core.imports.components import import_components
from core.models import Component, Substation
from tests.factories import LINE, MANAGER, TRANSFORMER, make_component

OLD_ROWS = (
    "INSERT INTO components (id, name, substation, component_type, voltage_kv, length_km, "
    "capacity_mva, to_substation, created_by, updated_by, created_at, updated_at) VALUES "
    "(1, 'T1', 'Seefeld', 'transformer', 110, NULL, 40, NULL, 'x', 'x', '2024-01-01', "
    "'2024-01-01'), "
    "(2, 'L1', 'Seefeld', 'line', 110, 5, NULL, 'Nowhere-Else', 'x', 'x', '2024-01-01', "
    "'2024-01-01'), "
    # A look-alike spelling stored before names were compared (Cyrillic ie): folded into
    # the spelling most components use.
    "(3, 'T2', 'S\u0435efeld', 'transformer', 110, NULL, 40, NULL, 'x', 'x', '2024-01-01', "
    "'2024-01-01')"
)


def _migrate(db: Database, to: str, how: Any = command.upgrade) -> None:
    with db.engine.begin() as connection:
        how(alembic_config(connection), to)


def test_the_migration_makes_a_record_of_every_stored_substation_name(db):
    _migrate(db, "0011", command.downgrade)
    try:
        with db.engine.begin() as connection:
            connection.execute(text(OLD_ROWS))
    finally:
        _migrate(db, "head")
    with db.read() as session:
        substations = {row.name: row.id for row in session.scalars(select(Substation))}
        components = session.execute(
            select(
                Component.name,
                Component.substation,
                Component.substation_id,
                Component.to_substation_id,
                Component.name_key,
            ).order_by(Component.id)
        ).all()
    assert sorted(substations) == ["Nowhere-Else", "Seefeld"]
    with db.read() as session:
        places = {row.name: (row.x, row.y) for row in session.scalars(select(Substation))}
    # Where the map drew them before: the layout of the old names and lines, now stored.
    assert places == layout(["Nowhere-Else", "Seefeld"], [("Seefeld", "Nowhere-Else")])
    seefeld, nowhere = substations["Seefeld"], substations["Nowhere-Else"]
    assert [tuple(row) for row in components] == [
        ("T1", "Seefeld", seefeld, None, "T1"),
        ("L1", "Seefeld", seefeld, nowhere, "L1"),
        ("T2", "Seefeld", seefeld, None, "T2"),
    ]
    with pytest.raises(InvalidInput, match="use 'Seefeld'"):
        make_component(db, name="T3", substation="Seefe\u04cfd")  # Cyrillic palochka


@pytest.fixture
def pg(postgres_url: str) -> Iterator[Database]:
    database = Database.from_url(postgres_url)
    database.migrate()
    with database.engine.begin() as connection:
        connection.execute(text("TRUNCATE components, substations RESTART IDENTITY CASCADE"))
    yield database
    database.dispose()


def test_the_database_itself_refuses_a_second_substation_with_the_same_name_key(db):
    make_component(db)
    with pytest.raises(ConflictingWrite), db.write() as session:
        session.add(Substation(name="Riv\u0435rside", name_key="Riverside"))
    with pytest.raises(ConflictingWrite), db.write() as session:
        # A component's look-alike name in the same substation, written around the service.
        riverside = session.scalars(select(Substation)).one()
        session.add(
            Component(
                name="\u03a41", name_key="T1", substation="Riverside", substation_id=riverside.id,
                component_type="transformer", capacity_mva=40, voltage_kv=110,
                created_by="x", updated_by="x",
            )
        )  # fmt: skip


def test_two_writers_racing_with_look_alike_substations_store_one(pg):
    """The second writer's check runs while the first one's new substation is not committed;
    the UNIQUE name key still refuses the look-alike. (Before it, both were stored.)"""
    db = pg
    first_wrote, second_done = threading.Event(), threading.Event()
    outcomes: dict[str, Any] = {}

    def first() -> None:
        with db.write() as session:
            create_component(
                session=session, actor=MANAGER, fields={**TRANSFORMER, "substation": "Seefeld"}
            )
            first_wrote.set()
            # Commit once the second writer has finished, or waits on this one's row.
            while not second_done.wait(0.05):
                waiting = session.connection().execute(
                    text("SELECT count(*) FROM pg_locks WHERE NOT granted")
                )
                if waiting.scalar():
                    break
        outcomes["first"] = "stored"

    def second() -> None:
        first_wrote.wait(30)
        try:
            with db.write() as session:
                create_component(
                    session=session,
                    actor=MANAGER,
                    fields={**TRANSFORMER, "name": "T2", "substation": "S\u0435efeld"},
                )
            outcomes["second"] = "stored"
        except InvalidInput as error:
            outcomes["second"] = str(error)
        finally:
            second_done.set()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert outcomes["first"] == "stored"
    assert "use 'Seefeld'" in outcomes["second"]
    with db.read() as session:
        assert [s.name for s in list_substation_records(session=session)] == ["Seefeld"]


def test_an_import_says_which_substations_it_created(db, tmp_path, capsys):
    make_component(db)
    csv = (
        "name,substation,component_type,capacity_mva,voltage_kv,length_km,status,to_substation\n"
        "T2,Riverside,transformer,40,110,,,\n"
        "L1,Riverside,line,,110,5,,Nowhere-Else\n"
        "T1,Seefeldd,transformer,40,110,,,\n"
    )
    with db.write() as session:
        summary = import_components(
            session=session, actor=MANAGER, source=csv.encode(), file_name="grid.csv"
        )
    assert summary.created_substations == ("Nowhere-Else", "Seefeldd")
    path = tmp_path / "more.csv"
    path.write_text(csv.replace("T2,", "T3,").replace("Seefeldd", "Lakeside"), encoding="utf-8")
    url = db.engine.url.render_as_string(hide_password=False)
    assert main(["--database-url", url, "import-components", str(path)]) == 0
    assert "new substations: Lakeside" in capsys.readouterr().out


def test_a_rename_moves_every_component_and_a_substation_in_use_stays(db):
    make_component(db)
    make_component(db, LINE, substation="Hilltop", to_substation="Riverside")
    with db.write() as session:
        update_substation(session=session, actor=MANAGER, name="Riverside", new_name="Seefeld")
    with db.read() as session:
        items = list_components(session=session).items
    assert {(c.name, c.substation, c.to_substation) for c in items} == {
        ("T1", "Seefeld", None),
        ("L1", "Hilltop", "Seefeld"),
    }
    for name in ("Seefeld", "Hilltop"):
        with db.write() as session, pytest.raises(SubstationInUse, match="move or delete"):
            delete_substation(session=session, actor=MANAGER, name=name)
    with db.read() as session:
        assert [s.name for s in list_substation_records(session=session)] == ["Hilltop", "Seefeld"]
