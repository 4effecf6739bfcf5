"""Bulk imports: the dashboard's and the CLI's import path, for a CSV, Parquet or JSON body."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["imports"])
