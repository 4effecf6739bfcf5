"""Template files a manager downloads, fills in and imports (they import as they are).
See docs/design.md#import-formats."""

from __future__ import annotations

from core.grid.component_fields import COMPONENT_FIELDS, OPTIONAL_FIELDS
from core.imports.measurement_checks import BY_NAME

COMPONENTS_HEADER = ",".join(COMPONENT_FIELDS)  # the columns every components file has
COMPONENTS_TEMPLATE_CSV = (
    ",".join(COMPONENT_FIELDS + OPTIONAL_FIELDS)
    + "\n"
    + "T1,Fuchsberg,transformer,40,110,,,,\n"
    + "L1,Fuchsberg,line,,20,12.5,,Seefeld,400\n"
    + "S1,Fuchsberg,switch,,,,closed,,\n"
)

MEASUREMENTS_TEMPLATE_CSV = (
    ",".join(BY_NAME)
    + "\n"
    + "T1,Fuchsberg,2024-05-01T13:45:00+02:00,voltage,110.4\n"
    + "T1,Fuchsberg,2024-05-01T13:45:00+02:00,power,-12.5\n"
    + "T1,Fuchsberg,2024-05-01T11:45:00Z,current,140\n"
    + "S1,Fuchsberg,2024-05-01T11:45:00,current,0\n"
)
