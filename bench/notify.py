"""Customer-notification dispatch benchmark (short and bounded; not run in CI).

Two figures, both against a real HTTP receiver on loopback (tests/notification/loopback.py) that answers 500
to the first try of --fail-share of the deliveries, so every run includes retries:

1. contract: --n signed webhook requests (HMAC-SHA256, keep-alive, 8 threads: what one dispatch task does)
   and their retries → notifications per second, attempts per second;
2. full path: --n notifications through `request_notifications` and the real worker (django-tasks-db's
   db_worker, in this process), each attempt recorded and on the audit trail, retries after the back-off
   (1 s) → notifications per second from request to the last one sent. Own database: a temporary SQLite
   file, or --pg DSN (a database the bench drops and recreates).

    .venv/bin/python bench/notify.py                  # 10,000 each
    .venv/bin/python bench/notify.py --n 2000 --skip-full
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]

from tests.notification.loopback import free_port, serve  # noqa: E402

from ccinspect.notification import contract, delivery  # noqa: E402

SECRET = "whsec_bench"


class Gateway:
    """The loopback receiver in a child process (its own interpreter: the figures are not the client and
    server sharing one GIL). It verifies every signature (a bad one gets 401, which the run counts as lost)
    and answers 500 to the first try of `fail_share` of the delivery ids."""

    def __init__(self, fail_share: float):
        self.port = free_port()
        self.proc = multiprocessing.get_context("spawn").Process(
            target=serve, args=(SECRET, "share", self.port, fail_share), daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def __enter__(self):
        import socket

        self.proc.start()
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.1).close()
                return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("the receiver did not start")

    def __exit__(self, *exc):
        self.proc.terminate()
        self.proc.join(5)


def bench_contract(n: int, fail_share: float) -> dict:
    with Gateway(fail_share) as g:
        hook = delivery.Webhook(g.url, SECRET, timeout=10)
        reqs = [contract.NotificationRequest(
            id=f"bench-{i}", broker="1", account=f"A{i:09d}", reason="bench", kind="new_source",
            login_at="2026-05-02T09:41:00+08:00", place="203.0.113.0/24", token=contract.new_token(),
            expires_at="2026-05-05T09:41:00+08:00",
            template={"id": None, "kind": "notification", "language": "zh-hant", "subject": "登入通知",
                      "text": "您的帳戶 A1******89 於 2026-05-02 09:41 自 203.0.113.0/24 登入。"}) for i in range(n)]
        attempts, delivered, lost = 0, 0, 0
        t0 = time.perf_counter()
        todo = reqs
        with ThreadPoolExecutor(8) as pool:
            while todo:
                results = list(pool.map(lambda q: hook.post(q.body(), delivery_id=q.id), todo))
                attempts += len(todo)
                delivered += sum(a.ok for a in results)
                lost += sum(not a.ok and not a.retryable for a in results)
                todo = [q for q, a in zip(todo, results, strict=True) if not a.ok and a.retryable]
        dt = time.perf_counter() - t0
    return {"notifications": n, "delivered": delivered, "lost": lost, "attempts": attempts,
            "retries": attempts - n, "seconds": round(dt, 2), "per_second": round(n / dt),
            "attempts_per_second": round(attempts / dt)}


def bench_full(n: int, fail_share: float, pg: str | None, timeout: float) -> dict:
    tmp = tempfile.mkdtemp(prefix="ccinspect-bench-notify-")
    os.environ.update(SECRET_KEY="bench-secret-key-" + "x" * 40, CCINSPECT_VAR=tmp,
                      DJANGO_SETTINGS_MODULE="ccinspect.web.settings", CCINSPECT_RATELIMIT_CACHE="locmem")
    if pg:
        import psycopg

        base, _, name = pg.rpartition("/")
        with psycopg.connect(f"{base}/postgres", autocommit=True) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{name}"')
            c.execute(f'CREATE DATABASE "{name}"')
        os.environ["DATABASE_URL"] = pg
    else:
        os.environ["DATABASE_URL"] = f"sqlite:///{tmp}/bench.sqlite3"
    import django

    django.setup()
    from django.core.management import call_command
    from django.utils import timezone

    from ccinspect.web.accounts.models import AuditEvent, Organisation, Role, User
    from ccinspect.web.notification import services as nsvc
    from ccinspect.web.notification.models import Attempt, Notification

    call_command("migrate", verbosity=0)
    org = Organisation.objects.create(name="Bench broker", profile={"capital": "120億"})
    officer = User.objects.create(username="bench", organisation=org, role=Role.SECURITY_OFFICER,
                                  must_change_password=False)
    with Gateway(fail_share) as g:
        gw, _ = nsvc.save_gateway(officer, org, {"channel": "webhook", "webhook_url": g.url, "backoff_seconds": 1,
                                                 "timeout_seconds": 10, "max_attempts": 4})
        type(gw).objects.filter(pk=gw.pk).update(secret=SECRET)  # the receiver's (a bench shortcut)
        rows = [{"account": f"A{i:09d}", "kind": "new_source", "reason": "bench", "ips": ["203.0.113.9"],
                 "first": f"2026-05-02T09:{i % 60:02d}:{(i // 60) % 60:02d}+08:00", "country": f"C{i}"}
                for i in range(n)]
        audit0 = AuditEvent.objects.count()
        t0 = time.perf_counter()
        out = nsvc.request_notifications(org, rows, timezone.now(), user=officer, source="bench")
        t_req = time.perf_counter() - t0
        end = time.perf_counter() + timeout
        while Notification.objects.filter(status="queued").exists() and time.perf_counter() < end:
            call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", "--interval", "0.05",
                         verbosity=0)
            time.sleep(0.05)
        dt = time.perf_counter() - t0
        sent = Notification.objects.filter(status="sent").count()
    attempts = Attempt.objects.count()
    return {"database": "postgresql" if pg else "sqlite", "notifications": out["requested"], "sent": sent,
            "attempts": attempts, "retries": attempts - n, "request_seconds": round(t_req, 2),
            "seconds": round(dt, 2), "per_second": round(sent / dt), "audit_events": AuditEvent.objects.count() - audit0,
            "complete": sent == n}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--fail-share", type=float, default=0.1, help="share of deliveries whose first try gets 500")
    ap.add_argument("--pg", help="PostgreSQL DSN of a database the bench may drop and recreate")
    ap.add_argument("--timeout", type=float, default=600, help="bound on the full-path run (seconds)")
    ap.add_argument("--skip-full", action="store_true")
    a = ap.parse_args()
    c = bench_contract(a.n, a.fail_share)
    print(f"contract: {c['notifications']} notifications, {c['attempts']} attempts ({c['retries']} retries) in "
          f"{c['seconds']} s: {c['per_second']} notifications/s, {c['attempts_per_second']} attempts/s "
          f"(delivered {c['delivered']}, lost {c['lost']})")
    ok = c["delivered"] == a.n
    if not a.skip_full:
        f = bench_full(a.n, a.fail_share, a.pg, a.timeout)
        print(f"full path ({f['database']}, worker, records, audit trail): {f['notifications']} requested in "
              f"{f['request_seconds']} s; {f['sent']} sent with {f['attempts']} attempts ({f['retries']} retries) "
              f"in {f['seconds']} s: {f['per_second']} notifications/s; {f['audit_events']} audit events")
        ok = ok and f["complete"]
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
