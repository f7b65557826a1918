"""Crash safety with a real server (issue 10): `ccinspect serve` (gunicorn) in a subprocess, on its own SQLite
file (or, in the PostgreSQL pass, its own PostgreSQL database) and its own MEDIA_ROOT, killed with SIGKILL
(the worker and the master) in the middle of an upload and in the middle of two imports. After each kill the
database holds exactly what it held before (each write is one transaction) and the evidence store holds no
file, not even a temporary one. The kill is aimed, not timed: mid-body once the server has begun spooling the
upload; mid-import once the import's write transaction has been open for half a second (SQLite: its rollback
journal exists; PostgreSQL: pg_stat_activity shows the transaction)."""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

import pytest
from tests.conftest import scratch_postgres

from . import hostile as h

BIN = Path(sys.executable).parent
CCINSPECT = str(BIN / "ccinspect")
DROP = ("CCINSPECT_", "DATABASE_URL", "SECRET_KEY", "ALLOWED_HOSTS", "CSRF_TRUSTED_ORIGINS", "DJANGO_")
PASSWORD = "Correct-Horse-42"
PG = os.environ.get("DATABASE_URL", "").startswith("postgres")

SETUP = r'''
import json, sys
from ccinspect.web import setup
setup()
from django.utils import timezone
from ccinspect.continuity import Register
from ccinspect.web.accounts.models import ApiToken, Organisation, Role, User
from ccinspect.web.continuity import services as csvc
from ccinspect.web.inspections import services as svc
svc.ensure_deduction_table()
org = Organisation.objects.create(name="Broker A", profile={"capital": "120億", "internet_orders": True})
u = User(username="officer", organisation=org, role=Role.SECURITY_OFFICER, first_name="officer",
         must_change_password=False, password_changed_at=timezone.now())
u.set_password(sys.argv[1])
u.save()
insp = svc.create_inspection(u, org, "inspection:CC-18000:2025-05")
items = insp.items.filter(assessable=True)
csvc.replace_register(u, org, Register.model_validate({
    "systems": [{"id": "S1", "name": "下單系統", "owner": "資訊部"}],
    "impact_analyses": [{"id": "B1", "system": "S1", "date": "2025-01-10", "tolerable_minutes": 60,
                         "rto_minutes": 30, "rpo_minutes": 5, "approver": "總經理"}]}), source="seed")
print(json.dumps({"token": ApiToken.issue(u, "crash test")[1], "inspection": insp.pk, "item": items[0].pk,
                  "refs": list(items.values_list("ref_id", flat=True))}))
'''

STATE = r'''
import json
from ccinspect.web import setup
setup()
from ccinspect.continuity import KINDS
from ccinspect.web.accounts.models import AuditEvent
from ccinspect.web.continuity.models import MODELS
from ccinspect.web.inspections.models import ChecklistItem, Evidence
print(json.dumps({
    "evidence": sorted([e.stored_path, e.sha256, e.size] for e in Evidence.objects.all()),
    "audit": AuditEvent.objects.count(),
    "register": {k: sorted(json.dumps(r.to_record(), default=str, sort_keys=True) for r in MODELS[k].objects.all())
                 for k in KINDS},
    "automated": sorted(ChecklistItem.objects.exclude(automated_status="").values_list("pk", "automated_status")),
}))
'''


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _children(pid: int) -> list[int]:
    out = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with open(task / "children") as fh:
            out += [int(x) for x in fh.read().split()]
    return out


