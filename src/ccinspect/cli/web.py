"""`ccinspect serve` and `ccinspect web …`: the Django web application from the command line."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import typer

from ccinspect.core import settings
from ccinspect.core.exitcodes import ExitCode

from .common import console, emit_json, fail

web_app = typer.Typer(help="The web application: database, demo data, results import.", no_args_is_help=True)


_var = settings.var_dir


def _secret_key() -> None:
    settings.ensure_secret_key()


def _django():
    _secret_key()
    from django.core.exceptions import ImproperlyConfigured

    from ccinspect.web import setup

    try:
        setup()
    except ImproperlyConfigured as exc:
        fail(f"settings: {exc}")


def _manage(*args: str) -> None:
    from django.core.management import call_command

    call_command(*args)


@web_app.command("migrate")
def migrate() -> None:
    """Create or upgrade the database (SQLite under ./var, or DATABASE_URL)."""
    _django()
    _manage("migrate", "--noinput", "-v", "0")
    from ccinspect.web.inspections.services import catalog, ensure_deduction_table

    ensure_deduction_table()
    fv = catalog().version("mechanism")
    console.print(f"database ready; catalog {fv.spec.id if hasattr(fv, 'spec') else 'mechanism'}: "
                  f"{len(fv.requirements)} requirements loaded")


@web_app.command("check")
def check(deploy: bool = typer.Option(False, "--deploy", help="also the production checks (HTTPS, cookies, "
                                      "HSTS, SECRET_KEY): run it with the production environment")) -> None:
    """Django's system checks (`manage.py check`); exit 1 on any warning or error."""
    _django()
    from django.core.management.base import SystemCheckError

    args = ["check", "--fail-level", "WARNING"] + (["--deploy"] if deploy else [])
    try:
        _manage(*args)
    except SystemCheckError as exc:
        console.print(str(exc), highlight=False, markup=False)
        raise typer.Exit(int(ExitCode.FINDINGS)) from None


