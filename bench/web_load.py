"""Web load benchmark (not run in CI): signed-in users against `ccinspect serve` on PostgreSQL.

1. (Re)creates its own PostgreSQL database (--db, default ccinspect_bench on --pg), runs `ccinspect web migrate`
   and `ccinspect web seed-demo` (the 64-broker demo market) against it;
2. creates the bench users through the ORM, ready to use (non-admin roles, no MFA, password not due for
   change), each with an API token: broker users spread over --brokers brokers (a security officer and a
   computer auditor per broker; each such broker gets an inspection in progress to upload evidence to) and
   --regulators regulator inspectors;
3. starts `ccinspect serve` (gunicorn, --workers × --threads) on a free port, with login rate limits raised
   for its own server (every user signs in once, through the real form with its CSRF token);
4. drives the users concurrently for --duration seconds, each in a loop of one action then a think time
   (--think, seconds, uniform): dashboard, inspections list, a checklist, evidence upload (small files) and
   download, findings list and detail, the audit trail (auditors), the regulator's views (regulators), and
   API reads with the Bearer token (inspections, items, findings, evidence, catalog);
5. prints requests, errors and p50/p95/p99/max per endpoint and overall, and exits non-zero if a target is
   missed: no errors at all; p95 < --target-ms (300) for every page and API read; writes (sign-in, upload,
   item result) are judged against --write-target-ms (1000): they hash a password with Argon2 on purpose,
   or take the audit trail's chain-head lock (one writer at a time) and write the evidence file.

    .venv/bin/python bench/web_load.py                 # 50 users, 5 minutes
    .venv/bin/python bench/web_load.py --duration 30   # a trial run
    .venv/bin/python bench/web_load.py --reuse         # skip migrate/seed: reuse the database of a last run
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import random
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable
CCINSPECT = str(Path(PY).parent / "ccinspect")
PASSWORD = "Bench-load-2025!x"  # every bench user's; the database is the bench's own

# ---- setup (runs in a child process with Django configured for the bench database) ---------------------


def setup_users(n_users: int, n_regulators: int, n_brokers: int) -> dict:
    import datetime as dt  # noqa: PLC0415

    from django.db import transaction  # noqa: PLC0415
    from django.utils import timezone  # noqa: PLC0415

    from ccinspect.core.dates import end_of_month  # noqa: PLC0415
    from ccinspect.web.accounts import audit  # noqa: PLC0415
    from ccinspect.web.accounts.models import ApiToken, Organisation, Role, User  # noqa: PLC0415
    from ccinspect.web.accounts.services import create_user  # noqa: PLC0415
    from ccinspect.web.demo import DEMO_BROKER  # noqa: PLC0415
    from ccinspect.web.inspections import services as svc  # noqa: PLC0415
    from ccinspect.web.inspections.models import Evidence, Finding, Inspection  # noqa: PLC0415

    today = timezone.localdate()
    brokers = sorted(Organisation.objects.filter(kind=Organisation.BROKER), key=lambda o: (o.name != DEMO_BROKER,
                                                                                             o.pk))
    all_broker_ids = [o.pk for o in brokers]
    brokers = brokers[:n_brokers]
    regulator_org = Organisation.objects.filter(kind=Organisation.REGULATOR).first()
    users, orgs = [], {}

    def make(username, org, role):
        User.objects.filter(username=username).delete()
        u, _pw = create_user(None, organisation=org, username=username, role=role, password=PASSWORD,
                             title="bench")
        User.objects.filter(pk=u.pk).update(must_change_password=False, password_changed_at=timezone.now())
        with audit.acting_as(u):
            if Role(role).needs_second_factor:  # the regulator's roles sign in with a TOTP code
                from django_otp.plugins.otp_totp.models import TOTPDevice  # noqa: PLC0415

                u.totp_hex = TOTPDevice.objects.create(user=u, name="bench", confirmed=True).key
            _tok, key = ApiToken.issue(u, "bench")
        return u, key

    with transaction.atomic():
        for k in range(n_users - n_regulators):
            org = brokers[k % len(brokers)]
            role = Role.SECURITY_OFFICER if k < len(brokers) else Role.COMPUTER_AUDITOR
            u, key = make(f"bench{k:03d}", org, role)
            users.append({"username": u.username, "role": role.value, "org": org.pk, "token": key})
            if role == Role.SECURITY_OFFICER and org.pk not in orgs:
                orgs[org.pk] = _current_inspection(svc, Inspection, org, u, today, dt, end_of_month)
        for k in range(n_regulators):
            u, key = make(f"benchreg{k:02d}", regulator_org, Role.REGULATOR)
            users.append({"username": u.username, "role": u.role, "org": None, "token": key, "totp": u.totp_hex})
    out_orgs = {}
    for org in brokers:
        cur = orgs.get(org.pk)
        items = list(cur.items.filter(assessable=True).order_by("order").values_list("pk", flat=True)) if cur else []
        out_orgs[str(org.pk)] = {
            "inspections": list(Inspection.objects.filter(organisation=org).values_list("pk", flat=True)),
            "current": cur.pk if cur else None, "items": items[:40],
            "findings": list(Finding.objects.filter(organisation=org).values_list("pk", flat=True)),
            "evidence": list(Evidence.objects.filter(organisation=org).values_list("pk", flat=True)[:200]),
        }
    return {"users": users, "orgs": out_orgs, "all_brokers": all_broker_ids}


def _current_inspection(svc, Inspection, org, officer, today, dt, end_of_month):
    """The broker's inspection in progress (where evidence can be uploaded): an existing one, else one created
    for an occurrence of this month or the next that applies to the broker."""
    cur = Inspection.objects.filter(organisation=org, status=Inspection.IN_PROGRESS).order_by("-period_end").first()
    if cur is not None:
        return cur
    start = today.replace(day=1)
    occs = svc.calendar_for(org, start, end_of_month(end_of_month(today) + dt.timedelta(days=1)))
    have = set(Inspection.objects.filter(organisation=org).values_list("occurrence_id", flat=True))
    ok = svc.inspectable(org, occs)
    for o in occs:
        if o.id in ok and o.id not in have:
            return svc.create_inspection(officer, org, o.id)
    return None


# ---- the server ------------------------------------------------------------------------------------------


def recreate_database(admin_url: str, name: str) -> None:
    import psycopg  # noqa: PLC0415

    if not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
        raise SystemExit(f"--db {name!r}: use lower-case letters, digits and _ only")
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(cmd: list[str], env: dict, what: str) -> str:
    t = time.perf_counter()
    p = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if p.returncode != 0:
        raise SystemExit(f"{what} failed ({p.returncode}):\n{p.stdout[-3000:]}\n{p.stderr[-3000:]}")
    print(f"  {what}: {time.perf_counter() - t:.1f} s", flush=True)
    return p.stdout


def group_cpu(pgid: int) -> float:
    """CPU seconds (user + system) used so far by the processes of a process group: gunicorn's master and
    workers, which the bench starts in a session of their own."""
    total, tick = 0.0, os.sysconf("SC_CLK_TCK")
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # the process has ended
        if int(fields[2]) == pgid:
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def wait_ready(url: str, proc: subprocess.Popen, timeout: float = 60) -> None:
    import urllib.request  # noqa: PLC0415

    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise SystemExit(f"the server exited ({proc.returncode}); see its log")
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise SystemExit("the server did not answer /healthz in time")


# ---- the load ----------------------------------------------------------------------------------------


class Stats:
    def __init__(self):
        self.samples: dict[str, list[float]] = defaultdict(list)
        self.errors: dict[str, int] = defaultdict(int)
        self.examples: dict[str, list[str]] = defaultdict(list)
        self.measuring = False
        self.elapsed = 0.0

    def add(self, name: str, ms: float, ok: bool, detail: str = "", always: bool = False) -> None:
        if not (self.measuring or always):
            return
        self.samples[name].append(ms)
        if not ok:
            self.errors[name] += 1
            if len(self.examples[name]) < 3:
                self.examples[name].append(detail[:300])


WRITES = ("POST",)
CSRF_RE = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')
EVIDENCE_RE = re.compile(rb'/evidence/(\d+)/download/')


class User:
    def __init__(self, info: dict, plan: dict, base: str, stats: Stats, rng: random.Random, end: float,
                 think: tuple[float, float]):
        self.info, self.base, self.stats, self.rng, self.end, self.think = info, base, stats, rng, end, think
        self.org = plan["orgs"].get(str(info["org"])) if info["org"] else None
        self.all_brokers = plan["all_brokers"]
        # what a regulator opens: any broker's inspections (a few of each bench broker's)
        self.any_inspections = [i for o in plan["orgs"].values() for i in o["inspections"][:5]]
        self.uploaded: dict[int, str] = {}  # evidence id -> sha256 of what this user sent
        self.n = 0

    async def req(self, name: str, method: str, path: str, *, expect: int = 200, check=None, api=False,
                  always=False, **kw) -> bytes | None:
        headers = kw.pop("headers", {})
        if api:
            headers["Authorization"] = f"Bearer {self.info['token']}"
        t = time.perf_counter()
        detail, body, ok = "", None, False
        try:
            async with self.session.request(method, self.base + path, allow_redirects=False, headers=headers,
                                            **kw) as r:
                body = await r.read()
                status, location = r.status, r.headers.get("Location", "")
            ok = status == expect
            if not ok:
                detail = f"{method} {path}: HTTP {status} {location} {body[:200]!r}"
            elif check is not None:
                problem = check(body)
                if problem:
                    ok, detail = False, f"{method} {path}: {problem}"
        except Exception as exc:  # noqa: BLE001 - every failure is counted as an error, with its reason
            detail = f"{method} {path}: {type(exc).__name__}: {exc}"
        self.stats.add(name, (time.perf_counter() - t) * 1000, ok, detail, always=always)
        return body if ok else None

    # checks: a whole page, JSON of the expected shape
    @staticmethod
    def page(marker: bytes = b""):
        def check(body: bytes):
            if b"</html>" not in body:
                return "not a whole HTML page"
            if marker and marker not in body:
                return f"{marker!r} not on the page"
            return ""
        return check

    @staticmethod
    def json_of(kind):
        def check(body: bytes):
            try:
                data = json.loads(body)
            except ValueError:
                return "not JSON"
            return "" if isinstance(data, kind) else f"JSON is not a {kind.__name__}"
        return check

    async def login(self) -> bool:
        body = await self.req("GET /accounts/login/", "GET", "/accounts/login/", always=True, check=self.page())
        m = CSRF_RE.search(body or b"")
        if not m:
            return False
        got = await self.req("POST /accounts/login/", "POST", "/accounts/login/", always=True, data={
            "csrfmiddlewaretoken": m.group(1).decode(), "username": self.info["username"], "password": PASSWORD,
            "next": ""}, headers={"Referer": self.base + "/accounts/login/"},
            expect=200 if self.info.get("totp") else 302)
        if got is not None and self.info.get("totp"):  # the second step: the current TOTP code
            from django_otp.oath import totp  # noqa: PLC0415

            code = f"{totp(bytes.fromhex(self.info['totp'])):06d}"
            got = await self.req("POST /accounts/login/ (TOTP)", "POST", "/accounts/login/", expect=302, always=True,
                                 data={"csrfmiddlewaretoken": self.csrf(), "step": "token", "token": code, "next": ""},
                                 headers={"Referer": self.base + "/accounts/login/"})
        return got is not None

    def csrf(self) -> str:
        for c in self.session.cookie_jar:
            if c.key == "csrftoken":
                return c.value
        return ""

    def pick(self, seq):
        return self.rng.choice(seq) if seq else None

    # ---- actions
    async def dashboard(self):
        await self.req("GET /dashboard/", "GET", "/dashboard/", check=self.page())

    async def inspections(self):
        page = "" if self.rng.random() < 0.7 else f"?page={self.rng.randint(1, 3)}"
        await self.req("GET /inspections/", "GET", "/inspections/" + page, check=self.page())

    async def checklist(self):
        i = self.org["current"] if self.org["current"] and self.rng.random() < 0.5 else self.pick(
            self.org["inspections"])
        if i:
            await self.req("GET /inspections/{id}/", "GET", f"/inspections/{i}/", check=self.page(b'id="item-'))

    async def upload(self):
        cur, item = self.org["current"], self.pick(self.org["items"])
        if not cur or not item:
            return await self.checklist()
        self.n += 1
        size = self.rng.randint(500, 20_000)
        text = f"bench evidence {self.info['username']} #{self.n} {secrets.token_hex(8)}\n"
        data = (text * (size // len(text) + 1)).encode()[:size]
        name = f"bench-{self.info['username']}-{self.n}.txt"
        form = {"csrfmiddlewaretoken": self.csrf(), "note": "bench", "file": data}
        import aiohttp  # noqa: PLC0415

        fd = aiohttp.FormData()
        for k, v in form.items():
            if k == "file":
                fd.add_field("file", v, filename=name, content_type="text/plain")
            else:
                fd.add_field(k, v)
        body = await self.req("POST /inspections/{id}/items/{id}/evidence/ (upload)", "POST",
                              f"/inspections/{cur}/items/{item}/evidence/", data=fd,
                              headers={"HX-Request": "true", "Referer": f"{self.base}/inspections/{cur}/"},
                              check=lambda b: "" if name.encode() in b else "the new file is not listed")
        if body:
            ids = [int(x) for x in EVIDENCE_RE.findall(body)]
            if ids:
                self.uploaded[max(ids)] = hashlib.sha256(data).hexdigest()

    async def download(self):
        mine = list(self.uploaded)
        if mine and self.rng.random() < 0.6:
            e = self.rng.choice(mine)
        else:
            e = self.pick(self.org["evidence"])
        if not e:
            return
        want = self.uploaded.get(e)

        def check(b: bytes):
            if not b:
                return "empty file"
            return "" if want is None or hashlib.sha256(b).hexdigest() == want else "bytes differ from the upload"
        if self.rng.random() < 0.7:
            await self.req("GET /evidence/{id}/download/", "GET", f"/evidence/{e}/download/", check=check)
        else:
            await self.req("GET /api/evidence/{id}/download", "GET", f"/api/evidence/{e}/download", api=True,
                           check=check)

    async def assess(self):
        cur, item = self.org["current"], self.pick(self.org["items"])
        if not cur or not item:
            return await self.findings()
        result = self.rng.choice(["compliant", "compliant", "deficient"])
        await self.req("POST /inspections/{id}/items/{id}/ (result)", "POST", f"/inspections/{cur}/items/{item}/",
                       data={"csrfmiddlewaretoken": self.csrf(), "result": result, "notes": "bench", "na_reason": ""},
                       headers={"HX-Request": "true", "Referer": f"{self.base}/inspections/{cur}/"},
                       check=lambda b: "" if f'data-result="{result}"'.encode() in b else "result not shown")

    async def findings(self):
        q = self.rng.choice(["", "", "?status=open", "?status=overdue", "?page=2"])
        await self.req("GET /findings/", "GET", "/findings/" + q, check=self.page())

    async def finding(self):
        f = self.pick(self.org["findings"]) if self.org else None
        if f:
            await self.req("GET /findings/{id}/", "GET", f"/findings/{f}/", check=self.page(b"F-"))
        else:
            await self.findings()

    async def audit(self):
        await self.req("GET /audit/", "GET", "/audit/" + self.rng.choice(["", "", "?page=2"]), check=self.page())

    async def api(self):
        r = self.rng.random()
        if r < 0.25:
            await self.req("GET /api/inspections", "GET", "/api/inspections", api=True, check=self.json_of(list))
        elif r < 0.4 and self.org:
            i = self.pick(self.org["inspections"])
            await self.req("GET /api/inspections/{id}", "GET", f"/api/inspections/{i}", api=True,
                           check=self.json_of(dict))
        elif r < 0.55 and self.org:
            i = self.org["current"] or self.pick(self.org["inspections"])
            await self.req("GET /api/inspections/{id}/items", "GET", f"/api/inspections/{i}/items", api=True,
                           check=self.json_of(list))
        elif r < 0.75:
            await self.req("GET /api/findings", "GET", "/api/findings" + self.rng.choice(["", "?status=open"]),
                           api=True, check=self.json_of(list))
        elif r < 0.85 and self.org and self.org["findings"]:
            await self.req("GET /api/findings/{id}", "GET", f"/api/findings/{self.pick(self.org['findings'])}",
                           api=True, check=self.json_of(dict))
        else:
            chapter = self.rng.choice(["", "?chapter=CC-16000", "?chapter=CC-18000"])
            await self.req("GET /api/catalog/requirements", "GET", "/api/catalog/requirements" + chapter, api=True,
                           check=self.json_of(list))

    async def regulator(self):
        r = self.rng.random()
        if r < 0.3:
            await self.req("GET /regulator/", "GET", "/regulator/", check=self.page())
        elif r < 0.45:
            await self.req("GET /regulator/now/", "GET", "/regulator/now/", check=self.page())
        elif r < 0.6:
            await self.req("GET /regulator/trends/", "GET", "/regulator/trends/", check=self.page())
        elif r < 0.8:
            b = self.pick(self.all_brokers)
            await self.req("GET /regulator/brokers/{id}/", "GET", f"/regulator/brokers/{b}/", check=self.page())
        elif r < 0.9:
            await self.req("GET /api/regulator/risk-map", "GET", "/api/regulator/risk-map", api=True,
                           check=self.json_of(dict))
        else:
            b = self.pick(self.all_brokers)
            await self.req("GET /dashboard/?broker={id}", "GET", f"/dashboard/?broker={b}", check=self.page())

    def mix(self):
        role = self.info["role"]
        if role == "regulator_inspector":
            return [(self.regulator, 45), (self.dashboard, 10), (self.inspections, 10), (self.findings, 10),
                    (self.api, 15), (self.audit, 5), (self.checklist_any, 5)]
        common = [(self.dashboard, 14), (self.inspections, 10), (self.checklist, 14), (self.findings, 9),
                  (self.finding, 9), (self.download, 8), (self.api, 22)]
        if role == "security_officer":
            return common + [(self.upload, 8), (self.assess, 6)]
        return common + [(self.audit, 8)]

    async def checklist_any(self):
        i = self.pick(self.any_inspections)
        if i:
            await self.req("GET /inspections/{id}/", "GET", f"/inspections/{i}/", check=self.page(b'id="item-'))

    async def run(self, start_delay: float):
        import aiohttp  # noqa: PLC0415

        await asyncio.sleep(start_delay)
        jar = aiohttp.CookieJar(unsafe=True)  # cookies for 127.0.0.1
        timeout = aiohttp.ClientTimeout(total=60)
        # A browser keeps at most a few connections, and drops an idle one before the server does: gunicorn
        # closes a connection idle for 2 s, and a request sent on it just then would be reset.
        connector = aiohttp.TCPConnector(limit=2, keepalive_timeout=1.0)
        async with aiohttp.ClientSession(cookie_jar=jar, timeout=timeout, connector=connector) as self.session:
            if not await self.login():
                return
            actions, weights = zip(*self.mix(), strict=True)
            while time.monotonic() < self.end:
                await self.rng.choices(actions, weights)[0]()
                await asyncio.sleep(self.rng.uniform(*self.think))


async def drive(plan: dict, base: str, duration: float, warmup: float, ramp: float, think, seed: int) -> Stats:
    """Every user signs in (spread over `ramp` seconds) and loops until the end; measured after the warm-up."""
    stats = Stats()
    rng = random.Random(seed)
    end = time.monotonic() + ramp + warmup + duration
    users = [User(u, plan, base, stats, random.Random(rng.random()), end, think) for u in plan["users"]]
    tasks = [asyncio.create_task(u.run(ramp * k / max(1, len(users)))) for k, u in enumerate(users)]
    await asyncio.sleep(ramp + warmup)
    stats.measuring = True
    t0 = time.monotonic()
    await asyncio.gather(*tasks)
    stats.elapsed = time.monotonic() - t0
    return stats


def pct(sorted_ms: list[float], p: float) -> float:
    if not sorted_ms:
        return 0.0
    k = min(len(sorted_ms) - 1, max(0, int(round(p / 100 * len(sorted_ms) + 0.5)) - 1))
    return sorted_ms[k]


def report(stats: Stats, target: float, write_target: float) -> bool:
    print()
    hdr = f"{'endpoint':52} {'requests':>8} {'errors':>6} {'p50':>7} {'p95':>7} {'p99':>7} {'max':>7}  target"
    print(hdr)
    print("-" * len(hdr))
    ok = True
    every: list[float] = []
    for name in sorted(stats.samples):
        ms = sorted(stats.samples[name])
        every += ms
        limit = write_target if name.startswith(WRITES) else target
        p95 = pct(ms, 95)
        miss = stats.errors[name] > 0 or p95 >= limit
        ok &= not miss
        print(f"{name:52} {len(ms):8} {stats.errors[name]:6} {pct(ms, 50):7.0f} {p95:7.0f} {pct(ms, 99):7.0f} "
              f"{ms[-1]:7.0f}  p95<{limit:.0f}{'  MISSED' if miss else ''}")
    every.sort()
    n_err = sum(stats.errors.values())
    print("-" * len(hdr))
    print(f"{'overall':52} {len(every):8} {n_err:6} {pct(every, 50):7.0f} {pct(every, 95):7.0f} "
          f"{pct(every, 99):7.0f} {(every[-1] if every else 0):7.0f}")
    elapsed = getattr(stats, "elapsed", 0) or 1
    print(f"throughput {len(every) / elapsed:.1f} requests/s over {elapsed:.0f} s (ms; sign-in not in the window)")
    for name, ex in stats.examples.items():
        for e in ex:
            print(f"  error {name}: {e}")
    return ok


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--duration", type=float, default=300, help="measured seconds (default 300)")
    ap.add_argument("--users", type=int, default=50, help="concurrent users, regulators included")
    ap.add_argument("--regulators", type=int, default=4)
    ap.add_argument("--brokers", type=int, default=23, help="brokers the broker users are spread over")
    ap.add_argument("--workers", type=int, default=3, help="gunicorn worker processes")
    ap.add_argument("--threads", type=int, default=4, help="threads per worker (gthread)")
    ap.add_argument("--think", default="1,3", help="think time between actions, seconds: min,max")
    ap.add_argument("--ramp", type=float, default=60, help="seconds over which the users sign in")
    ap.add_argument("--warmup", type=float, default=10, help="seconds of load before measuring")
    ap.add_argument("--target-ms", type=float, default=300, help="p95 target for pages and API reads")
    ap.add_argument("--write-target-ms", type=float, default=1000, help="p95 target for sign-in and writes")
    ap.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/", help="PostgreSQL server URL")
    ap.add_argument("--db", default="ccinspect_bench", help="the bench's own database (dropped and recreated)")
    ap.add_argument("--dir", default="/var/tmp/ccinspect-webbench", help="evidence, static files, server log")
    ap.add_argument("--reuse", action="store_true", help="reuse the database and users of the last run")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--setup-users", nargs=3, type=int, help=argparse.SUPPRESS)  # internal: child process
    args = ap.parse_args()

    if args.setup_users:
        from ccinspect.web import setup  # noqa: PLC0415

        setup()
        print(json.dumps(setup_users(*args.setup_users)))
        return

    try:
        import aiohttp  # noqa: F401, PLC0415
    except ImportError:
        raise SystemExit("bench/web_load.py needs aiohttp: .venv/bin/pip install -e '.[bench]'") from None
    work = Path(args.dir)
    work.mkdir(parents=True, exist_ok=True)
    db_url = args.pg.rstrip("/") + "/" + args.db
    key_file = work / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
    env = dict(os.environ, DATABASE_URL=db_url, CCINSPECT_VAR=str(work), SECRET_KEY=key_file.read_text(),
               CCINSPECT_DEBUG="0", ALLOWED_HOSTS="127.0.0.1",
               # the bench signs 50 users in from one address within seconds: raise the login rate limits
               CCINSPECT_LOGIN_RATE="100000/m",
               CCINSPECT_SESSION_MINUTES=str(max(30, int(args.duration / 60) + 30)),
               PYTHONPATH=str(ROOT / "src"))
    plan_file = work / "plan.json"
    print(f"database {db_url}; work dir {work}", flush=True)
    if args.reuse and plan_file.exists():
        run([CCINSPECT, "web", "migrate"], env, "ccinspect web migrate")  # the code may have new migrations
    else:
        recreate_database(args.pg.rstrip("/") + "/postgres", args.db)
        run([CCINSPECT, "web", "migrate"], env, "ccinspect web migrate")
        run([CCINSPECT, "web", "seed-demo"], env, "ccinspect web seed-demo")
        out = run([PY, __file__, "--setup-users", str(args.users), str(args.regulators), str(args.brokers)], env,
                  f"{args.users} bench users and their brokers' inspections")
        plan_file.write_text(out.strip().splitlines()[-1])
    plan = json.loads(plan_file.read_text())
    if len(plan["users"]) != args.users:
        raise SystemExit(f"{plan_file} has {len(plan['users'])} users, not {args.users}: run without --reuse")

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = (work / "server.log").open("w")
    cmd = [CCINSPECT, "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(args.workers)]
    if args.threads > 1:
        cmd += ["--threads", str(args.threads)]
    server = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_ready(base, server)
        think = tuple(float(x) for x in args.think.split(","))
        print(f"server {base}: gunicorn {args.workers} workers × {args.threads} threads; {args.users} users "
              f"({args.regulators} regulators) over {args.brokers} brokers, think {think[0]}–{think[1]} s; "
              f"measuring {args.duration:.0f} s after {args.ramp:.0f} s sign-in and {args.warmup:.0f} s warm-up",
              flush=True)
        load0 = Path("/proc/loadavg").read_text().split()[:3]
        cpu0, own0, t0 = group_cpu(server.pid), time.process_time(), time.monotonic()
        stats = asyncio.run(drive(plan, base, args.duration, args.warmup, args.ramp, think, args.seed))
        cpu1, own1, t1 = group_cpu(server.pid), time.process_time(), time.monotonic()
        load1 = Path("/proc/loadavg").read_text().split()[:3]
    finally:
        os.killpg(server.pid, signal.SIGTERM)  # gunicorn's master and workers: the session it started
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
        log.close()
    ok = report(stats, args.target_ms, args.write_target_ms)
    print(f"load average (1, 5, 15 min) before: {' '.join(load0)}, after: {' '.join(load1)}; {os.cpu_count()} CPUs")
    print(f"CPU used over the {t1 - t0:.0f} s run (sign-in included): gunicorn {cpu1 - cpu0:.0f} s "
          f"({(cpu1 - cpu0) / (t1 - t0):.2f} cores), this client {own1 - own0:.0f} s ({(own1 - own0) / (t1 - t0):.2f} "
          f"cores); PostgreSQL not counted")
    print("targets met" if ok else "TARGET MISSED")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