class Site:
    """One deployment: a database, a MEDIA_ROOT, a TMPDIR, and at most one running `ccinspect serve`."""

    def __init__(self, root: Path, database_url: str, sqlite: Path | None):
        self.root, self.sqlite = root, sqlite
        self.media, self.tmp = root / "media", root / "tmp"
        self.spool = root / "var" / "upload-tmp"  # settings.FILE_UPLOAD_TEMP_DIR under CCINSPECT_VAR
        for d in (root / "var", self.media, self.tmp):
            d.mkdir(parents=True, exist_ok=True)
        base = {k: v for k, v in os.environ.items() if not k.startswith(DROP)}
        self.env = base | {"CCINSPECT_VAR": str(root / "var"), "CCINSPECT_MEDIA_ROOT": str(self.media),
                           "DATABASE_URL": database_url, "SECRET_KEY": secrets.token_urlsafe(50),
                           "CCINSPECT_MAX_UPLOAD_MB": "32", "TMPDIR": str(self.tmp),
                           "DJANGO_SETTINGS_MODULE": "ccinspect.web.settings"}
        self.proc: subprocess.Popen | None = None
        self.port = 0

    def run(self, *args, code: int | None = 0, timeout: int = 300) -> subprocess.CompletedProcess:
        p = subprocess.run(args, env=self.env, capture_output=True, text=True, timeout=timeout, cwd=self.root)
        assert code is None or p.returncode == code, (args, p.stdout[-2000:], p.stderr[-4000:])
        return p

    def python(self, code: str, *args) -> dict:
        return json.loads(self.run(sys.executable, "-c", code, *args).stdout.strip().splitlines()[-1])

    def state(self) -> dict:
        return self.python(STATE)

    def start(self) -> None:
        self.port = _free_port()
        self.log = open(self.root / f"gunicorn-{self.port}.log", "w")  # noqa: SIM115 - closed in stop/kill
        self.proc = subprocess.Popen([CCINSPECT, "serve", "--host", "127.0.0.1", "--port", str(self.port),
                                      "--workers", "1"], env=self.env, cwd=self.root, stdout=self.log,
                                     stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 120
        while True:
            try:
                if self.request("GET", "/healthz")[0] == 200 and _children(self.proc.pid):
                    return
            except OSError:
                pass
            assert self.proc.poll() is None, (self.root / f"gunicorn-{self.port}.log").read_text()
            assert time.monotonic() < deadline, "gunicorn did not come up in 120 s"
            time.sleep(0.3)

    def kill(self) -> None:
        """SIGKILL the worker(s) and the master: nothing gets to clean up."""
        pids = _children(self.proc.pid)
        assert pids, "a gunicorn worker to kill"
        for pid in [*pids, self.proc.pid]:
            os.kill(pid, signal.SIGKILL)
        self.proc.wait(timeout=30)
        for pid in pids:
            deadline = time.monotonic() + 10
            while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
                time.sleep(0.05)  # reaped by init; /proc may show a zombie for a moment
        self.log.close()
        self.proc = None

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:  # a worker still busy (a test failed before its kill)
                self.kill()
                return
            self.log.close()
            self.proc = None

    def request(self, method, path, body=None, headers=None, timeout=60):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        conn.request(method, path, body=body, headers={"Connection": "close"} | (headers or {}))
        resp = conn.getresponse()
        data = resp.read()
        conn.close()
        return resp.status, data, resp

    def api_headers(self) -> dict:
        return {"Authorization": f"Bearer {self.ids['token']}"}

    def store_files(self) -> list[Path]:
        return h.files_under(self.media)

    def in_write_transaction(self) -> bool:
        """The import's transaction is open and has written: SQLite's rollback journal exists (PostgreSQL: a
        transaction of this database's, other than ours, is open)."""
        if self.sqlite is not None:
            try:
                return Path(str(self.sqlite) + "-journal").stat().st_size > 0
            except FileNotFoundError:  # no transaction, or one just committed
                return False
        import psycopg

        with psycopg.connect(self.env["DATABASE_URL"], autocommit=True) as c:
            return c.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                             "AND pid <> pg_backend_pid() AND xact_start IS NOT NULL "
                             "AND backend_type = 'client backend'").fetchone()[0] > 0

    def sign_in(self) -> dict:
        """A browser's session: cookies and a CSRF token, through the real sign-in page."""
        status, body, resp = self.request("GET", "/accounts/login/")
        cookies = _cookies(resp)
        token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body).group(1).decode()
        form = urllib.parse.urlencode({"csrfmiddlewaretoken": token, "username": "officer", "password": PASSWORD})
        status, body, resp = self.request("POST", "/accounts/login/", form, {
            "Content-Type": "application/x-www-form-urlencoded", "Cookie": _cookie_header(cookies)})
        assert status == 302, body[:500]
        cookies |= _cookies(resp)
        assert "sessionid" in cookies
        status, body, resp = self.request("GET", "/continuity/import/", headers={"Cookie": _cookie_header(cookies)})
        assert status == 200
        cookies |= _cookies(resp)
        cookies["csrfmiddlewaretoken"] = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body
                                                   ).group(1).decode()
        return cookies