@web_app.command("manage", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def manage(ctx: typer.Context) -> None:
    """Any Django management command, as `manage.py` would run it: `ccinspect web manage check --deploy`."""
    _django()
    from django.core.management import execute_from_command_line

    execute_from_command_line(["ccinspect web manage", *ctx.args])


@web_app.command("seed-demo")
def seed_demo() -> None:
    """A demo regulator and brokers with a year of inspections, findings and evidence; prints the users."""
    _django()
    from ccinspect.web.demo import DEMO_TOTP, seed, totp_now

    out = seed()
    console.print(f"demo brokers {out['broker'].name}, {out['other'].name}: {out['created']} inspections created")
    from ccinspect.web.incidents.demo import seed_incidents
    from ccinspect.web.regulator.demo import seed_market

    market = seed_market()
    console.print(f"demo market: {market['brokers']} brokers, {market['inspections']} inspections and "
                  f"{market['findings']} findings created for {', '.join(market['periods'])}; "
                  f"{seed_incidents()} incidents")
    from ccinspect.web.oversight.demo import seed_oversight

    console.print(f"regulator inspections: {seed_oversight()['engagements']} engagements created")
    console.print("\n[bold]Demo users[/] (sign in at http://127.0.0.1:8000/):")
    for username, org, role, _family, _given, _title, password in out["users"]:
        mfa = " + TOTP" if username in DEMO_TOTP else ""
        console.print(f"  {username:15} {password:22} {role.label}{mfa} · {org or '—'}", highlight=False,
                      soft_wrap=True)
    console.print("\n[bold]MFA[/]: the admin roles sign in with a six-digit TOTP code after the password. "
                  "Add the secret to any authenticator app (TOTP, SHA-1, 30 s, 6 digits), or print the "
                  "current code with `ccinspect web totp SECRET`:")
    for username, secret in DEMO_TOTP.items():
        console.print(f"  {username:15} secret {secret}   (code now: {totp_now(secret)})", highlight=False)
    console.print("Other users may turn MFA on under 'Two-factor'. Three wrong passwords lock an account "
                  "for 30 minutes (CCINSPECT_LOCKOUT_MINUTES).")


@web_app.command("oversight-remind")
def oversight_remind() -> None:
    """Today's reminders of the regulator's evidence requests: due within 3 days, or overdue (run daily)."""
    _django()
    from ccinspect.web.oversight.services import send_reminders

    sent = send_reminders()
    for r in sent:
        console.print(f"E-{r.engagement_id} {r.engagement.organisation}: {r.get_kind_display()} "
                      f"{len(r.ref_ids)} item(s)", highlight=False)
    console.print(f"{len(sent)} reminder(s)")


@web_app.command("totp")
def totp(secret: str = typer.Argument(..., help="base32 TOTP secret")) -> None:
    """The current six-digit code for a TOTP secret (for the demo users)."""
    from ccinspect.web.demo import totp_now

    try:
        console.print(totp_now(secret.replace(" ", "").upper()))
    except Exception as exc:  # noqa: BLE001 - a bad secret
        fail(f"not a base32 secret: {exc}")


@web_app.command("import-results")
def import_results(
    file: Path = typer.Argument(..., exists=True, help="results JSON (see docs/web.md), or the --out folder of "
                                "`ccinspect inspect` (inspection.json) or `ccinspect logins scan` (alerts.json, run.json)"),
    inspection: int = typer.Option(..., "--inspection", help="inspection id"),
    user: str = typer.Option(..., "--user", help="the broker user the results are attached as"),
) -> None:
    """Attach automated check results (`ccinspect inspect --format json`, login monitoring) as evidence."""
    _django()
    from ccinspect.web.accounts.models import User
    from ccinspect.web.inspections import services as svc
    from ccinspect.web.inspections.evidence import UploadError
    from ccinspect.web.inspections.models import Inspection

    u = User.objects.filter(username=user, is_active=True).first()
    insp = Inspection.objects.filter(pk=inspection).first()
    if u is None:
        fail(f"no active user {user!r}")
    if insp is None:
        fail(f"no inspection {inspection}")
    from django.core.exceptions import PermissionDenied

    try:
        out = svc.import_results(u, insp, _results_payload(file), source=file.name)
    except (svc.ServiceError, UploadError, PermissionDenied) as exc:
        fail(str(exc))
    emit_json(out)


def _checked(folder: Path, name: str, run: dict | None) -> bytes:
    """A result file of an output folder, as bytes, after its SHA-256 is compared with the run record's (a
    folder that mixes two runs is refused)."""
    import hashlib

    body = (folder / name).read_bytes()
    if run is None:
        return body
    recorded = next((o.get("sha256") for o in (run.get("outputs") or {}).values()
                     if isinstance(o, dict) and o.get("file") == name), None)
    if recorded is None:
        fail(f"{folder / 'run.json'}: outputs: no SHA-256 recorded for {name}; expected the record of the run "
             f"that wrote it")
    actual = hashlib.sha256(body).hexdigest()
    if actual != recorded:
        fail(f"{folder / name}: SHA-256 {actual} does not match {recorded} recorded in run.json: the folder "
             "holds files of different runs; nothing was imported")
    return body


def _results_payload(path: Path):
    """A results file as bytes, or from an output folder: inspection.json, else the login scan's alerts.json
    with run.json's inputs (the scanned logs and their SHA-256) and review requirements. In a folder with a
    run.json, every file taken is checked against the hash the run recorded."""
    import json

    if not path.is_dir():
        return path.read_bytes()
    run = None
    if (path / "run.json").is_file():
        try:
            run = json.loads((path / "run.json").read_text(encoding="utf-8"))
            assert isinstance(run, dict) and isinstance(run.get("outputs") or {}, dict)
        except (ValueError, OSError, AssertionError):
            fail(f"{path / 'run.json'}: not a run record (expected a JSON object with outputs)")
    if (path / "inspection.json").is_file():
        return _checked(path, "inspection.json", run)
    if not (path / "alerts.json").is_file():
        fail(f"{path}: no inspection.json or alerts.json in this folder")
    try:
        data = json.loads(_checked(path, "alerts.json", run).decode("utf-8"))
        if run is not None and isinstance(data, dict):
            data["inputs"] = run.get("inputs", [])
            data["review_ref_ids"] = run.get("review_ref_ids", [])
            if run.get("finished"):  # when the logins were detected: a "not me" case carries it over
                data.setdefault("detected_at", run["finished"])
    except (ValueError, OSError) as exc:
        fail(f"{path}: {exc}")
    return data


@web_app.command("create-user")
def create_user(
    username: str, role: str = typer.Option(..., "--role"), organisation: str = typer.Option(None, "--org"),
    title: str = typer.Option("", "--title"), name: str = typer.Option("", "--name"),
) -> None:
    """Create a user with a random initial password (printed once, changed at first sign-in)."""
    _django()
    from ccinspect.web.accounts.models import Organisation
    from ccinspect.web.accounts.services import create_user as make

    org = None
    if organisation:
        org = Organisation.objects.filter(name=organisation).first()
        if org is None:
            fail(f"no organisation {organisation!r}")
    try:
        u, pw = make(None, organisation=org, username=username, role=role, title=title, first_name=name)
    except ValueError as exc:
        fail(str(exc))
    console.print(f"{u.username}: initial password {pw}", highlight=False)


@web_app.command("worker")
def worker(
    batch: bool = typer.Option(False, "--batch", help="run what is due, then exit"),
    interval: float = typer.Option(1.0, "--interval", help="seconds between polls of the queue"),
) -> None:
    """The background worker (django-tasks' db_worker): sends customer notifications, retries, follow-ups."""
    _django()
    args = ["db_worker", "--interval", str(interval), "--no-reload"]
    if batch:
        args += ["--batch", "--no-startup-delay"]
    _manage(*args)


@web_app.command("confirm-page")
def confirm_page(
    host: str = typer.Option("127.0.0.1", "--host"), port: int = typer.Option(8010, "--port"),
    workers: int = typer.Option(2, "--workers"),
) -> None:
    """The hosted confirmation page for customers: its own process, serving nothing else (rate limited)."""
    _django()
    _manage("collectstatic", "--noinput", "-v", "0")
    gunicorn = shutil.which("gunicorn", path=str(Path(sys.executable).parent)) or shutil.which("gunicorn")
    if not gunicorn:
        fail("gunicorn is not installed")
    console.print(f"confirmation page at http://{host}:{port}/", highlight=False)
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="ccinspect.web.settings")
    sys.stdout.flush()
    os.execve(gunicorn, [gunicorn, "ccinspect.web.notification.confirm_wsgi:application", "--bind",
                         f"{host}:{port}", "--workers", str(workers), "--access-logfile", "-"], env)


