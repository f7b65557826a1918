"""Production settings from the environment, through the real CLI in subprocesses: `ccinspect web check
--deploy` is clean with CCINSPECT_HTTPS=1; without SECRET_KEY nothing starts; and `ccinspect serve` (gunicorn,
two workers, whitenoise) behind a pretend TLS proxy redirects plain HTTP except /healthz, sends HSTS and the
security headers on pages and static files, sets Secure HttpOnly cookies, and holds the sign-in rate limit
across its workers (the database cache).

Each subprocess gets its own SQLite database under tmp_path, so this runs once, in the SQLite pass."""

from __future__ import annotations

import http.client
import os
import re
import secrets
import socket
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(bool(os.environ.get("DATABASE_URL")),
                                reason="runs in the SQLite pass; the servers use their own SQLite files")

BIN = Path(sys.executable).parent
CCINSPECT = str(BIN / "ccinspect")
# what the test process itself was given (conftest's test key, raised test limits) must not leak in
DROP = ("CCINSPECT_", "DATABASE_URL", "SECRET_KEY", "ALLOWED_HOSTS", "CSRF_TRUSTED_ORIGINS", "DJANGO_")


def env(tmp_path, **extra) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(DROP)}
    return base | {"CCINSPECT_VAR": str(tmp_path / "var")} | extra


def production(tmp_path, **extra) -> dict[str, str]:
    return env(tmp_path, CCINSPECT_HTTPS="1", SECRET_KEY=secrets.token_urlsafe(50),
               ALLOWED_HOSTS="127.0.0.1,inspect.example.com", **extra)


def run(args, e, timeout=180):
    return subprocess.run(args, env=e, capture_output=True, text=True, timeout=timeout, cwd=e["CCINSPECT_VAR"])


@pytest.fixture
def var(tmp_path):
    (tmp_path / "var").mkdir()
    return tmp_path


def test_check_deploy_is_clean_under_the_production_environment(var):
    out = run([CCINSPECT, "web", "check", "--deploy"], production(var))
    assert out.returncode == 0, out.stdout + out.stderr
    assert "System check identified no issues" in out.stdout
    assert "WARNING" not in out.stdout + out.stderr and "ERROR" not in out.stdout + out.stderr
    # the documented `manage.py` equivalent says the same
    out = run([CCINSPECT, "web", "manage", "check", "--deploy", "--fail-level", "WARNING"], production(var))
    assert out.returncode == 0 and "no issues" in out.stdout, out.stdout + out.stderr
    # and the check is a real one: without CCINSPECT_HTTPS it names what is missing
    e = production(var)
    del e["CCINSPECT_HTTPS"]
    out = run([CCINSPECT, "web", "check", "--deploy"], e)
    assert out.returncode == 1
    for code in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert code in out.stdout, out.stdout


def test_production_refuses_to_start_without_a_secret_key(var):
    e = production(var)
    del e["SECRET_KEY"]
    for args in ([CCINSPECT, "web", "check", "--deploy"], [CCINSPECT, "web", "migrate"],
                 [CCINSPECT, "serve", "--port", str(_free_port())]):
        out = run(args, e)
        assert out.returncode != 0, args
        assert "SECRET_KEY is not set" in out.stderr, (args, out.stderr)
    assert not (var / "var" / "secret_key").exists()  # production does not invent one
    # gunicorn on the WSGI module directly, as a deployment might run it
    out = run([str(BIN / "gunicorn"), "--preload", "--bind", f"127.0.0.1:{_free_port()}",
               "ccinspect.web.wsgi:application"], e, timeout=60)
    assert out.returncode != 0 and "SECRET_KEY is not set" in out.stderr
    # development keeps its convenience: a key made once in var/secret_key
    out = run([CCINSPECT, "web", "check"], env(var))
    assert out.returncode == 0, out.stderr
    assert (var / "var" / "secret_key").stat().st_mode & 0o777 == 0o600


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, port):
        self.port = port

    def request(self, method, path, headers=None, body=None, https=True):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        h = {"Host": f"127.0.0.1:{self.port}", "Connection": "close"} | ({"X-Forwarded-Proto": "https"} if https else {})
        conn.request(method, path, body=body, headers=h | (headers or {}))
        resp = conn.getresponse()
        resp.body = resp.read()
        conn.close()
        return resp


