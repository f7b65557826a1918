"""Security headers on every kind of response, cookie flags, and the per-address rate limits (sign-in, the
API token page, failed API authentication), through Django's test client against the real middleware and
the real rate-limit cache (a database table, on SQLite and on PostgreSQL)."""

from __future__ import annotations

import pytest
from axes.models import AccessAttempt
from django.core.cache import caches
from django.core.cache.backends.db import DatabaseCache
from django.test import Client
from django.utils import translation

from ccinspect.web.accounts.models import ApiToken
from ccinspect.web.incidents import services as isvc

from .conftest import PASSWORD, deficient_with_finding, login_client, token_for

REMOTE = ("'self'", "'none'", "'unsafe-inline'", "data:")
SIGNATORIES = "&".join(f"{r}_name=N{r}&{r}_title=T{r}" for r in ("ciso", "chairman", "president", "chief_auditor"))


def report_preview(url: str) -> bool:
    """The report HTML shown in the browser (the PDF's own HTML): its response alone allows inline styles."""
    return url.endswith("/html/") or "format=html" in url


def policy(header: str) -> dict[str, list[str]]:
    out = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            out[words[0]] = words[1:]
    return out


def assert_headers(resp, where: str) -> None:
    h = resp.headers
    csp = policy(h.get("Content-Security-Policy", ""))
    assert csp, f"{where}: no Content-Security-Policy"
    if "sandbox" in csp:  # a download
        assert csp["default-src"] == ["'none'"], where
    else:
        assert csp["default-src"] == ["'self'"], where
        assert csp["script-src"] == ["'self'"], f"{where}: script-src {csp['script-src']}"
        styles = ["'self'", "'unsafe-inline'"] if report_preview(where) else ["'self'"]
        assert csp["style-src"] == styles, f"{where}: style-src {csp['style-src']}"
        assert csp["object-src"] == ["'none'"], where
        assert csp["base-uri"] == ["'self'"], where
        assert csp["form-action"] == ["'self'"], where
    assert csp["frame-ancestors"] == ["'none'"], where
    for directive, sources in csp.items():  # no remote source anywhere: no host, scheme or wildcard
        assert all(s in REMOTE for s in sources), f"{where}: {directive} {sources}"
    assert h.get("X-Frame-Options") == "DENY", where
    assert h.get("X-Content-Type-Options") == "nosniff", where
    assert h.get("Referrer-Policy") == "same-origin", where
    assert h.get("Cross-Origin-Opener-Policy") == "same-origin", where
    assert h.get("Cross-Origin-Resource-Policy") == "same-origin", where
    pp = h.get("Permissions-Policy", "")
    for feature in ("camera=()", "microphone=()", "geolocation=()", "payment=()", "usb=()"):
        assert feature in pp, f"{where}: Permissions-Policy {pp!r}"


@pytest.fixture
def rich(world):
    w = world
    w.item, w.ev, w.f = deficient_with_finding(w)
    w.inc = isvc.create_incident(w.officer, w.a, {
        "title": "APP 下單主機無法登入", "category": "outage", "detected_at": "2025-06-15T23:50",
        "customers_affected": "1200", "estimated_amount": "350000", "systems_affected": "APP 電子下單",
        "outage_started_at": "2025-06-15T22:30", "service_restored_at": "2025-06-16T00:00",
        "tolerable_minutes": "60", "rto_minutes": "45"})
    return w


