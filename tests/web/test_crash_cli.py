"""kill -9 of every writing command (issue 20): `logins scan --out`, `inspect --out`, `web import-results`,
`backup` and `restore`, each SIGKILLed in the middle of its write, leave the old output or the new one, never a
mix: a folder is whole (every file matches the run record written with it) and either the previous run's or
the new run's; an archive is the previous one or a complete new one; the database holds what it held or what
it was given. Runs on SQLite and, with DATABASE_URL, on PostgreSQL (the database commands; the file commands
are the same on both). The kill is aimed: at the temporary sibling the command writes, or at its open write
transaction."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest
from tests.conftest import scratch_postgres

from ccinspect.detection.synth import generate

from .test_crash import CCINSPECT, PG, Site, _held, _wait_for, database, deployment  # noqa: F401 - fixtures

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
DELAYS = [0.0, 0.002, 0.01, 0.03, 0.0, 0.005, 0.02, 0.0]


def _sha(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def _snapshot(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): _sha(p) for p in sorted(folder.rglob("*")) if p.is_file()}


def _whole(folder: Path) -> bool:
    """Every output the run record names is there with the SHA-256 recorded beside it."""
    run = json.loads((folder / "run.json").read_text(encoding="utf-8"))
    return all(_sha(folder / o["file"]) == o["sha256"] for o in run["outputs"].values())


def _kill_at_temp(args, parent: Path, pattern: str, delay: float, env=None) -> bool:
    """Start the command, SIGKILL it `delay` seconds after its temporary sibling appears; True when the kill
    landed (False: it finished first)."""
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    try:
        while proc.poll() is None:
            if any(parent.glob(pattern)):
                if delay:
                    time.sleep(delay)
                if proc.poll() is not None:
                    return False
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait(timeout=30)
                return True
        return False
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def _old_or_new(out: Path, old: dict[str, str], new_marker) -> str:
    now = _snapshot(out)
    if now == old:
        return "old"
    assert _whole(out), f"a mix: {now}"
    assert new_marker(out), "whole, but neither the old run nor the new one"
    return "new"


@pytest.fixture(scope="module")
def logs(tmp_path_factory):
    d = tmp_path_factory.mktemp("logs")
    return (generate(d / "a", 20_000, seed=1, day=date(2024, 5, 1)),
            generate(d / "b", 20_000, seed=2, day=date(2024, 5, 2)))


def test_killed_login_scan_leaves_the_old_outputs_or_the_new(tmp_path, logs):
    a, b = logs
    out = tmp_path / "out"
    base = [CCINSPECT, "logins", "scan", "--customers", str(a.roster), "--out", str(out), "-q"]
    subprocess.run([*base, str(a.events)], check=True, capture_output=True, timeout=300)
    old = _snapshot(out)
    new_log = str(b.events)
    landed, seen = 0, set()
    for delay in DELAYS:
        landed += _kill_at_temp([*base, new_log], tmp_path, ".out.*.tmp", delay)
        seen.add(_old_or_new(out, old, lambda o: json.loads((o / "run.json").read_text())["inputs"][0]["file"]
                             == new_log))
        if (out / "run.json").is_file() and _snapshot(out) != old:  # back to the old run for the next kill
            shutil.rmtree(out)
            subprocess.run([*base, str(a.events)], check=True, capture_output=True, timeout=300)
            old = _snapshot(out)
    assert landed >= 3, "the kill never landed while the outputs were being written"
    assert "old" in seen


def test_killed_inspect_leaves_the_old_outputs_or_the_new(tmp_path):
    out = tmp_path / "out"
    base = [CCINSPECT, "inspect", "--profile", str(EXAMPLES / "broker.yaml"), "--evidence",
            str(EXAMPLES / "evidence"), "--out", str(out), "--format", "json"]
    subprocess.run([*base, "--as-of", "2024-06-30"], capture_output=True, timeout=300)
    assert (out / "inspection.json").is_file()
    old = _snapshot(out)
    landed, seen = 0, set()
    for delay in DELAYS:
        landed += _kill_at_temp([*base, "--as-of", "2025-05-31"], tmp_path, ".out.*.tmp", delay)
        seen.add(_old_or_new(out, old, lambda o: json.loads((o / "inspection.json").read_text())["as_of"]
                             .startswith("2025-05-31")))
        if _snapshot(out) != old:
            shutil.rmtree(out)
            subprocess.run([*base, "--as-of", "2024-06-30"], capture_output=True, timeout=300)
            old = _snapshot(out)
    assert landed >= 3 and "old" in seen


def test_killed_import_results_changes_nothing(deployment, tmp_path):  # noqa: F811 - the fixture
    site = deployment
    refs = site.ids["refs"]
    rows = [{"ref_id": refs[i % len(refs)], "status": "pass", "summary": f"run {i}",
             "evidence": [{"path": f"log{i}.txt", "sha256": hashlib.sha256(str(i).encode()).hexdigest()}]}
            for i in range(4000)]
    results = tmp_path / "results.json"
    results.write_text(json.dumps({"results": rows}), encoding="utf-8")
    before, files = site.state(), site.store_files()
    proc = subprocess.Popen([CCINSPECT, "web", "import-results", str(results), "--inspection",
                             str(site.ids["inspection"]), "--user", "officer"], env=site.env, cwd=site.root,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _wait_for("the import's write transaction", _held(site.in_write_transaction, 0.3), timeout=240)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert site.state() == before and site.store_files() == files
    report = json.loads(site.run(CCINSPECT, "verify", "--json", "--no-anchors").stdout)
    assert report["ok"] and report["orphans"] == []


GROW = r'''
from ccinspect.web import setup
setup()
from django.db import transaction
from ccinspect.web.accounts.audit import record
with transaction.atomic():
    for i in range(3000):
        record("note", model="crash.Bulk", object_id=str(i), changes={"n": [None, i]})
'''


def test_killed_backup_and_restore_leave_old_or_new(deployment, tmp_path):  # noqa: F811 - the fixture
    site = deployment
    site.run(sys.executable, "-c", GROW)  # a dump big enough for the restore to be caught loading it
    archive = tmp_path / "site.tar"
    site.run(CCINSPECT, "backup", str(archive))
    old = _sha(archive)
    landed = 0
    for delay in DELAYS[:4]:
        landed += _kill_at_temp([CCINSPECT, "backup", str(archive)], tmp_path, ".site.tar.*", delay, env=site.env)
        assert archive.is_file()
        if _sha(archive) != old:  # a complete new archive: it passes restore's full check
            site.run(sys.executable, "-c", "import sys\nfrom ccinspect.web import setup\nsetup()\n"
                     "from ccinspect.web.integrity.backup import check_archive\ncheck_archive(sys.argv[1])",
                     str(archive))
            old = _sha(archive)
    assert landed >= 2

    # restore into another site, killed while it loads the dump: the target keeps its (empty) data
    with _target(tmp_path) as target:
        target.run(CCINSPECT, "web", "migrate")
        empty = target.state()
        log = tmp_path / "restore.log"
        with open(log, "w") as fh:
            proc = subprocess.Popen([CCINSPECT, "restore", str(archive)], env=target.env, cwd=target.root,
                                    stdout=fh, stderr=subprocess.STDOUT)
        held = _held(target.in_write_transaction, 0.1)
        _wait_for("the restore's write transaction", lambda: held() or proc.poll() is not None, timeout=240)
        assert proc.poll() is None, f"the restore ended before it could be killed: {log.read_text()[-3000:]}"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        assert target.state() == empty, "the restore is one transaction: nothing of it is there"
        # files it wrote before the kill are orphans for verify, never records without files
        report = json.loads(target.run(CCINSPECT, "verify", "--json", "--no-anchors", "--grace-minutes", "0").stdout)
        assert report["ok"] and report["evidence_records"] == 0
        # and a restore run to the end gives the whole of it
        target.run(CCINSPECT, "restore", "--force", str(archive))
        assert target.state() == site.state()


class _target:
    """A second deployment (its own SQLite file, or its own PostgreSQL database)."""

    def __init__(self, tmp_path: Path):
        self.tmp_path = tmp_path
        self._pg = None

    def __enter__(self) -> Site:
        root = self.tmp_path / "target"
        root.mkdir()
        if PG:
            admin = os.environ.get("CCINSPECT_PG_ADMIN_URL") or os.environ["DATABASE_URL"].rsplit("/", 1)[0] + "/postgres"
            self._pg = scratch_postgres("ccinspect_restore", admin)
            return Site(root, self._pg.__enter__(), None)
        db = root / "ccinspect.sqlite3"
        return Site(root, f"sqlite:///{db}", db)

    def __exit__(self, *exc):
        if self._pg is not None:
            self._pg.__exit__(*exc)
