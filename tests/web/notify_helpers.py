"""Shared by the notification tests: a broker's gateway, the login scan's notification rows, the real worker
and a gateway's signed answer."""

from __future__ import annotations

import datetime as dt
import time

from django.core.management import call_command

from ccinspect.notification import contract
from ccinspect.web.notification import services as nsvc
from ccinspect.web.notification.models import Gateway

DETECTED = dt.datetime(2025, 5, 2, 10, 5, tzinfo=dt.timezone(dt.timedelta(hours=8)))


def scan_rows(n: int = 3, prefix: str = "A1234567") -> list[dict]:
    """Rows as `ccinspect logins scan` writes them in alerts.json's "notifications"."""
    return [{"account": f"{prefix}{i:02d}", "kind": "account_takeover" if i % 2 == 0 else "new_source",
             "reason": "successful login from an address named in a credential_stuffing alert",
             "ips": [f"203.0.113.{10 + i}"], "first": f"2025-05-02T09:{40 + i:02d}:00+08:00"} for i in range(n)]


def gateway(officer, org, url: str, **kw) -> Gateway:
    data = {"channel": "webhook", "webhook_url": url, "token_hours": 72, "follow_up_hours": 24,
            "backoff_seconds": 1, "timeout_seconds": 2, "max_attempts": 4} | kw
    gw, secret = nsvc.save_gateway(officer, org, data)
    assert secret and secret == gw.secret
    return gw


def run_worker() -> None:
    """The real worker (django-tasks-db's db_worker), until nothing is due."""
    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", "--interval", "0.1", verbosity=0)


def run_worker_until(check, timeout: float = 20.0) -> None:
    """Run the worker again as retries become due (back-off), until check() holds."""
    end = time.monotonic() + timeout
    while True:
        run_worker()
        if check():
            return
        if time.monotonic() > end:
            raise AssertionError("the worker did not get there in time")
        time.sleep(0.3)


def signed_answer(client, broker_id: int, secret: str, token: str, answer: str, *, timestamp=None, header=None):
    body = contract.answer_body(token, answer)
    header = header or contract.sign(secret, body, timestamp)
    return client.post(f"/api/notification/{broker_id}/answers", data=body, content_type="application/json",
                       headers={contract.SIGNATURE_HEADER: header}), body, header
