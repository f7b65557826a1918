"""Page-load benchmark in the browser (not a test, not run in CI): every page, the regulator's included.

1. Makes its own database (SQLite under --dir, or --pg/--db on PostgreSQL), runs `ccinspect web migrate` and
   `ccinspect web seed-demo` (the demo brokers, users and the 64-broker market), unless --reuse;
2. starts `ccinspect serve` (collectstatic, gunicorn, whitenoise) on a free port;
3. in Debian's chromium (Playwright), signs in as the demo users (the TOTP code for those with a second
   factor) and loads every page their roles open, twice: first with an empty browser cache (each role's first
   visit), then again (the usual case: static files are cached for a year under their hashed names);
4. prints, per page, the time to the load event (navigation start to loadEventEnd: HTML, scripts, styles,
   charts' data), the bytes transferred, and the slowest pages; exits 1 if a page misses --target-ms (1000)
   on the warm run or answers other than 200.

    .venv/bin/python bench/page_load.py                # about 3 minutes (seeding is most of it)
    .venv/bin/python bench/page_load.py --reuse        # the database of the last run
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from web_load import CCINSPECT, ROOT, free_port, recreate_database, run, wait_ready  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
PASSWORD = {"demo-officer": "Officer-demo-2025!", "demo-auditor": "Auditor-demo-2025!",
            "demo-regulator": "Regulator-2025!", "admin": "Admin-demo-2025!", "demo-admin": "BrokerAdmin-2025!"}
# (user, pages); "{...}" parts are found on an earlier page by the regex in FIND
PAGES = {
    "demo-officer": ["/dashboard/", "/inspections/", "/inspections/plan/", "/inspections/{inspection}/",
                     "/findings/", "/findings/{finding}/", "/incidents/", "/incidents/{incident}/", "/continuity/",
                     "/continuity/amendment/", "/reports/statement/", "/settings/deductions/", "/accounts/tokens/",
                     "/accounts/mfa/", "/api/docs"],
    "demo-auditor": ["/dashboard/", "/audit/"],
    "demo-regulator": ["/regulator/", "/regulator/now/", "/regulator/trends/", "/regulator/brokers/{broker}/",
                       "/dashboard/", "/findings/", "/incidents/"],
    "demo-admin": ["/accounts/users/", "/audit/"],
    "admin": ["/brokers/", "/brokers/{org}/", "/accounts/users/", "/accounts/users/?page=2"],
}
FIND = {"inspection": r'href="/inspections/(\d+)/"', "finding": r'href="/findings/(\d+)/"',
        "incident": r'href="/incidents/(\d+)/"', "broker": r'href="/regulator/brokers/(\d+)/"',
        "org": r'href="/brokers/(\d+)/"'}
TIMING = """() => { const n = performance.getEntriesByType('navigation')[0];
  const r = performance.getEntriesByType('resource');
  return {load: n.loadEventEnd - n.startTime, ttfb: n.responseStart - n.startTime, status: n.responseStatus,
          bytes: n.transferSize + r.reduce((a, x) => a + (x.transferSize || 0), 0), resources: r.length}; }"""


def sign_in(page, base: str, user: str) -> None:
    from ccinspect.web.demo import DEMO_TOTP, totp_now  # noqa: PLC0415

    page.goto(f"{base}/accounts/login/")
    page.fill("#username", user)
    page.fill("#password", PASSWORD[user])
    page.click("#signin")
    if user in DEMO_TOTP:
        page.wait_for_selector("#token")
        page.fill("#token", totp_now(DEMO_TOTP[user]))
        page.click("#signin")
    page.wait_for_url(re.compile(r".*/(dashboard|regulator)/.*"))


def measure(browser, base: str, user: str, found: dict) -> list[dict]:
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-TW")
    page = ctx.new_page()
    sign_in(page, base, user)
    rows = []
    for run_name in ("cold", "warm"):
        if run_name == "cold":  # an empty cache for the pages (sign-in already fetched the common files)
            cdp = ctx.new_cdp_session(page)
            cdp.send("Network.clearBrowserCache")
        for path in PAGES[user]:
            want = re.findall(r"{(\w+)}", path)
            if any(k not in found for k in want):
                rows.append({"user": user, "run": run_name, "path": path, "skipped": "no such record"})
                continue
            url = path.format(**found)
            page.goto(base + url, wait_until="load")
            t = page.evaluate(TIMING)
            html = page.content()
            for key, rx in FIND.items():
                m = re.search(rx, html)
                if m and key not in found:
                    found[key] = m.group(1)
            rows.append({"user": user, "run": run_name, "path": url, **t})
    ctx.close()
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dir", default="/var/tmp/ccinspect-pagebench", help="database, static files, server log")
    ap.add_argument("--pg", default="", help="PostgreSQL server URL (default: SQLite under --dir)")
    ap.add_argument("--db", default="ccinspect_pagebench")
    ap.add_argument("--reuse", action="store_true", help="skip migrate and seed-demo")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--target-ms", type=float, default=1000)
    args = ap.parse_args()
    work = Path(args.dir)
    work.mkdir(parents=True, exist_ok=True)
    key_file = work / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
    db_url = (args.pg.rstrip("/") + "/" + args.db) if args.pg else f"sqlite:///{work / 'bench.sqlite3'}"
    env = dict(os.environ, DATABASE_URL=db_url, CCINSPECT_VAR=str(work), SECRET_KEY=key_file.read_text(),
               CCINSPECT_DEBUG="0", ALLOWED_HOSTS="127.0.0.1", CCINSPECT_LOGIN_RATE="100000/m",
               PYTHONPATH=str(ROOT / "src"))
    print(f"database {db_url}; work dir {work}", flush=True)
    if not args.reuse:
        if args.pg:
            recreate_database(args.pg.rstrip("/") + "/postgres", args.db)
        else:
            (work / "bench.sqlite3").unlink(missing_ok=True)
        run([CCINSPECT, "web", "migrate"], env, "ccinspect web migrate")
        run([CCINSPECT, "web", "seed-demo"], env, "ccinspect web seed-demo")
    else:
        run([CCINSPECT, "web", "migrate"], env, "ccinspect web migrate")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = (work / "server.log").open("w")
    t0 = time.perf_counter()
    server = subprocess.Popen([CCINSPECT, "serve", "--host", "127.0.0.1", "--port", str(port), "--workers",
                               str(args.workers)], env=env, stdout=log, stderr=subprocess.STDOUT,
                              start_new_session=True)
    rows: list[dict] = []
    try:
        wait_ready(base, server, timeout=600)  # collectstatic compresses every file first
        print(f"  collectstatic and server start: {time.perf_counter() - t0:.1f} s", flush=True)
        from playwright.sync_api import sync_playwright  # noqa: PLC0415

        os.environ.update(DATABASE_URL=db_url, CCINSPECT_VAR=str(work), SECRET_KEY=env["SECRET_KEY"])
        sys.path.insert(0, str(ROOT / "src"))
        from ccinspect.web import setup  # noqa: PLC0415 - the demo's TOTP secrets live with its models

        setup()
        found: dict = {}
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
            for user in PAGES:
                rows += measure(browser, base, user, found)
            browser.close()
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
    print(f"\n{'user':15} {'page':34} {'cold ms':>8} {'warm ms':>8} {'TTFB ms':>8} {'cold kB':>8} {'warm kB':>8}")
    bad = []
    by = {(r["user"], r["path"], r["run"]): r for r in rows}
    for (user, path, run_name), r in by.items():
        if run_name != "warm":
            continue
        if r.get("skipped"):
            print(f"{user:15} {path:34} skipped: {r['skipped']}")
            continue
        cold = by.get((user, path, "cold"), {})
        print(f"{user:15} {path:34} {cold.get('load', 0):8.0f} {r['load']:8.0f} {r['ttfb']:8.0f} "
              f"{cold.get('bytes', 0) / 1024:8.0f} {r['bytes'] / 1024:8.0f}")
        if r["status"] != 200 or r["load"] >= args.target_ms or cold.get("load", 0) >= args.target_ms:
            bad.append(f"{user} {path}: cold {cold.get('load', 0):.0f} ms, warm {r['load']:.0f} ms, status {r['status']}")
    loads = sorted((r["load"] for r in rows if not r.get("skipped") and r["run"] == "warm"), reverse=True)
    colds = sorted((r["load"] for r in rows if not r.get("skipped") and r["run"] == "cold"), reverse=True)
    load1, load5, _ = os.getloadavg()
    print(f"\nload average {load1:.1f} / {load5:.1f} on {os.cpu_count()} cores (figures inflate with it)")
    print(f"{len(loads)} pages; warm: slowest {loads[0]:.0f} ms, median {loads[len(loads) // 2]:.0f} ms; "
          f"cold: slowest {colds[0]:.0f} ms, median {colds[len(colds) // 2]:.0f} ms (target < {args.target_ms:.0f} ms)")
    if bad:
        print("missed:\n  " + "\n  ".join(bad))
        raise SystemExit(1)


if __name__ == "__main__":
    main()