def test_headers_on_every_page_kind(rich):
    w = rich
    anon = Client()
    officer = login_client(Client(), w.officer)
    auditor = login_client(Client(), w.auditor)
    admin = login_client(Client(), w.admin)
    regulator = login_client(Client(), w.regulator)
    api = Client(HTTP_AUTHORIZATION=f"Bearer {token_for(w.officer)}")
    visits = [
        (anon, "get", "/accounts/login/", 200),
        (anon, "get", "/healthz", 200),
        (anon, "get", "/static/ccinspect/app.css", 200),
        (anon, "get", "/static/ccinspect/charts.js", 200),
        (anon, "get", "/dashboard/", 302),
        (anon, "get", "/no/such/page/", 404),
        (anon, "get", "/api/inspections", 401),
        (anon, "get", "/api/docs", 302),
        (officer, "get", "/api/docs", 200),
        (anon, "get", "/api/openapi.json", 401),
        (officer, "get", "/api/openapi.json", 200),
        (officer, "get", "/dashboard/", 200),
        (officer, "get", "/inspections/", 200),
        (officer, "get", "/inspections/plan/", 200),
        (officer, "get", f"/inspections/{w.insp_a.pk}/", 200),
        (officer, "get", "/findings/", 200),
        (officer, "get", f"/findings/{w.f.pk}/", 200),
        (officer, "get", f"/evidence/{w.ev.pk}/download/", 200),
        (officer, "get", "/incidents/", 200),
        (officer, "get", "/incidents/new/", 200),
        (officer, "get", f"/incidents/{w.inc.pk}/", 200),
        (officer, "get", "/continuity/", 200),
        (officer, "get", "/continuity/systems/", 200),
        (officer, "get", "/reports/statement/", 200),
        (officer, "get", f"/reports/inspections/{w.insp_a.pk}/html/", 200),
        (officer, "get", f"/reports/statement/?broker={w.a.pk}&year=2025&format=html&{SIGNATORIES}", 200),
        (officer, "get", f"/reports/inspections/{w.insp_a.pk}/xlsx/", 200),
        (officer, "get", "/reports/tracking.xlsx", 200),
        (officer, "get", "/accounts/tokens/", 200),
        (officer, "get", "/settings/deductions/", 200),
        (officer, "get", "/accounts/users/", 403),
        (officer, "get", "/regulator/", 403),
        (officer, "get", f"/inspections/{w.insp_b.pk}/", 404),
        (auditor, "get", "/audit/", 200),
        (admin, "get", "/accounts/users/", 200),
        (admin, "get", "/accounts/mfa/", 200),
        (regulator, "get", "/regulator/", 200),
        (regulator, "get", "/regulator/now/", 200),
        (regulator, "get", "/regulator/trends/", 200),
        (regulator, "get", f"/regulator/brokers/{w.a.pk}/", 200),
        (api, "get", "/api/inspections", 200),
        (api, "get", f"/api/inspections/{w.insp_a.pk}/items", 200),
        (api, "get", f"/api/evidence/{w.ev.pk}/download", 200),
        (api, "get", f"/api/inspections/{w.insp_b.pk}", 404),
    ]
    kinds = set()
    for client, method, url, status in visits:
        resp = getattr(client, method)(url)
        assert resp.status_code == status, f"{url} -> {resp.status_code}"
        assert_headers(resp, url)
        kinds.add(resp.headers.get("Content-Type", "").split(";")[0])
        if resp.headers.get("Content-Type", "").startswith("text/html") and not report_preview(url):
            # the policy refuses inline styles: the pages carry none (their rules are in static/ccinspect/*.css)
            html = resp.content.decode()
            assert "<style" not in html and " style=" not in html, f"{url}: an inline style"
    # pages, JSON, CSS, JavaScript, spreadsheets and the raw evidence file all went through
    assert {"text/html", "application/json", "text/css", "text/javascript"} <= kinds
    assert any("spreadsheet" in k for k in kinds)
    # monitors and proxies probe pages with HEAD: it answers wherever GET does, with the same status and headers
    for client, method, url, status in visits:
        api_operation = url.startswith("/api/") and url not in ("/api/docs", "/api/openapi.json")
        if method == "get" and not url.startswith("/static/") and not api_operation:
            resp = client.head(url)
            assert resp.status_code == status, f"HEAD {url} -> {resp.status_code}"
            assert_headers(resp, f"HEAD {url}")
    # a download runs sandboxed if a browser ever renders it
    dl = officer.get(f"/evidence/{w.ev.pk}/download/")
    assert "sandbox" in policy(dl.headers["Content-Security-Policy"])


