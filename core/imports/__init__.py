"""Import components and measurements from files, atomically, naming every bad cell.
See docs/design.md#import-formats and docs/architecture.md#imports."""

from core.imports.components import import_components
from core.imports.measurements import import_measurements
from core.imports.preview import preview_file
from core.imports.service import ImportKind, run_import
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
    "ImportKind",
    "ImportSummary",
    "import_components",
    "import_measurements",
    "preview_file",
    "run_import",
]
