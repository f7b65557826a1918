"""Training hours, awareness sessions and professional certificates against the staff roster."""

from __future__ import annotations

from collections import defaultdict

from .evidence import read_csv
from .model import Check, Fact

KINDS = {"professional", "functional", "awareness"}
ASSESSMENT = {"passed", "failed", "none", ""}


def _staff(ctx) -> list[dict]:
    path = ctx.files["staff"][0]
    out = []
    for r in read_csv(path, ctx.rel(path), ["employee_id", "name", "role", "start_date"]):
        end = r.date("end_date", required=False)
        if end is not None and end <= ctx.as_of:
            continue  # left before the inspection date
        out.append({"id": r.str("employee_id", required=True), "name": r.str("name"),
                    "role": r.str("role", required=True).lower(), "start": r.date("start_date"),
                    "uses_systems": r.bool("uses_systems", default=True), "row": r})
    return out


def _records(ctx, since) -> dict[str, list[dict]]:
    path = ctx.files["records"][0]
    out: dict[str, list[dict]] = defaultdict(list)
    for r in read_csv(path, ctx.rel(path), ["employee_id", "course", "kind", "date", "hours"]):
        when = r.date("date")
        hours = r.number("hours")
        if hours < 0:
            raise r.err("hours", f"{hours} is negative")
        rec = {"kind": r.choice("kind", KINDS), "date": when, "hours": hours,
               "passed": r.choice("assessment", ASSESSMENT, required=False) == "passed", "row": r}
        if since <= when <= ctx.as_of:  # a record exactly N months old is within
            out[r.str("employee_id", required=True)].append(rec)
    return out


def _fact(person: dict, message: str) -> Fact:
    r = person["row"]
    return Fact(f"{person['id']} {person['name']}: {message}", file=r.file, line=r.line, subject=person["id"])


def analyze(ctx) -> list[Check]:
    checks = []
    staff = _staff(ctx) if "staff" in ctx.files else []
    files = [p for role in ("staff", "records") for p in ctx.files.get(role, [])]

    if "security_staff_hours" in ctx.active:
        p = ctx.params("security_staff_hours")
        since = ctx.months_ago(int(p["window_months"]))
        recs = _records(ctx, since)
        sec_roles = set(p["security_roles"])
        facts = []
        n_sec = n_other = 0
        for person in staff:
            if person["start"] > since:
                continue  # joined within the window: not yet due a full year's hours
            mine = recs.get(person["id"], [])
            if person["role"] in sec_roles:
                n_sec += 1
                hrs = sum(x["hours"] for x in mine if x["kind"] in p["professional_kinds"])
                if hrs < p["security_hours"]:
                    facts.append(_fact(person, f"security staff with {hrs:g} h of professional training since "
                                               f"{since}; {p['security_hours']} h required"))
                if not any(x["passed"] for x in mine if x["kind"] in p["professional_kinds"]):
                    facts.append(_fact(person, f"security staff with no passed assessment since {since}"))
            elif person["uses_systems"]:
                n_other += 1
                hrs = sum(x["hours"] for x in mine if x["kind"] in p["awareness_kinds"])
                if hrs < p["staff_hours"]:
                    facts.append(_fact(person, f"{hrs:g} h of security awareness since {since}; "
                                               f"{p['staff_hours']} h required"))
        checks.append(ctx.check("security_staff_hours", facts,
                                f"{n_sec} security staff with ≥{p['security_hours']} h and a passed assessment; "
                                f"{n_other} other staff with ≥{p['staff_hours']} h",
                                "{n} training-hours finding(s)", files))

    if "awareness_all_staff" in ctx.active:
        p = ctx.params("awareness_all_staff")
        since = ctx.months_ago(int(p["window_months"]))
        recs = _records(ctx, since)
        due = [x for x in staff if x["start"] <= since]
        facts = [_fact(x, f"no security awareness session since {since}") for x in due
                 if not any(r["kind"] == "awareness" for r in recs.get(x["id"], []))]
        checks.append(ctx.check("awareness_all_staff", facts,
                                f"all {len(due)} employees attended awareness training since {since}",
                                "{n} employee(s) without awareness training in the year", files))

    if "certificates" in ctx.active:
        p = ctx.params("certificates")
        path = ctx.files["certificates"][0]
        valid: dict[str, list[str]] = defaultdict(list)
        for r in read_csv(path, ctx.rel(path), ["employee_id", "certificate", "issued", "expires"]):
            issued, expires = r.date("issued"), r.date("expires", required=False)
            if expires is not None and expires < issued:
                raise r.err("expires", f"{expires} is before issued {issued}")
            if issued <= ctx.as_of and (expires is None or expires >= ctx.as_of):
                valid[r.str("employee_id", required=True)].append(r.str("certificate"))
        sec = [x for x in staff if x["role"] in set(p["security_roles"])]
        facts = [_fact(x, f"holds {len(valid.get(x['id'], []))} valid certificate(s) on {ctx.as_of}; "
                          f"{p['min_valid_per_person']} required")
                 for x in sec if len(valid.get(x["id"], [])) < int(p["min_valid_per_person"])]
        checks.append(ctx.check("certificates", facts,
                                f"all {len(sec)} security staff hold a valid certificate",
                                "{n} security staff without a valid certificate",
                                [ctx.files["staff"][0], path]))
    return checks