def test_cookies_are_http_only_and_secure_behind_https(world, settings):
    c = Client()
    resp = c.get("/accounts/login/")
    csrf = resp.cookies["csrftoken"]
    assert csrf["httponly"] and not csrf["secure"]  # plain HTTP in development
    resp = c.post("/accounts/login/", {"username": "officer_a", "password": PASSWORD})
    assert resp.status_code == 302
    assert resp.cookies["sessionid"]["httponly"] and resp.cookies["sessionid"]["samesite"] == "Lax"
    resp = c.post("/i18n/setlang/", {"language": "en", "next": "/dashboard/"})
    assert resp.cookies["django_language"]["httponly"]

    # what CCINSPECT_HTTPS=1 turns on (tests/web/test_deploy.py runs the real thing under gunicorn)
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = settings.LANGUAGE_COOKIE_SECURE = True
    c = Client()
    assert c.get("/accounts/login/").cookies["csrftoken"]["secure"]
    resp = c.post("/accounts/login/", {"username": "officer_a", "password": PASSWORD})
    assert resp.cookies["sessionid"]["secure"] and resp.cookies["sessionid"]["httponly"]


# ---- rate limits ----------------------------------------------------------------------------------------
# Rates per hour here: a window (fixed, with a per-address offset) that ended during a test would reset the
# count halfway.

def _post_login(client, username="officer_a", password="wrong-password-1", addr="10.1.1.1"):
    return client.post("/accounts/login/", {"username": username, "password": password}, REMOTE_ADDR=addr)


def test_login_rate_limit_per_address(world, settings):
    settings.LOGIN_RATE = "5/h"
    settings.AXES_FAILURE_LIMIT = 100  # the account lockout is not what this test is about
    c = Client()
    for n in range(5):
        resp = _post_login(c, username=f"nobody{n}")
        assert resp.status_code == 200 and b"not correct" in resp.content, n
    resp = _post_login(c, username="nobody9")
    assert resp.status_code == 429
    assert 1 <= int(resp["Retry-After"]) <= 3600
    assert b'id="ratelimited"' in resp.content and b"Too many attempts from your address" in resp.content
    assert_headers(resp, "429 page")
    # even the right password is not tried from that address until the window ends
    assert _post_login(c, password=PASSWORD).status_code == 429
    # another address still signs in
    resp = _post_login(Client(), password=PASSWORD, addr="10.1.1.2")
    assert resp.status_code == 302 and resp["Location"] == "/dashboard/"
    # reading the sign-in form is not limited
    assert c.get("/accounts/login/", REMOTE_ADDR="10.1.1.1").status_code == 200


def test_the_limit_message_is_translated(world, settings):
    settings.LOGIN_RATE = "1/h"
    settings.LANGUAGE_CODE = "zh-hant"
    c = Client()
    _post_login(c)
    resp = _post_login(c)
    translation.activate("en")
    assert resp.status_code == 429
    text = resp.content.decode()
    assert "請求過多" in text and "秒後再試" in text, text[text.find("<main>"):][:400]


def failures(username: str) -> int:
    return sum(a.failures_since_start for a in AccessAttempt.objects.filter(username=username))


def test_rate_limit_is_independent_of_the_account_lockout(world, settings):
    """axes locks an account after failed passwords from anywhere; the rate limit stops an address. A
    rate-limited attempt never reaches the password check, so it does not count towards the lockout."""
    settings.LOGIN_RATE = "2/h"
    c = Client()
    assert _post_login(c).status_code == 200
    assert _post_login(c).status_code == 200
    assert _post_login(c).status_code == 429
    assert failures("officer_a") == 2
    # the third wrong password, from another address, locks the account (CC-18000.3.e) ...
    assert _post_login(Client(), addr="10.9.9.9").status_code == 429
    assert failures("officer_a") == 3
    # ... and the right one from a third address is refused by the lockout, not the rate limit
    resp = _post_login(Client(), password=PASSWORD, addr="10.9.9.10")
    assert resp.status_code == 429 and b"Account locked" in resp.content


def test_token_page_rate_limit(world, settings):
    settings.TOKEN_RATE = "3/h"
    c = login_client(Client(), world.officer)
    for n in range(3):
        resp = c.post("/accounts/tokens/", {"name": f"ci-{n}"}, REMOTE_ADDR="10.2.2.2")
        assert resp.status_code == 200 and b"cci_" in resp.content
    resp = c.post("/accounts/tokens/", {"name": "ci-4"}, REMOTE_ADDR="10.2.2.2")
    assert resp.status_code == 429
    assert ApiToken.objects.filter(user=world.officer).count() == 3  # the fourth was not issued
    assert c.get("/accounts/tokens/", REMOTE_ADDR="10.2.2.2").status_code == 200
    assert c.post("/accounts/tokens/", {"name": "ci-5"}, REMOTE_ADDR="10.2.2.3").status_code == 200


