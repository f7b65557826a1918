"""`ccinspect backup` and `ccinspect restore`, through the real command in subprocesses (the CLI reads its
settings from the environment): SQLite → PostgreSQL → SQLite with identical records and evidence, and damaged
archives refused with the target unchanged.

It makes its own PostgreSQL database (never pytest-django's test_test), so it runs once, in the SQLite pass."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tarfile
import uuid
from pathlib import Path

import pytest
from tests.conftest import scratch_postgres

ADMIN_URL = os.environ.get("CCINSPECT_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(bool(os.environ.get("DATABASE_URL")), reason="runs in the SQLite pass; makes its own databases"),
]

SEED = r'''
from ccinspect.web import setup
setup()
from django_otp.plugins.otp_totp.models import TOTPDevice
from ccinspect.web.accounts.audit import acting_as, record
from ccinspect.web.accounts.models import Organisation, Role, User
from ccinspect.web.inspections import services as svc

svc.ensure_deduction_table()
org = Organisation.objects.create(name="Broker A", profile={"capital": "120億", "internet_orders": True})
def mk(name, role):
    u = User(username=name, organisation=org, role=role, first_name=name, must_change_password=False)
    u.set_password("Correct-Horse-42")
    u.save()
    return u
officer, admin = mk("officer_a", Role.SECURITY_OFFICER), mk("admin_a", Role.BROKER_ADMIN)
TOTPDevice.objects.create(user=admin, name="phone", confirmed=True)
insp = svc.create_inspection(officer, org, "inspection:CC-18000:2025-05")
item = svc.set_item_result(officer, insp.items.filter(assessable=True).first(), "deficient", notes="gap 台北")
svc.add_evidence(officer, item, name="proof.txt", data=b"evidence line\n")
svc.add_evidence(officer, item, name="scan.pdf", data=b"%PDF-1.4\n" + bytes(range(256)) * 8)
svc.raise_finding(officer, item, title="Weak passwords", severity="high", due_date="2025-07-31")
with acting_as(officer):
    record("note", model="x.Y", object_id="1", changes={"n": [1.0, 1e20, "台北", {"b": 2, "a": None}]})
# the regulator's inspection of the broker (web/oversight): an answer, a finding, approved
from ccinspect.web.oversight import services as oversight
twse = Organisation.objects.create(name="TWSE", kind=Organisation.REGULATOR)
def staff(name, role):
    u = User(username=name, organisation=twse, role=role, must_change_password=False)
    u.set_password("Correct-Horse-42")
    u.save()
    return u
inspector, sup = staff("inspector", Role.REGULATOR), staff("supervisor", Role.REGULATOR_SUPERVISOR)
oversight.ensure_deduction_table()
eng = oversight.create_engagement(inspector, org, kind="annual", title="例查", period_start="2025-01-01",
    period_end="2025-06-30", answer_due="2025-07-31", chapters=["CC-18000"], inspector_ids=[inspector.pk],
    supervisor_id=sup.pk)
eng = oversight.send_requests(inspector, eng)
req = eng.requests.first()
oversight.answer(officer, req, text="見附件 台北")
oversight.record_observation(inspector, eng, ref_id=req.ref_id, title="缺失", severity="low", due_date="2025-12-31")
oversight.submit_for_approval(inspector, eng)
oversight.approve(sup, eng)
'''


@pytest.fixture
def pg_url():
    with scratch_postgres("ccinspect_backup", ADMIN_URL) as url:
        yield url


class Site:
    def __init__(self, var: Path, database_url: str | None = None):
        self.var = var
        self.env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CCINSPECT_MEDIA_ROOT")}
        self.env.update(CCINSPECT_VAR=str(var), SECRET_KEY="backup-test-secret-key-0123456789abcdef")
        if database_url:
            self.env["DATABASE_URL"] = database_url

    def run(self, *args, code: int = 0) -> subprocess.CompletedProcess:
        p = subprocess.run([sys.executable, "-m", "ccinspect.cli", *args], env=self.env, capture_output=True,
                           text=True, timeout=300)
        assert p.returncode == code, (args, p.stdout, p.stderr)
        return p

    def python(self, code: str) -> None:
        p = subprocess.run([sys.executable, "-c", code], env=self.env, capture_output=True, text=True, timeout=300)
        assert p.returncode == 0, p.stderr

    def dump(self, tmp: Path) -> tuple[str, dict[str, bytes]]:
        """A canonical dump of every backed-up model and the evidence members, via a fresh backup."""
        out = tmp / f"probe-{uuid.uuid4().hex[:6]}.tar"
        self.run("backup", str(out))
        return canonical(out)


def canonical(archive: Path) -> tuple[str, dict[str, bytes]]:
    with tarfile.open(archive) as tar:
        records = json.loads(tar.extractfile("database.json").read())
        files = {m.name: tar.extractfile(m).read() for m in tar if m.name.startswith("evidence/")}
    records.sort(key=lambda r: (r["model"], r["pk"]))
    return json.dumps(records, sort_keys=True, ensure_ascii=False), files


def _rewrite(src: Path, dst: Path, *, drop: str | None = None, flip: str | None = None) -> None:
    """A copy of the archive with one member left out, or one byte of one member flipped."""
    with tarfile.open(src) as tar, tarfile.open(dst, "w", format=tarfile.PAX_FORMAT) as out:
        for m in tar:
            if m.name == drop:
                continue
            data = bytearray(tar.extractfile(m).read())
            if m.name == flip:
                data[len(data) // 2] ^= 0x01
            out.addfile(m, io.BytesIO(bytes(data)))


def test_backup_sqlite_restore_postgres_and_back(tmp_path, pg_url):
    a = Site(tmp_path / "a")
    a.run("web", "migrate")
    a.python(SEED)
    a.run("verify")
    a.run("backup", str(tmp_path / "a.tar"))
    rec_a, files_a = canonical(tmp_path / "a.tar")
    records = json.loads(rec_a)
    counts = {}
    for r in records:
        counts[r["model"]] = counts.get(r["model"], 0) + 1
    assert counts["inspections.evidence"] == 2 and len(files_a) == 2 and counts["accounts.auditevent"] > 10
    assert counts["otp_totp.totpdevice"] == 1 and counts["accounts.auditchainhead"] == 1
    assert counts["oversight.answer"] == 1 and counts["oversight.observation"] == 1  # the regulator's inspections
    assert counts["oversight.engagement"] == 1 and counts["oversight.evidencerequest"] > 10

    pg = Site(tmp_path / "pg", pg_url)
    out = pg.run("restore", str(tmp_path / "a.tar")).stdout
    assert "restored" in out and "verified" in out
    pg.run("verify")
    pg.run("backup", str(tmp_path / "pg.tar"))
    assert canonical(tmp_path / "pg.tar") == (rec_a, files_a)
    with tarfile.open(tmp_path / "a.tar") as ta, tarfile.open(tmp_path / "pg.tar") as tb:
        ma, mb = (json.loads(t.extractfile("manifest.json").read()) for t in (ta, tb))
    assert ma["counts"] == mb["counts"] == counts and ma["audit_head_hash"] == mb["audit_head_hash"]
    assert (ma["database_vendor"], mb["database_vendor"]) == ("sqlite", "postgresql")

    c = Site(tmp_path / "c")
    c.run("restore", str(tmp_path / "pg.tar"))
    c.run("verify")
    assert c.dump(tmp_path) == (rec_a, files_a)
    for rel in files_a:  # the evidence store itself, byte for byte
        assert (c.var / rel).read_bytes() == (a.var / rel).read_bytes() == files_a[rel]
    # the restored application keeps working: a new audit entry chains onto the restored trail
    c.python("from ccinspect.web import setup; setup()\n"
             "from ccinspect.web.accounts.models import Organisation; Organisation.objects.create(name='New')")
    c.run("verify")

    # a database that is not empty is refused, unless --force, which replaces its data
    err = pg.run("restore", str(tmp_path / "a.tar"), code=1).stderr
    assert "not empty" in err and "--force" in err
    pg.run("restore", "--force", str(tmp_path / "a.tar"))
    assert pg.dump(tmp_path) == (rec_a, files_a)


def test_a_damaged_archive_is_refused_and_nothing_changes(tmp_path, pg_url):
    a = Site(tmp_path / "a")
    a.run("web", "migrate")
    a.python(SEED)
    a.run("backup", str(tmp_path / "a.tar"))
    _rec, files = canonical(tmp_path / "a.tar")
    member = sorted(files)[0]
    _rewrite(tmp_path / "a.tar", tmp_path / "flipped.tar", flip=member)
    _rewrite(tmp_path / "a.tar", tmp_path / "flipped-dump.tar", flip="database.json")
    _rewrite(tmp_path / "a.tar", tmp_path / "missing.tar", drop=member)
    _rewrite(tmp_path / "a.tar", tmp_path / "no-manifest.tar", drop="manifest.json")
    raw = bytearray((tmp_path / "a.tar").read_bytes())  # a flipped bit in the tar's own bytes, inside the dump
    with tarfile.open(tmp_path / "a.tar") as tar:
        raw[tar.getmember("database.json").offset_data + 10] ^= 0x20
    (tmp_path / "bitrot.tar").write_bytes(bytes(raw))

    pg = Site(tmp_path / "pg", pg_url)
    pg.run("restore", str(tmp_path / "a.tar"))
    before = pg.dump(tmp_path)
    fresh = Site(tmp_path / "fresh")
    for bad, words in [("flipped.tar", f"{member}: SHA-256"), ("flipped-dump.tar", "database.json: SHA-256"),
                       ("missing.tar", f"{member}: missing"), ("no-manifest.tar", "no manifest.json"),
                       ("bitrot.tar", "database.json: SHA-256")]:
        err = pg.run("restore", "--force", str(tmp_path / bad), code=1).stderr
        assert words in " ".join(err.split()), (bad, err)
        assert pg.dump(tmp_path) == before
        # an empty target is not even migrated: nothing changes before the archive has passed
        fresh.run("restore", str(tmp_path / bad), code=1)
        assert not (fresh.var / "ccinspect.sqlite3").exists() and not (fresh.var / "evidence").exists()


def _edit_manifest(src: Path, dst: Path, edit) -> None:
    """A copy of the archive whose manifest.json was edited (the dump and the files untouched)."""
    with tarfile.open(src) as tar, tarfile.open(dst, "w", format=tarfile.PAX_FORMAT) as out:
        for m in tar:
            data = tar.extractfile(m).read()
            if m.name == "manifest.json":
                manifest = json.loads(data)
                edit(manifest)
                data = json.dumps(manifest).encode()
                m.size = len(data)
            out.addfile(m, io.BytesIO(data))


def test_a_manifest_that_does_not_match_the_archive_is_refused(tmp_path):
    """Issue 20: a changed audit head, row count or creation date no longer restores with exit 0."""
    a = Site(tmp_path / "a")
    a.run("web", "migrate")
    a.python(SEED)
    out = a.run("backup", str(tmp_path / "a.tar")).stdout
    # the backup anchored the chain head outside the database, without being asked
    with tarfile.open(tmp_path / "a.tar") as tar:
        manifest = json.loads(tar.extractfile("manifest.json").read())
    anchors = [ln.split() for ln in (a.var / "audit-anchors.txt").read_text().splitlines() if not ln.startswith("#")]
    assert "head anchored in" in out and anchors[-1][1] == manifest["audit_head_hash"]

    def head(m):
        m["audit_head_hash"] = "0" * 64

    def count(m):
        m["counts"]["inspections.evidence"] += 1

    def created(m):
        m["created_at"] = "2019-01-01T00:00:00+00:00"

    def extra(m):
        m["members"]["evidence/ab/forged"] = {"sha256": "0" * 64, "size": 1}

    fresh = Site(tmp_path / "fresh")
    for edit, words in [(head, "audit_head_hash: the manifest says '000"),
                        (count, "counts: inspections.evidence: the manifest says 3, the dump holds 2"),
                        (created, "created_at: 2019-01-01T00:00:00+00:00 is before the dump's newest audit entry"),
                        (extra, "evidence/ab/forged: missing")]:
        bad = tmp_path / f"{edit.__name__}.tar"
        _edit_manifest(tmp_path / "a.tar", bad, edit)
        err = " ".join(fresh.run("restore", str(bad), code=1).stderr.split())
        assert words in err and "nothing was changed" in err, (edit.__name__, err)
        assert not (fresh.var / "ccinspect.sqlite3").exists()
    fresh.run("restore", str(tmp_path / "a.tar"))  # the untouched archive restores