def _cookies(resp) -> dict:
    out = {}
    for c in resp.headers.get_all("Set-Cookie") or []:
        k, v = c.split(";", 1)[0].split("=", 1)
        out[k] = v
    return out


def _cookie_header(cookies: dict) -> str:
    return "; ".join(f"{k}={v}" for k, v in cookies.items() if k != "csrfmiddlewaretoken")


@pytest.fixture(scope="module")
def database(tmp_path_factory):
    if not PG:
        db = tmp_path_factory.mktemp("crash") / "site" / "ccinspect.sqlite3"
        db.parent.mkdir(parents=True)
        yield f"sqlite:///{db}", db
        return
    admin_url = os.environ.get("CCINSPECT_PG_ADMIN_URL") or os.environ["DATABASE_URL"].rsplit("/", 1)[0] + "/postgres"
    with scratch_postgres("ccinspect_crash", admin_url) as url:
        yield url, None


@pytest.fixture(scope="module")
def deployment(tmp_path_factory, database):
    """One migrated database and MEDIA_ROOT for the module (each test compares its own before and after)."""
    url, sqlite = database
    s = Site(sqlite.parent if sqlite else tmp_path_factory.mktemp("crash") / "site", url, sqlite)
    s.run(CCINSPECT, "web", "migrate")
    s.ids = s.python(SETUP, PASSWORD)
    try:
        yield s
    finally:
        s.stop()


@pytest.fixture
def site(deployment):
    if deployment.proc is None:  # the previous test killed it
        deployment.start()
    return deployment


def _wait_for(what, condition, timeout=120.0, every=0.02):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(every)


def _held(condition, seconds: float):
    """condition() true on every poll for `seconds` in a row."""
    def check():
        start = time.monotonic()
        while time.monotonic() - start < seconds:
            if not condition():
                return False
            time.sleep(0.02)
        return True
    return check


def _same_files(site, files):
    assert site.store_files() == files, f"left in the evidence store: {set(site.store_files()) - set(files)}"


