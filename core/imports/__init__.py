"""Import components and measurements from files, atomically, naming every bad cell.

Formats (docs/design.md, "Import formats"): UTF-8 CSV with a header row, comma separated, a BOM
tolerated; measurements also as Parquet with the same columns. Header names are trimmed and
case-insensitive, in any order. Problems name the line as an editor shows it (the header is
line 1); for Parquet the first data row is line 2, as if the file were CSV.
"""

from core.imports.components import import_components
from core.imports.measurements import import_measurements
from core.imports.preview import preview_file
from core.imports.summary import ImportSummary
from core.imports.templates import (
    COMPONENTS_HEADER,
    COMPONENTS_TEMPLATE_CSV,
    MEASUREMENTS_TEMPLATE_CSV,
)

__all__ = [
    "COMPONENTS_HEADER",
    "COMPONENTS_TEMPLATE_CSV",
    "MEASUREMENTS_TEMPLATE_CSV",
    "ImportSummary",
    "import_components",
    "import_measurements",
    "preview_file",
]
