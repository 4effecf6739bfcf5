"""Bulk imports of a CSV, Parquet or JSON body, streamed to a temporary file as it arrives, on
the dashboard's and the CLI's import path. See docs/reference.md#the-http-api."""

from __future__ import annotations

import os
import shutil
import tempfile
from functools import partial
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from api.child import CHILD_FROM_BYTES, child_url, import_in_child
from api.deps import Caller, DatabaseDep, manager
from api.errors import NO_TOKEN, refusal
from api.schemas import ImportOut
from core.db import Database
from core.grid.component_fields import COMPONENT_FIELDS
from core.imports import ImportKind, run_import
from core.imports.json_rows import json_array_csv

router = APIRouter(tags=["imports"])

CSV_TYPES = ("text/csv", "application/csv", "text/plain")
PARQUET_TYPES = ("application/vnd.apache.parquet", "application/x-parquet")
JSON_TYPES = ("application/json",)
SUFFIXES = {"csv": ".csv", "parquet": ".parquet", "json": ".json"}
_CHUNK = 1 << 20
# A body's folder is named after the process that holds it, so a server started later can tell
# the folders of a server that was killed (nothing of it ran to remove them) from live ones.
FOLDER_PREFIX = "gridboard-import-"


class OversizedBody(Exception):
    def __init__(self, limit: int) -> None:
        self.limit = limit


def _kind(content_type: str | None) -> str | None:
    media = (content_type or "").split(";", 1)[0].strip().lower()
    if media in CSV_TYPES:
        return "csv"
    if media in PARQUET_TYPES:
        return "parquet"
    if media in JSON_TYPES:
        return "json"
    return None


