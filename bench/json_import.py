"""Peak memory of a JSON import body through the HTTP API, by body size.

    python bench/json_import.py [--megabytes 8 64]

For each size, a child process serves the API in-process (a temporary SQLite file, one
component) and posts a JSON array of that many megabytes of valid measurements to
``POST /measurements/import``. It prints the API process's growth in peak RSS (``VmHWM``
after minus before the post) and the import child's peak (bodies over 8 MB import there).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
START = datetime(2024, 1, 1, tzinfo=UTC)

CHILD = """
import json, resource, sys, warnings
sys.path.insert(0, {root!r})
from pathlib import Path
from api.app import create_app
from core.access.api_tokens import create_api_token
from core.config import Settings
from core.db import Database
from core.domain import SYSTEM_ACTOR
from core.imports import import_components
warnings.simplefilter("ignore")
from fastapi.testclient import TestClient

def hwm():
    return next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM:"))

db = Database.from_url("sqlite:///" + {folder!r} + "/bench.db"); db.migrate()
with db.write() as s:
    import_components(session=s, actor=SYSTEM_ACTOR, file_name="c.csv",
        source=b"name,substation,component_type,capacity_mva,voltage_kv,length_km,status\\n"
               b"L1,Riverside,line,,20,1,\\n")
    token = create_api_token(session=s, actor=SYSTEM_ACTOR, name="bench", scope="write").secret
app = create_app(db, settings=Settings(cookie_key="k" * 40, demo=False), run_reports=False)
body = Path({body!r}).read_bytes()
with TestClient(app) as client:
    before = hwm()
    answer = client.post("/measurements/import", content=body, headers={{
        "Authorization": "Bearer " + token, "Content-Type": "application/json"}})
    after = hwm()
child_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(json.dumps({{"status": answer.status_code, "api_growth_mb": (after - before) / 1024,
                  "import_child_peak_mb": child_kb / 1024, "rows": answer.json().get("inserted"),
                  "problems": str(answer.json().get("problems", ""))[:300]}}))
"""


def write_body(path: Path, megabytes: int) -> int:
    rows = 0
    with path.open("w") as out:
        out.write("[")
        while out.tell() < megabytes * 1_000_000:
            stamp = (START + timedelta(minutes=rows)).isoformat()
            out.write(("," if rows else "") + json.dumps({
                "component_name": "L1", "substation": "Riverside", "timestamp": stamp,
                "measurement_type": "voltage",
                "value": 20.5,
            }))  # fmt: skip
            rows += 1
        out.write("]")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=int, nargs="+", default=[8, 64])
    options = parser.parse_args()
    for megabytes in options.megabytes:
        with tempfile.TemporaryDirectory() as folder:
            body = Path(folder) / "body.json"
            rows = write_body(body, megabytes)
            script = CHILD.format(root=str(ROOT), folder=folder, body=str(body))
            run = subprocess.run(
                [sys.executable, "-c", script], capture_output=True, text=True, check=False
            )
            figures = run.stdout.strip().splitlines()[-1] if run.stdout.strip() else run.stderr
            print(f"{megabytes} MB JSON ({rows:,} rows): {figures}", flush=True)


if __name__ == "__main__":
    main()
