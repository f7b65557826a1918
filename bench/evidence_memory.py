"""Benchmark of `ccinspect inspect` on a large accounts export (not run in CI).

Writes an accounts CSV of --mb megabytes (our layout, one in five accounts dormant so that the facts
are many), then runs `ccinspect inspect --format json` on a folder holding it in a fresh process and
prints wall time, the child's peak RSS and the size of the JSON. The analyzer streams each file and
keeps the first facts of each check (the rest are counted), so memory should not grow with the file.
Target: peak under 500 MB for a 50 MB export.

    .venv/bin/python bench/evidence_memory.py --mb 50 [--dir /var/tmp/ccinspect-bench]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def write_accounts(path: Path, mb: int) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    target, n = mb * 1024 * 1024, 0
    with path.open("w", encoding="utf-8", newline="") as f:
        f.write("user,name,role,privileged,status,created,last_login,owner_employee_id\n")
        while f.tell() < target:
            last = "2023-01-05" if n % 5 == 0 else "2024-06-20"
            f.write(f"user{n:08d},使用者 {n},trader,no,enabled,2019-03-01,{last},E{n:08d}\n")
            n += 1
    return n


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mb", type=int, default=50)
    ap.add_argument("--dir", default=None)
    args = ap.parse_args()
    base = Path(args.dir or tempfile.mkdtemp(prefix="ccinspect-bench-"))
    ev = base / "evidence"
    rows = write_accounts(ev / "accounts" / "big.csv", args.mb)
    size = (ev / "accounts" / "big.csv").stat().st_size
    out = base / "inspection.json"
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    t0 = time.perf_counter()
    with out.open("wb") as fh:
        rc = subprocess.run([sys.executable, "-m", "ccinspect.cli", "inspect", "--profile",
                             str(ROOT / "examples" / "broker.yaml"), "--evidence", str(ev), "--as-of", "2024-06-30",
                             "--format", "json"], stdout=fh, env=env, check=False).returncode
    wall = time.perf_counter() - t0
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    data = json.loads(out.read_text(encoding="utf-8"))
    dormant = next(c for r in data["requirements"] for c in r["checks"] if c["rule"] == "dormant")
    print(f"accounts CSV: {size / 1e6:.1f} MB, {rows:,} rows (exit code {rc})")
    print(f"wall {wall:.1f} s · peak RSS {peak_mb:.0f} MB · JSON {out.stat().st_size / 1e6:.2f} MB")
    print(f"dormant: {len(dormant['facts'])} facts kept, {dormant.get('facts_omitted', 0):,} counted beyond them; "
          f"summary: {dormant['summary'][:80]}")
    if not args.dir:
        shutil.rmtree(base)


if __name__ == "__main__":
    main()