async def _spool(request: Request, limit: int, folder: Path) -> Path:
    """The body in a file under ``folder``; ``OversizedBody`` once it passes ``limit``."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise OversizedBody(limit)
    path = folder / "body"
    size = 0
    with path.open("wb") as handle:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise OversizedBody(limit)
            handle.write(chunk)
    return path


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process of that number
        return True
    return True


def remove_stale_folders(folder: Path | None = None) -> list[Path]:
    """Remove the body folders (under ``folder``, the temporary one by default) of processes
    that are gone; the ones removed."""
    removed = []
    for path in Path(folder or tempfile.gettempdir()).glob(f"{FOLDER_PREFIX}*-*"):
        owner = path.name.removeprefix(FOLDER_PREFIX).split("-", 1)[0]
        if path.is_dir() and not path.is_symlink() and owner.isdigit() and not _alive(int(owner)):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


def _refusal(status: int, detail: str) -> JSONResponse:
    return JSONResponse(refusal(detail), status_code=status)


BODY_DOC: dict[str, Any] = {
    "required": True,
    "content": {
        "text/csv": {
            "schema": {"type": "string"},
            "example": "component_id,measurement_type,timestamp,value\n"
            "1,voltage,2024-05-01T13:45:00+02:00,110.4\n",
        },
        "application/vnd.apache.parquet": {"schema": {"type": "string", "format": "binary"}},
        "application/json": {
            "schema": {"type": "array", "items": {"type": "object"}},
            "example": [
                {
                    "component_name": "T1",
                    "substation": "Riverside",
                    "timestamp": "2024-05-01T13:45:00+02:00",
                    "measurement_type": "power",
                    "value": 12.5,
                }
            ],
        },
    },
}
COMPONENTS_BODY_DOC: dict[str, Any] = {
    "required": True,
    "content": {
        "text/csv": {
            "schema": {"type": "string"},
            "example": "name,substation,component_type,capacity_mva,voltage_kv,length_km,status\n"
            "T1,Riverside,transformer,40,110,,\nS1,Riverside,switch,,,,closed\n",
        },
        "application/json": {
            "schema": {"type": "array", "items": {"type": "object"}},
            "example": [
                {
                    "name": "L1",
                    "substation": "Riverside",
                    "component_type": "line",
                    "length_km": 12.5,
                    "voltage_kv": 20,
                }
            ],
        },
    },
}
ANSWERS: dict[int | str, dict[str, Any]] = {
    400: {"description": "the body is empty, binary, not UTF-8, or not a JSON array"},
    **NO_TOKEN,
    403: {"description": "only a manager (or a write token) may import"},
    413: {"description": "the body is over GRIDBOARD_API_MAX_BODY_BYTES"},
    415: {"description": "a Content-Type other than CSV, Parquet or JSON"},
    422: {"description": "bad rows: nothing was written; every problem by line and column"},
}


async def _import(
    request: Request,
    *,
    database: Database,
    caller: Caller,
    kind: ImportKind,
    overwrite: bool,
    file_name: str | None,
    allow_implausible: bool = False,
) -> Any:
    """The body spooled to a file and imported by ``run_import``: in the thread pool, or in
    a child process (``api.child``) when it is large and another process can open the
    database."""
    media = _kind(request.headers.get("content-type"))
    if media is None:
        return _refusal(
            415,
            "send the rows as text/csv, application/vnd.apache.parquet or application/json "
            f"(got {request.headers.get('content-type') or 'no Content-Type'})",
        )
    actor = await run_in_threadpool(caller.actor_of, database)  # before a byte of the body
    settings = request.app.state.settings
    limit: int = settings.api_max_body_bytes
    name = file_name or f"body{SUFFIXES[media]}"
    with tempfile.TemporaryDirectory(prefix=f"{FOLDER_PREFIX}{os.getpid()}-") as folder:
        try:
            path = await _spool(request, limit, Path(folder))
        except OversizedBody:
            return _refusal(
                413, f"the body is larger than {limit} bytes (GRIDBOARD_API_MAX_BODY_BYTES)"
            )
        if media == "json":
            columns = COMPONENT_FIELDS if kind == "components" else ()
            converted = Path(folder) / "body.csv"
            await run_in_threadpool(partial(json_array_csv, columns=columns), path, converted, name)
            path.unlink()
            path = converted
        elif media == "parquet" and not name.lower().endswith(".parquet"):
            name += ".parquet"
        url = child_url(database)
        if url is not None and path.stat().st_size >= CHILD_FROM_BYTES:
            fields = await import_in_child(
                url, settings, actor, kind, path, name, overwrite, allow_implausible
            )
            return ImportOut(**fields)
        summary = await run_in_threadpool(
            partial(
                run_import, database=database, actor=actor, kind=kind, source=path,
                file_name=name, overwrite=overwrite, allow_implausible=allow_implausible,
            )
        )  # fmt: skip
        return ImportOut(**summary.log_fields())


@router.post(
    "/measurements/import",
    response_model=ImportOut,
    responses=ANSWERS,
    openapi_extra={"requestBody": BODY_DOC},
)
async def import_measurement_rows(
    request: Request,
    caller: Annotated[Caller, Depends(manager("import measurements"))],
    database: DatabaseDep,
    overwrite: Annotated[bool, Query(description="replace stored values of the same key")] = False,
    file_name: Annotated[str | None, Query(description="named in the problems")] = None,
    allow_implausible: Annotated[
        bool,
        Query(
            description="let in values implausible for their component (voltage over 2x its "
            "nominal kV, negative current, power beyond its rating) for this import; audited"
        ),
    ] = False,
) -> Any:
    """Import measurements (columns `component_id` or `component_name,substation`, then
    `timestamp,measurement_type,value`; values in kV, A and MW): all rows or none; keys
    already stored are skipped and counted, or replaced with `overwrite=true`; values
    implausible for their component are refused unless `allow_implausible=true`."""
    return await _import(
        request, database=database, caller=caller, kind="measurements", overwrite=overwrite,
        file_name=file_name, allow_implausible=allow_implausible,
    )  # fmt: skip


@router.post(
    "/components/import",
    response_model=ImportOut,
    responses=ANSWERS,
    openapi_extra={"requestBody": COMPONENTS_BODY_DOC},
)
async def import_component_rows(
    request: Request,
    caller: Annotated[Caller, Depends(manager("import components"))],
    database: DatabaseDep,
    overwrite: Annotated[bool, Query(description="update components that exist")] = False,
    file_name: Annotated[str | None, Query(description="named in the problems")] = None,
) -> Any:
    """Import components (CSV or JSON; the columns of the dashboard's template): all rows or
    none; existing name and substation pairs are skipped, or updated with `overwrite=true`."""
    return await _import(
        request, database=database, caller=caller, kind="components", overwrite=overwrite,
        file_name=file_name,
    )  # fmt: skip