@pytest.fixture
def gunicorn(var):
    port = _free_port()
    e = production(var, CCINSPECT_LOGIN_RATE="4/h", CCINSPECT_PROXY_HOPS="1")
    out = run([CCINSPECT, "web", "migrate"], e)
    assert out.returncode == 0, out.stderr
    log = open(var / "gunicorn.log", "w")  # noqa: SIM115 - closed below
    proc = subprocess.Popen([CCINSPECT, "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "2"],
                            env=e, cwd=e["CCINSPECT_VAR"], stdout=log, stderr=subprocess.STDOUT)
    server = Server(port)
    deadline = time.monotonic() + 90
    try:
        while True:
            try:
                if server.request("GET", "/healthz", https=False).status == 200:
                    break
            except OSError:
                pass
            assert proc.poll() is None, (var / "gunicorn.log").read_text()
            assert time.monotonic() < deadline, "gunicorn did not come up in 90 s"
            time.sleep(0.3)
        yield server
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()
    assert "Booting worker" in (var / "gunicorn.log").read_text()  # it was gunicorn, not runserver


def _cookies(resp) -> dict[str, str]:
    return {c.split("=", 1)[0]: c for c in resp.headers.get_all("Set-Cookie") or []}


def test_gunicorn_behind_a_tls_proxy(gunicorn):
    s = gunicorn
    # plain HTTP goes to HTTPS, except the health check
    plain = s.request("GET", "/accounts/login/", https=False)
    assert plain.status == 301 and plain.headers["Location"] == f"https://127.0.0.1:{s.port}/accounts/login/"
    assert s.request("GET", "/healthz", https=False).status == 200

    page = s.request("GET", "/accounts/login/")
    assert page.status == 200
    assert page.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert "default-src 'self'" in page.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    assert page.headers["X-Frame-Options"] == "DENY"
    csrf = _cookies(page)["csrftoken"]
    assert "Secure" in csrf and "HttpOnly" in csrf and "SameSite=Lax" in csrf

    # static files come from the application (whitenoise), with the same headers
    css = s.request("GET", "/static/ccinspect/app.css")
    assert css.status == 200 and css.headers["Content-Type"].startswith("text/css")
    for name in ("Content-Security-Policy", "X-Frame-Options", "Strict-Transport-Security",
                 "Permissions-Policy", "X-Content-Type-Options"):
        assert css.headers.get(name), name
    assert b"Plotly" in s.request("GET", "/static/ccinspect/charts.js").body


def _sign_in(s, address: str, username: str):
    page = s.request("GET", "/accounts/login/", {"X-Forwarded-For": address})
    cookie = _cookies(page)["csrftoken"].split(";", 1)[0]
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page.body).group(1).decode()
    body = urllib.parse.urlencode({"csrfmiddlewaretoken": token, "username": username, "password": "wrong-1"})
    return s.request("POST", "/accounts/login/", {
        "Cookie": cookie, "Origin": f"https://127.0.0.1:{s.port}", "X-Forwarded-For": address,
        "Content-Type": "application/x-www-form-urlencoded"}, body)


def test_the_sign_in_limit_holds_across_gunicorn_workers(gunicorn):
    s = gunicorn
    statuses = [_sign_in(s, "10.7.7.7", f"user{n}").status for n in range(8)]
    assert statuses == [200] * 4 + [429] * 4  # CCINSPECT_LOGIN_RATE=4/h, whichever worker answered
    last = _sign_in(s, "10.7.7.7", "user9")
    assert last.status == 429 and int(last.headers["Retry-After"]) > 0
    assert "請求過多".encode() in last.body  # zh-Hant by default
    assert _sign_in(s, "10.7.7.8", "user10").status == 200  # another client behind the same proxy
