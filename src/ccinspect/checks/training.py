"""Training hours, awareness sessions and professional certificates against the staff roster."""

from __future__ import annotations

from collections import defaultdict

from .evidence import iter_table, read_csv
from .model import Check, Fact

KINDS = {"professional", "functional", "awareness"}
ASSESSMENT = {"passed", "failed", "none", ""}
# What HR's own sheets call the columns and kinds (Traditional Chinese headers are common)
ALIASES = {"員工編號": "employee_id", "工號": "employee_id", "課程": "course", "課程名稱": "course",
           "類別": "kind", "訓練類別": "kind", "日期": "date", "上課日期": "date", "時數": "hours",
           "評量": "assessment", "評量結果": "assessment", "訓練機構": "provider"}
KIND_WORDS = {"專業": "professional", "專業課程": "professional", "職能": "functional", "職能訓練": "functional",
              "宣導": "awareness", "資安宣導": "awareness"}
ASSESSMENT_WORDS = {"通過": "passed", "未通過": "failed", "無": "none"}


def _staff(ctx) -> list[dict]:
    path = ctx.files["staff"][0]
    return ctx.read(path, _load_staff, path, ctx.rel(path), ctx.as_of) or []


def _load_staff(path, shown, as_of) -> list[dict]:
    out = []
    for r in read_csv(path, shown, ["employee_id", "name", "role", "start_date"]):
        end = r.date("end_date", required=False)
        if end is not None and end <= as_of:
            continue  # left before the inspection date
        out.append({"id": r.str("employee_id", required=True), "name": r.str("name"),
                    "role": r.str("role", required=True).lower(), "start": r.date("start_date"),
                    "uses_systems": r.bool("uses_systems", default=True), "row": r})
    return out


def _records(ctx, since) -> dict[str, list[dict]]:
    """Training records from every file (records.csv, records.xlsx, one per year…), each read on its own."""
    out: dict[str, list[dict]] = defaultdict(list)
    for path in ctx.files["records"]:
        got = ctx.read(path, _load_records, path, ctx.rel(path), since, ctx.as_of)
        for k, v in (got or {}).items():
            out[k].extend(v)
    return out


def _load_records(path, shown, since, as_of) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = defaultdict(list)
    for r in iter_table(path, shown, ["employee_id", "course", "kind", "date", "hours"], ALIASES):
        for col, words in (("kind", KIND_WORDS), ("assessment", ASSESSMENT_WORDS)):
            v = r.values.get(col, "").strip()
            if v in words:
                r.values[col] = words[v]
        when = r.date("date")
        hours = r.number("hours")
        if hours < 0:
            raise r.err("hours", f"{hours} is negative")
        rec = {"kind": r.choice("kind", KINDS), "date": when, "hours": hours,
               "passed": r.choice("assessment", ASSESSMENT, required=False) == "passed", "row": r}
        if since <= when <= as_of:  # a record exactly N months old is within
            out[r.str("employee_id", required=True)].append(rec)
    return out


def _certificates(path, shown, as_of) -> dict[str, list[str]]:
    valid: dict[str, list[str]] = defaultdict(list)
    for r in iter_table(path, shown, ["employee_id", "certificate", "issued", "expires"]):
        issued, expires = r.date("issued"), r.date("expires", required=False)
        if expires is not None and expires < issued:
            raise r.err("expires", f"{expires} is before issued {issued}")
        if issued <= as_of and (expires is None or expires >= as_of):
            valid[r.str("employee_id", required=True)].append(r.str("certificate"))
    return valid


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
        valid = ctx.read(path, _certificates, path, ctx.rel(path), ctx.as_of) or {}
        sec = [x for x in staff if x["role"] in set(p["security_roles"])]
        facts = [_fact(x, f"holds {len(valid.get(x['id'], []))} valid certificate(s) on {ctx.as_of}; "
                          f"{p['min_valid_per_person']} required")
                 for x in sec if len(valid.get(x["id"], [])) < int(p["min_valid_per_person"])]
        checks.append(ctx.check("certificates", facts,
                                f"all {len(sec)} security staff hold a valid certificate",
                                "{n} security staff without a valid certificate",
                                [ctx.files["staff"][0], path]))
    return checks