def test_api_failed_authentication_flood(world, settings):
    settings.API_AUTH_FAIL_RATE = "10/h"
    flood = Client(HTTP_AUTHORIZATION="Bearer cci_guess", REMOTE_ADDR="10.3.3.3")
    for n in range(10):
        assert flood.get("/api/inspections").status_code == 401, n
    resp = flood.get("/api/inspections")
    assert resp.status_code == 429
    assert "Too many failed authentications" in resp.json()["detail"]
    assert 1 <= int(resp["Retry-After"]) <= 3600
    assert_headers(resp, "API 429")
    # from that address, every API request waits out the window, a valid token too ...
    good = token_for(world.officer)
    assert Client(HTTP_AUTHORIZATION=f"Bearer {good}", REMOTE_ADDR="10.3.3.3").get(
        "/api/inspections").status_code == 429
    # ... while other addresses are served, and the pages are not affected
    assert Client(HTTP_AUTHORIZATION=f"Bearer {good}", REMOTE_ADDR="10.3.3.4").get(
        "/api/inspections").status_code == 200
    assert Client(HTTP_AUTHORIZATION="Bearer cci_guess", REMOTE_ADDR="10.3.3.4").get(
        "/api/inspections").status_code == 401
    assert Client(REMOTE_ADDR="10.3.3.3").get("/accounts/login/").status_code == 200


def test_successful_api_calls_do_not_count(world, settings):
    settings.API_AUTH_FAIL_RATE = "3/h"
    c = Client(HTTP_AUTHORIZATION=f"Bearer {token_for(world.officer)}", REMOTE_ADDR="10.4.4.4")
    for _ in range(8):
        assert c.get("/api/inspections").status_code == 200


def test_client_address_behind_a_proxy(world, settings):
    """With CCINSPECT_PROXY_HOPS=1 the address is the X-Forwarded-For entry the proxy appended; what the
    client wrote there itself (left of it) cannot dodge the limit."""
    settings.LOGIN_RATE = "2/h"
    settings.PROXY_HOPS = 1
    proxy = "127.0.0.1"

    def attempt(forwarded: str, n: int):
        # a new user name each time, so that axes' per-account lockout stays out of the way
        return Client().post("/accounts/login/", {"username": f"x{n}", "password": "y"}, REMOTE_ADDR=proxy,
                             HTTP_X_FORWARDED_FOR=forwarded).status_code

    assert attempt("1.1.1.1, 10.5.5.5", 1) == 200
    assert attempt("2.2.2.2, 10.5.5.5", 2) == 200
    assert attempt("3.3.3.3, 10.5.5.5", 3) == 429
    # another client behind the same proxy is counted on its own; the proxy's own address is not the key
    assert attempt("10.5.5.6", 4) == 200
    assert attempt("garbage, 10.5.5.7", 5) == 200


def test_the_counts_live_in_the_database_cache(world, settings):
    """The default cache for the limits is the database table that migration security.0001 created, so
    every gunicorn worker sees the same counts."""
    from django.db import connection

    assert isinstance(caches["ratelimit"], DatabaseCache)
    assert "ccinspect_ratelimit" in connection.introspection.table_names()
    settings.LOGIN_RATE = "5/h"
    _post_login(Client())
    with connection.cursor() as cur:
        cur.execute("SELECT COUNT(*) FROM ccinspect_ratelimit")
        assert cur.fetchone()[0] >= 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_increments_lose_no_count():
    """Many workers counting one address at once: every hit is counted (Django's own incr is a read and
    a write, and loses counts between them). On PostgreSQL, where connections really run in parallel."""
    import threading  # noqa: PLC0415

    from django.db import connection, connections  # noqa: PLC0415

    if connection.vendor != "postgresql":
        pytest.skip("needs a server database: the test SQLite database is one in-memory connection")
    cache = caches["ratelimit"]
    cache.add("flood", 0, 60)
    threads, each = 8, 25
    start = threading.Barrier(threads)
    errors = []

    def hit():
        try:
            start.wait()
            for _ in range(each):
                cache.incr("flood")
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    workers = [threading.Thread(target=hit) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert not errors
    assert cache.get("flood") == threads * each
