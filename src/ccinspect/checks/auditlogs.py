"""Audit-log samples (who, when, from where) and the retention of audit and firewall logs."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from ccinspect.core.dates import months_before

from .evidence import Row, read_csv, read_jsonl
from .model import Check, EvidenceError, Fact

_TS = re.compile(r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$")


WINDOWS_SUFFIXES = (".evtx", ".xml")


def _windows_rows(path: Path, shown: str, fmt: str) -> list[Row]:
    """Logon records of a Windows log (EVTX, wevtutil/Event Viewer XML, Event Viewer or PowerShell CSV)
    through the login readers: user id, date-time and source (address, else workstation) per record."""
    from ccinspect.detection.adapters import windows

    rows = []
    for item in windows.read_events(path, fmt, windows.WANTED):
        if isinstance(item, windows.Damage):
            raise EvidenceError(shown, 0, "(damaged)", f"{item.where}: {item.reason}")
        if isinstance(item, windows.Bad):
            raise EvidenceError(shown, _where_line(item.where), item.field, item.reason)
        if not isinstance(item, windows.WinEvent):
            continue
        m = windows.login(item)
        if isinstance(m, windows.Bad):
            raise EvidenceError(shown, _where_line(item.where), m.field, m.reason)
        if isinstance(m, windows.Login):
            src = m.row.get("ip") or m.row.get("device_id") or ""
            rows.append(Row(shown, _where_line(item.where), {
                "user_id": m.row.get("account") or "", "timestamp": m.row.get("ts") or "", "source": src,
                "event": f"{item.event_id} ({item.where})"}))
    return rows


def _where_line(where: str) -> int:
    digits = re.match(r"(?:record:)?(\d+)", where or "")
    return int(digits.group(1)) if digits else 0


def _sample_rows(path: Path, shown: str) -> list[Row]:
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson", ".json"):
        return read_jsonl(path, shown)
    if suffix in WINDOWS_SUFFIXES or suffix == ".csv":
        from ccinspect.detection.adapters import windows

        fmt = windows.sniff(path)
        if fmt is not None:
            return _windows_rows(path, shown, fmt)
        if suffix != ".csv":
            raise EvidenceError(shown, 0, "(format)", "not a Windows event log (EVTX or its XML export)")
    if suffix in (".csv", ".txt"):
        return read_csv(path, shown, [])
    raise EvidenceError(shown, 0, "(format)", "audit samples must be .csv, .jsonl, .evtx or Windows XML/CSV exports")


def _field(row_keys: set[str], candidates: list[str]) -> str | None:
    return next((c for c in candidates if c in row_keys), None)


def _sample_facts(path: Path, shown: str, p: dict) -> tuple[list[Fact], int]:
    facts: list[Fact] = []
    rows = _sample_rows(path, shown)
    if not rows:
        raise EvidenceError(shown, 0, "(records)", "no login records in the sample")
    keys = set().union(*(r.values.keys() for r in rows))
    names = {"user id": _field(keys, p["user_fields"]), "date-time": _field(keys, p["time_fields"]),
             "source address": _field(keys, p["source_fields"])}
    for label, col in names.items():
        if col is None:
            facts.append(Fact(f"{shown}: records carry no {label} field "
                              f"(fields present: {', '.join(sorted(keys))})", file=shown, subject=path.stem))
    for r in rows:
        for label, col in names.items():
            if col is None:
                continue
            v = r.str(col)
            if not v or v in ("-", "N/A", "null", "unknown"):
                ev = r.values.get("event")
                facts.append(Fact(f"record without {label} ({col} empty{', event ' + ev if ev else ''})",
                                  file=shown, line=r.line, subject=path.stem))
            elif label == "date-time" and not _TS.match(v):
                raise EvidenceError(shown, r.line, col, f"{v!r} is not an ISO date-time")
    return facts, len(rows)


def analyze(ctx) -> list[Check]:
    checks = []
    if "record_fields" in ctx.active:
        p = ctx.params("record_fields")
        facts, total = [], 0
        for path in ctx.files["samples"]:
            got = ctx.read(path, _sample_facts, path, ctx.rel(path), p)
            if got:
                facts.extend(got[0])
                total += got[1]
        checks.append(ctx.check("record_fields", facts,
                                f"all {total} sampled records carry user id, date-time and source address",
                                "{n} sampled record(s) or file(s) lack a required field", ctx.files["samples"]))

    inv = None
    for rule in ("audit_retention", "firewall_retention"):
        if rule not in ctx.active:
            continue
        if inv is None:
            inv = _inventory(ctx)
        p = ctx.params(rule)
        facts, systems = _retention(ctx, inv, p)
        checks.append(ctx.check(rule, facts,
                                f"{p['kind']} logs of {', '.join(systems) or 'no system'} held for "
                                f"{p['retention_years']} years without gaps",
                                f"{{n}} {p['kind']}-log retention finding(s)", ctx.files["inventory"],
                                manual=None if systems else f"the inventory lists no {p['kind']} logs"))
    return checks


def _inventory(ctx) -> list[dict]:
    path = ctx.files["inventory"][0]
    return ctx.read(path, _load_inventory, path, ctx.rel(path)) or []


def _load_inventory(path: Path, shown: str) -> list[dict]:
    out = []
    for r in read_csv(path, shown, ["system", "kind", "file", "first_date", "last_date"]):
        first, last = r.date("first_date"), r.date("last_date")
        if first > last:
            raise r.err("last_date", f"{last} is before first_date {first}")
        out.append({"system": r.str("system", required=True), "kind": r.choice("kind", {"audit", "firewall"}),
                    "file": r.str("file"), "first": first, "last": last,
                    "since": r.date("system_since", required=False), "row": r})
    return out


def _retention(ctx, inv: list[dict], p: dict) -> tuple[list[Fact], list[str]]:
    facts: list[Fact] = []
    by_system: dict[str, list[dict]] = {}
    for e in inv:
        if e["kind"] == p["kind"]:
            by_system.setdefault(e["system"], []).append(e)
    need_from = months_before(ctx.as_of, 12 * int(p["retention_years"]))
    for system, items in sorted(by_system.items()):
        items.sort(key=lambda e: e["first"])
        since = next((e["since"] for e in items if e["since"]), None)
        target = max(need_from, since) if since else need_from
        first = items[0]
        if first["first"] > target:
            facts.append(Fact(f"{system}: oldest {p['kind']} log starts {first['first']}; "
                              f"{p['retention_years']} years requires logs from {target}",
                              file=first["row"].file, line=first["row"].line, subject=system,
                              date=first["first"].isoformat()))
        reach = items[0]["last"]
        for e in items[1:]:
            gap = (e["first"] - reach).days - 1
            if gap > int(p["max_gap_days"]) and e["first"] > target:
                facts.append(Fact(f"{system}: no {p['kind']} logs from {reach + dt.timedelta(days=1)} to "
                                  f"{e['first'] - dt.timedelta(days=1)} ({gap} days)",
                                  file=e["row"].file, line=e["row"].line, subject=system,
                                  date=(reach + dt.timedelta(days=1)).isoformat()))
            reach = max(reach, e["last"])
        if (ctx.as_of - reach).days > int(p["max_staleness_days"]):
            last_row = max(items, key=lambda e: e["last"])["row"]
            facts.append(Fact(f"{system}: newest {p['kind']} log ends {reach}, "
                              f"{(ctx.as_of - reach).days} days before {ctx.as_of}",
                              file=last_row.file, line=last_row.line, subject=system, date=reach.isoformat()))
    return facts, sorted(by_system)
