"""`ccinspect broker …`: onboard, edit and retire brokers in the web database (the pages' and API's services;
the audit trail records the change as made by "system", or by --as USER)."""

from __future__ import annotations

from pathlib import Path

import typer

from .common import Fmt, console, emit_json, fail

app = typer.Typer(help="Brokers in the web database: list, show, create, edit (a dated version), retire.",
                  no_args_is_help=True)

PROFILE_HELP = "broker profile, YAML or JSON (the fields of `ccinspect applicable --profile`; see docs/applicability.md)"


def _setup(actor: str | None):
    from .web import _django

    _django()
    from ccinspect.web.accounts.models import User

    if actor is None:
        return None
    user = User.objects.filter(username=actor, is_active=True).first()
    if user is None:
        fail(f"--as {actor}: no active user of that name")
    return user


def _org(value: str):
    from ccinspect.web.accounts.models import Organisation

    qs = Organisation.objects.filter(kind=Organisation.BROKER)
    org = (qs.filter(pk=int(value)).first() if value.isdigit() else None) or qs.filter(name=value).first() \
        or qs.filter(profile__broker_code=value.upper()).first()
    if org is None:
        fail(f"no broker {value!r} (give its id, name or TWSE broker code)")
    return org


def _read(path: Path) -> tuple[str | None, dict]:
    import json

    import yaml

    try:
        raw = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = exc.object[:exc.start].count(b"\n") + 1
        fail(f"{path}: line {line}: not UTF-8 text (byte {exc.start})")
    try:
        data = json.loads(raw) if path.suffix.lower() == ".json" else yaml.safe_load(raw)
    except (ValueError, yaml.YAMLError) as exc:
        fail(f"{path}: not valid {'JSON' if path.suffix.lower() == '.json' else 'YAML'}: {exc}")
    if not isinstance(data, dict):
        fail(f"{path}: expected a mapping of profile fields")
    return data.pop("name", None), data


def _show(summary: dict, fmt: Fmt) -> None:
    if fmt == Fmt.json:
        emit_json(summary)
        return
    prof = summary.get("profile") or {}
    console.print(f"[bold]{summary['name']}[/] (id {summary['id']}) · code {prof.get('broker_code') or '—'} · "
                  f"tier {summary.get('tier') or '—'} on {summary['as_of']}"
                  f"{' · RETIRED ' + summary['retired_at'] if summary['retired_at'] else ''}", highlight=False)
    if summary.get("error"):
        console.print(f"  profile error: {summary['error']}", highlight=False)
    for v in summary["versions"]:
        console.print(f"  from {v['from']}: capital {v['profile'].get('capital')} {v.get('note') or ''}",
                      highlight=False)


def _errors(exc) -> None:
    fail("the broker is not saved:\n" + "\n".join(f"  {k or 'broker'}: {m}" for k, ms in exc.errors.items()
                                                  for m in ms))


@app.command("list")
def list_(fmt: Fmt = typer.Option(Fmt.table, "--format")) -> None:
    """Every broker with its tier today."""
    _setup(None)
    from ccinspect.web.accounts.models import Organisation
    from ccinspect.web.brokers import services as svc

    rows = [svc.summary(o) for o in Organisation.objects.filter(kind=Organisation.BROKER).order_by("name")]
    if fmt == Fmt.json:
        emit_json(rows)
        return
    for s in rows:
        prof = s.get("profile") or {}
        console.print(f"{s['id']:>5}  {prof.get('broker_code') or '—':5} tier {s.get('tier') or '?'}  {s['name']}"
                      f"{'  (retired)' if s['retired_at'] else ''}", highlight=False)


@app.command("show")
def show(broker: str = typer.Argument(..., help="id, name or TWSE broker code"),
         as_of: str = typer.Option(None, "--as-of", help="the profile in force on this date (ROC accepted)"),
         fmt: Fmt = typer.Option(Fmt.table, "--format")) -> None:
    """The profile in force on a date, its tier and every dated version."""
    _setup(None)
    from ccinspect.core.dates import DateParseError, parse_date
    from ccinspect.web.brokers import services as svc

    try:
        day = parse_date(as_of, field="--as-of") if as_of else None
    except DateParseError as exc:
        fail(str(exc))
    _show(svc.summary(_org(broker), day), fmt)


@app.command("create")
def create(profile: Path = typer.Option(..., "--profile", exists=True, dir_okay=False, help=PROFILE_HELP),
           name: str = typer.Option(None, "--name", help="the broker's name (default: the profile's name)"),
           effective_from: str = typer.Option(None, "--from", help="in force from (default: capital_as_of or today)"),
           note: str = typer.Option("", "--note"),
           actor: str = typer.Option(None, "--as", help="a site administrator's user name, for the audit trail"),
           fmt: Fmt = typer.Option(Fmt.table, "--format")) -> None:
    """Onboard a broker from a profile file."""
    user = _setup(actor)
    from ccinspect.web.brokers import services as svc

    file_name, data = _read(profile)
    try:
        org = svc.save_broker(user, name=name or file_name or "", profile=data, effective_from=effective_from,
                              note=note)
    except svc.BrokerError as exc:
        _errors(exc)
    _show(svc.summary(org), fmt)


@app.command("edit")
def edit(broker: str = typer.Argument(..., help="id, name or TWSE broker code"),
         profile: Path = typer.Option(..., "--profile", exists=True, dir_okay=False, help=PROFILE_HELP),
         effective_from: str = typer.Option(None, "--from", help="in force from (default today); a capital change "
                                            "moves the tier from this date"),
         note: str = typer.Option("", "--note"), actor: str = typer.Option(None, "--as"),
         fmt: Fmt = typer.Option(Fmt.table, "--format")) -> None:
    """A new profile version in force from a date: the file's fields over the latest version's."""
    user = _setup(actor)
    from ccinspect.web.brokers import services as svc

    org = _org(broker)
    file_name, data = _read(profile)
    latest = (svc.versions(org) or [{"profile": {}}])[-1]["profile"]
    try:
        org = svc.save_broker(user, org=org, name=file_name or org.name, profile={**latest, **data},
                              effective_from=effective_from, note=note)
    except svc.BrokerError as exc:
        _errors(exc)
    _show(svc.summary(org), fmt)


@app.command("retire")
def retire(broker: str = typer.Argument(..., help="id, name or TWSE broker code"),
           reason: str = typer.Option(..., "--reason"), actor: str = typer.Option(None, "--as")) -> None:
    """Retire a broker: its records stay, its users are disabled (sessions and API tokens end)."""
    user = _setup(actor)
    from ccinspect.web.brokers import services as svc

    try:
        org = svc.retire_broker(user, _org(broker), reason)
    except svc.BrokerError as exc:
        _errors(exc)
    console.print(f"retired {org.name}; {org.users.count()} user(s) disabled", highlight=False)
