from __future__ import annotations

import pytest

from core.db import Database
from tests.factories import LINE, SWITCH, TRANSFORMER, make_component


@pytest.fixture
def grid(db: Database) -> dict[str, int]:
    """Three components in Riverside (T1, L1, S1) and one in Hilltop (T1): ids by name."""
    ids = {
        record.name: record.id
        for record in (make_component(db, kind) for kind in (TRANSFORMER, LINE, SWITCH))
    }
    ids["T1@Hilltop"] = make_component(db, TRANSFORMER, substation="Hilltop").id
    return ids
