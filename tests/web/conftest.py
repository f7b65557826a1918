"""Django for the web tests only: the other test folders run without it.

The database is SQLite by default; DATABASE_URL=postgresql://… runs the same tests on PostgreSQL
(pytest-django creates test_<name>)."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
import time
from pathlib import Path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ccinspect.web.settings")
os.environ.setdefault("SECRET_KEY", "test-secret-key-not-for-production-0123456789")
os.environ.setdefault("CCINSPECT_VAR", tempfile.mkdtemp(prefix="ccinspect-test-var-"))
# Tests sign in many times from 127.0.0.1; test_security.py sets low limits where it tests them.
for _rate in ("CCINSPECT_LOGIN_RATE", "CCINSPECT_TOKEN_RATE", "CCINSPECT_API_AUTH_FAIL_RATE"):
    os.environ.setdefault(_rate, "100000/m")

os.makedirs(os.path.join(os.environ["CCINSPECT_VAR"], "static"), exist_ok=True)

import django  # noqa: E402

django.setup()


def _collected_static() -> None:
    """The pages name static files by their hashed names (whitenoise's compressed manifest storage), so the
    tests need `collectstatic` as a server does. Collected once per set of source files and shared by test runs
    and xdist workers (a temporary folder renamed into place: a worker that loses the race uses the other's)."""
    import hashlib

    from django.conf import settings
    from django.contrib.staticfiles import finders, storage
    from django.core.files.storage import storages
    from django.core.management import call_command

    h = hashlib.sha256()
    for finder in finders.get_finders():
        for path, store in finder.list(None):
            st = os.stat(store.path(path))
            h.update(f"{getattr(store, 'prefix', '') or ''}/{path}:{st.st_size}:{st.st_mtime_ns}\n".encode())
    root = Path(tempfile.gettempdir()) / f"ccinspect-static-{h.hexdigest()[:16]}"

    def use(path) -> None:
        settings.STATIC_ROOT = str(path)
        storages._storages.pop("staticfiles", None)
        storage.staticfiles_storage._wrapped = django.utils.functional.empty

    if not (root / "staticfiles.json").exists():
        tmp = Path(tempfile.mkdtemp(prefix=root.name + ".", dir=root.parent))
        use(tmp)
        call_command("collectstatic", "--noinput", "-v", "0")
        try:
            tmp.rename(root)
        except OSError:  # another worker put it there first
            shutil.rmtree(tmp, ignore_errors=True)
    use(root)


_collected_static()


def _live_server_static_through_whitenoise() -> None:
    """pytest-django's live server answers /static/ itself, from the source folders by unhashed names; the
    pages name hashed files. Hand /static/ to the application instead, where whitenoise serves the collected
    files (hashed, compressed, with their cache headers) as it does in production."""
    from django.contrib.staticfiles import handlers

    class ToApplication(handlers.StaticFilesHandler):
        def _should_handle(self, path):
            return False

    handlers.StaticFilesHandler = ToApplication


_live_server_static_through_whitenoise()

import pytest  # noqa: E402
from django.contrib.auth.hashers import Argon2PasswordHasher  # noqa: E402
from django.utils import timezone, translation  # noqa: E402
from django_otp.plugins.otp_totp.models import TOTPDevice  # noqa: E402
from tests.conftest import missing  # noqa: E402

from ccinspect.web.accounts.middleware import SessionRefreshMiddleware  # noqa: E402
from ccinspect.web.accounts.models import ApiToken, Organisation, Role, User  # noqa: E402
from ccinspect.web.inspections import services as svc  # noqa: E402

PASSWORD = "Correct-Horse-42"
TODAY = dt.date(2025, 6, 15)


class FastArgon2(Argon2PasswordHasher):
    """Argon2 still (the algorithm the application uses), with test-sized cost parameters."""

    time_cost = 1
    memory_cost = 256
    parallelism = 1


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.PASSWORD_HASHERS = [f"{__name__}.FastArgon2"]
    settings.LANGUAGE_CODE = "en"  # messages asserted in English; test_i18n checks the zh-Hant default
    translation.activate("en")
    settings.MEDIA_ROOT = tmp_path / "evidence"
    settings.AUDIT_ANCHOR_FILE = tmp_path / "anchors" / "audit-anchors.txt"
    settings.EVIDENCE_QUARANTINE = tmp_path / "quarantine"
    settings.EVIDENCE_MAX_BYTES = 64 * 1024


def make_user(username, org, role, title="", totp=False):
    u = User(username=username, organisation=org, role=role, title=title or role, first_name=username,
             must_change_password=False, password_changed_at=timezone.now())
    u.set_password(PASSWORD)
    u.save()
    if totp:
        TOTPDevice.objects.create(user=u, name="t", confirmed=True)
    return u


class World:
    pass


@pytest.fixture
def world(db):
    w = World()
    svc.ensure_deduction_table()
    w.a = Organisation.objects.create(name="Broker A", profile={"capital": "120億", "internet_orders": True,
                                                               "mobile_app": True})
    w.b = Organisation.objects.create(name="Broker B", profile={"capital": "30億", "internet_orders": True})
    w.reg = Organisation.objects.create(name="TWSE", kind=Organisation.REGULATOR)
    w.officer = make_user("officer_a", w.a, Role.SECURITY_OFFICER, "資安專責人員")
    w.auditor = make_user("auditor_a", w.a, Role.COMPUTER_AUDITOR, "稽核")
    w.admin = make_user("admin_a", w.a, Role.BROKER_ADMIN, "經理", totp=True)
    w.officer_b = make_user("officer_b", w.b, Role.SECURITY_OFFICER)
    w.auditor_b = make_user("auditor_b", w.b, Role.COMPUTER_AUDITOR)
    w.regulator = make_user("regulator", w.reg, Role.REGULATOR, totp=True)
    w.site = make_user("site", None, Role.SITE_ADMIN, totp=True)
    w.insp_a = svc.create_inspection(w.officer, w.a, "inspection:CC-18000:2025-05")
    w.insp_b = svc.create_inspection(w.officer_b, w.b, "inspection:CC-18000:2025-05")
    return w


def deficient_with_finding(w, insp=None, officer=None):
    insp = insp or w.insp_a
    officer = officer or w.officer
    item = insp.items.filter(assessable=True).first()
    item = svc.set_item_result(officer, item, "deficient", notes="gap")
    ev = svc.add_evidence(officer, item, name="proof.txt", data=b"evidence line\n")
    f = svc.raise_finding(officer, item, title="Weak passwords", severity="high", due_date="2025-07-31")
    return item, ev, f


def login_client(client, user, verified=None):
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    s = client.session
    if device is not None and verified is not False:
        s["otp_device_id"] = device.persistent_id
    # The idle clock was just set: requests in the next minute write no session (counted queries stay equal).
    s[SessionRefreshMiddleware.KEY] = int(time.time())
    s.save()
    return client


def token_for(user) -> str:
    return ApiToken.issue(user, "test")[1]


# --- the browser tests (Debian chromium through Playwright) ---------------------------------------------

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--no-first-run"]


@pytest.fixture
def browser():
    if not shutil.which(CHROMIUM):
        missing("chromium is not installed")
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def _code(user):
    from django_otp.oath import totp
    from django_otp.plugins.otp_totp.models import TOTPDevice

    d = TOTPDevice.objects.get(user=user, confirmed=True)
    return f"{totp(d.bin_key, d.step, d.t0, d.digits, d.drift):06d}"


def sign_in(page, live, username, user=None, lang="zh-hant"):
    page.goto(f"{live}/accounts/login/")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("#signin")
    if user is not None:
        page.wait_for_selector("#token")
        page.fill("#token", _code(user))
        page.click("#signin")
    page.wait_for_url("**/dashboard/**")