def test_killed_mid_upload_leaves_no_record_and_no_file(site):
    before, files = site.state(), site.store_files()
    blob = os.urandom(8 * h.MIB)  # a scanned page's worth of image data
    content = (b"%PDF-1.4\n1 0 obj << /Type /XObject /Subtype /Image /Length " + str(len(blob)).encode()
               + b" >>\nstream\n" + blob + b"\nendstream\nendobj\ntrailer << >>\n%%EOF\n")
    body, ctype = h.multipart({"note": "crash"}, "file", b"scan.pdf", content)
    cut = len(body) // 2
    sock = socket.create_connection(("127.0.0.1", site.port), timeout=30)
    head = (f"POST /api/items/{site.ids['item']}/evidence HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Authorization: Bearer {site.ids['token']}\r\nContent-Type: {ctype}\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode()
    sock.sendall(head + body[:cut])
    # Django spools a file this size to a temporary file: once it has grown, the worker is mid-body
    _wait_for("the server to spool the upload",
              lambda: any(p.stat().st_size > h.MIB for p in site.spool.glob("*.upload*")))
    site.kill()
    sock.close()
    after = site.state()
    assert after == before, "no half-written record"
    _same_files(site, files)
    # the half-spooled upload is in the private spool, not the system's temporary directory, and verify
    # names it and sweeps it (it is younger than the default grace period, so only with --grace-minutes 0)
    left = [p.name for p in site.spool.glob("*.upload*")]
    assert len(left) == 1 and not list(site.tmp.glob("*.upload*"))
    assert (site.spool.stat().st_mode & 0o777) == 0o700
    assert json.loads(site.run(CCINSPECT, "verify", "--json").stdout)["stale_uploads"] == []
    report = json.loads(site.run(CCINSPECT, "verify", "--json", "--sweep-orphans", "--grace-minutes", "0").stdout)
    assert report["ok"] and report["stale_uploads"] == left
    assert not any(site.spool.iterdir())
    # the same upload completes on a restarted server (so the kill is what kept it out)
    site.start()
    status, data, _r = site.request("POST", f"/api/items/{site.ids['item']}/evidence", body,
                                    site.api_headers() | {"Content-Type": ctype})
    assert status == 201, data[:300]
    assert json.loads(data)["sha256"] == hashlib.sha256(content).hexdigest()
    sha = hashlib.sha256(content).hexdigest()
    new = [e for e in site.state()["evidence"] if e not in before["evidence"]]
    assert [e[1] for e in new] == [sha] and (site.media / new[0][0]).read_bytes() == content
    assert sorted(set(site.store_files()) - set(files)) == [site.media / new[0][0]]  # and no temporary file


def test_a_body_far_over_the_limit_is_answered_before_it_is_sent(site):
    """Content-Length of 10 GiB and not one byte of body: the 413 arrives anyway (nothing was read)."""
    before, files = site.state(), site.store_files()
    sock = socket.create_connection(("127.0.0.1", site.port), timeout=30)
    sock.sendall((f"POST /api/items/{site.ids['item']}/evidence HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                  f"Authorization: Bearer {site.ids['token']}\r\nContent-Type: multipart/form-data; boundary=x\r\n"
                  f"Content-Length: {10 * 1024 ** 3}\r\n\r\n").encode())
    reply = b""
    while chunk := sock.recv(65536):  # gunicorn closes the connection after the answer
        reply += chunk
    sock.close()
    assert reply.startswith(b"HTTP/1.1 413"), reply[:200]
    detail = json.loads(re.search(rb"\{.*\}", reply).group(0))["detail"]
    assert detail == "上傳內容超過 32 MB 的上限；未儲存任何資料。"
    assert site.state() == before and site.store_files() == files


def _big_register_workbook(systems: int, drills_each: int) -> bytes:
    from openpyxl import Workbook

    from ccinspect.continuity import KINDS

    wb = Workbook(write_only=True)
    for kind in KINDS:
        ws = wb.create_sheet(kind)
        ws.append(list(KINDS[kind][0].model_fields))
        if kind == "systems":
            for i in range(systems):
                ws.append([f"S{i}", f"系統 {i}", "資訊部"])
        if kind == "drills":
            for i in range(systems * drills_each):
                ws.append([f"D{i}", "bcp", "2025-03-01", "停電", f"S{i % systems}", "", False, "", 60, 45, 10, 5,
                           "passed"])
    import io

    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_killed_mid_continuity_import_keeps_the_register_as_it_was(site):
    cookies = site.sign_in()
    before, files = site.state(), site.store_files()
    assert before["register"]["systems"] and before["register"]["impact_analyses"]
    workbook = _big_register_workbook(1500, 5)  # 9000 rows: many seconds of inserts in one transaction
    body, ctype = h.multipart({"csrfmiddlewaretoken": cookies["csrfmiddlewaretoken"]}, "file", b"register.xlsx",
                              workbook)
    sock = socket.create_connection(("127.0.0.1", site.port), timeout=300)
    sock.sendall((f"POST /continuity/import/ HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: {_cookie_header(cookies)}\r\n"
                  f"Content-Type: {ctype}\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode()
                 + body)  # the whole request is sent: the server does the rest alone
    _wait_for("the import's write transaction", _held(site.in_write_transaction, 0.5), timeout=240)
    sock.settimeout(0.01)
    with pytest.raises((TimeoutError, BlockingIOError)):
        sock.recv(1)  # no answer yet: the import is still running
    site.kill()
    sock.close()
    assert site.state() == before, "the import is one transaction: the register is as it was"
    _same_files(site, files)
    # nothing a crash left needs repair: the audit chain and every evidence file check out
    report = json.loads(site.run(CCINSPECT, "verify", "--json").stdout)
    assert report["ok"] and report["orphans"] == []


def test_killed_mid_results_import_leaves_no_evidence_and_no_file(site):
    refs = site.ids["refs"]
    rows = [{"ref_id": refs[i % len(refs)], "status": "pass", "summary": f"run {i}",
             "evidence": [{"path": f"log{i}.txt", "sha256": hashlib.sha256(str(i).encode()).hexdigest()}]}
            for i in range(4000)]
    before, files = site.state(), site.store_files()
    body = json.dumps({"results": rows, "source": "crash.json"}).encode()
    sock = socket.create_connection(("127.0.0.1", site.port), timeout=300)
    sock.sendall((f"POST /api/inspections/{site.ids['inspection']}/results HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                  f"Authorization: Bearer {site.ids['token']}\r\nContent-Type: application/json\r\n"
                  f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode() + body)
    _wait_for("the import's write transaction", _held(site.in_write_transaction, 0.5), timeout=240)
    assert site.store_files() == files  # rows are being written; their files come after every row
    site.kill()
    sock.close()
    assert site.state() == before
    _same_files(site, files)
    # and a completed import stores every file it names (a smaller one, for time)
    site.start()
    small = json.dumps({"results": rows[:50], "source": "ok.json"}).encode()
    status, data, _r = site.request("POST", f"/api/inspections/{site.ids['inspection']}/results", small,
                                    site.api_headers() | {"Content-Type": "application/json"})
    assert status == 200 and len(json.loads(data)["attached"]) == 50, data[:300]
    new = [e for e in site.state()["evidence"] if e not in before["evidence"]]
    assert len(new) == 50 and {site.media / e[0] for e in new} == set(site.store_files()) - set(files)


def test_verify_names_and_sweeps_what_a_crash_can_leave(site):
    """The window no test can hit by killing (after a file's rename, before its record's commit) leaves an
    orphan: `ccinspect verify` lists it, --sweep-orphans removes it once it is older than the grace period,
    and files that records name, or that are younger, stay."""
    body, ctype = h.multipart({}, "file", b"kept.txt", b"kept evidence\n")
    status, data, _r = site.request("POST", f"/api/items/{site.ids['item']}/evidence", body,
                                    site.api_headers() | {"Content-Type": ctype})
    assert status == 201
    kept = site.store_files()
    assert json.loads(site.run(CCINSPECT, "verify", "--json", "--grace-minutes", "0").stdout)["orphans"] == []
    sha = hashlib.sha256(b"orphan\n").hexdigest()
    old, temp, young = site.media / sha[:2] / sha, site.media / "ab" / ".upload-k3j2", site.media / "cd" / ("c" * 64)
    for p in (old, temp, young):
        p.parent.mkdir(exist_ok=True)
        p.write_bytes(b"orphan\n")
    hour_ago = time.time() - 3600
    for p in (old, temp):
        os.utime(p, (hour_ago, hour_ago))
    report = json.loads(site.run(CCINSPECT, "verify", "--json", "--grace-minutes", "30").stdout)
    assert report["ok"] and sorted(report["orphans"]) == sorted([f"{sha[:2]}/{sha}", "ab/.upload-k3j2"])
    assert report["swept"] == [] and old.exists()
    report = json.loads(site.run(CCINSPECT, "verify", "--json", "--sweep-orphans", "--grace-minutes", "30").stdout)
    assert sorted(report["swept"]) == sorted(report["orphans"]) and len(report["swept"]) == 2
    assert not old.exists() and not temp.exists() and young.exists()
    assert all(p.exists() for p in kept)
    out = site.run(CCINSPECT, "verify", "--grace-minutes", "0").stdout
    assert "orphan files: 1 not named by any record" in out and "cd/" + "c" * 64 in out