@web_app.command("notify-follow-up")
def notify_follow_up() -> None:
    """Queue the follow-ups of unanswered notifications that are due (for a periodic job; the worker sends)."""
    _django()
    from ccinspect.web.notification.services import follow_up_due

    emit_json({"queued": follow_up_due()})


def register(app: typer.Typer) -> None:
    app.add_typer(web_app, name="web")

    @app.command("serve")
    def serve(
        host: str = typer.Option("127.0.0.1", "--host"), port: int = typer.Option(8000, "--port"),
        workers: int = typer.Option(2, "--workers"),
        threads: int = typer.Option(1, "--threads", help="threads per worker (more than 1: gunicorn's gthread)"),
        dev: bool = typer.Option(False, "--dev", help="Django's development server instead of gunicorn"),
    ) -> None:
        """Serve the web application (gunicorn + whitenoise; --dev for runserver)."""
        _django()
        _manage("collectstatic", "--noinput", "-v", "0")
        console.print(f"serving at http://{host}:{port}/", highlight=False)
        if dev:
            _manage("runserver", f"{host}:{port}", "--noreload")
            return
        gunicorn = shutil.which("gunicorn", path=str(Path(sys.executable).parent)) or shutil.which("gunicorn")
        if not gunicorn:
            fail("gunicorn is not installed; use --dev")
        env = dict(os.environ, DJANGO_SETTINGS_MODULE="ccinspect.web.settings")
        sys.stdout.flush()
        # exec: gunicorn takes over this process, so Ctrl-C and kill reach it directly
        os.execve(gunicorn, [gunicorn, "ccinspect.web.wsgi:application", "--bind", f"{host}:{port}",
                             "--workers", str(workers), "--threads", str(max(1, threads)),
                             "--access-logfile", "-"], env)
