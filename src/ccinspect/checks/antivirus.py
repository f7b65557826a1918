"""Antivirus: Microsoft Defender's Get-MpComputerStatus (console list or ConvertTo-Json, one file per host)
and a documented CSV for other consoles: engine on, real-time protection on, signature age, and inventory
hosts with no status at all."""

from __future__ import annotations

import json
import re
from pathlib import Path

from ccinspect.core.textfile import read_text

from .assets import load_inventory
from .evidence import read_csv
from .model import Check, EvidenceError, Fact

LINE = re.compile(r"^(?P<key>[A-Za-z_][A-Za-z0-9_]*)\s*:\s?(?P<value>.*)$")
TRUE, FALSE = {"true", "1", "yes", "on", "是"}, {"false", "0", "no", "off", "否"}


def _bool(v, shown: str, fld: str, line: int = 0) -> bool | None:
    if isinstance(v, bool) or v is None:
        return v
    s = str(v).strip().lower()
    if not s:
        return None
    if s in TRUE:
        return True
    if s in FALSE:
        return False
    raise EvidenceError(shown, line, fld, f"{v!r} is not True or False")


def _int(v, shown: str, fld: str, line: int = 0) -> int | None:
    if v is None or str(v).strip() == "":
        return None
    try:
        return int(str(v).strip())
    except ValueError:
        raise EvidenceError(shown, line, fld, f"{v!r} is not a whole number of days") from None


def read_mpstatus(path: Path, shown: str) -> list[dict]:
    """Host statuses from one Get-MpComputerStatus output: `Format-List` console text (as `>` writes it,
    UTF-16 in Windows PowerShell) or ConvertTo-Json (an object, or a list with PSComputerName)."""
    text = read_text(path).text
    stripped = text.lstrip()
    if stripped.startswith(("{", "[")):
        try:
            data = json.loads(stripped)
        except json.JSONDecodeError as exc:
            raise EvidenceError(shown, exc.lineno, "(json)", f"not valid JSON: {exc.msg}") from None
        items = data if isinstance(data, list) else [data]
        if not all(isinstance(i, dict) for i in items):
            raise EvidenceError(shown, 1, "(json)", "expected Get-MpComputerStatus objects")
        raw = [(i, 1) for i in items]
    else:
        fields: dict = {}
        first = 0
        for n, line in enumerate(text.splitlines(), 1):
            m = LINE.match(line.strip())
            if m:
                fields[m["key"]] = m["value"].strip()
                first = first or n
        raw = [(fields, first or 1)]
    out = []
    for item, line in raw:
        if "RealTimeProtectionEnabled" not in item or "AntivirusSignatureAge" not in item:
            raise EvidenceError(shown, line, "RealTimeProtectionEnabled",
                                "not a Get-MpComputerStatus output (RealTimeProtectionEnabled and "
                                "AntivirusSignatureAge expected)")
        host = str(item.get("PSComputerName") or Path(shown).stem)
        out.append({"host": host, "file": shown, "line": line,
                    "antivirus": _bool(item.get("AntivirusEnabled"), shown, "AntivirusEnabled", line),
                    "realtime": _bool(item.get("RealTimeProtectionEnabled"), shown, "RealTimeProtectionEnabled", line),
                    "age": _int(item.get("AntivirusSignatureAge"), shown, "AntivirusSignatureAge", line)})
    return out


def read_console_csv(path: Path, shown: str, as_of) -> list[dict]:
    """Other consoles: host, realtime_protection, signature_updated (optional antivirus_enabled)."""
    out = []
    for r in read_csv(path, shown, ["host", "realtime_protection", "signature_updated"]):
        updated = r.date("signature_updated")
        out.append({"host": r.str("host", required=True), "file": shown, "line": r.line,
                    "antivirus": _bool(r.str("antivirus_enabled"), shown, "antivirus_enabled", r.line),
                    "realtime": _bool(r.str("realtime_protection"), shown, "realtime_protection", r.line),
                    "age": (as_of - updated).days})
    return out


def analyze(ctx) -> list[Check]:
    statuses: list[dict] = []
    for p in ctx.files["status"]:
        if p.suffix.lower() == ".csv":
            got = ctx.read(p, read_console_csv, p, ctx.rel(p), ctx.as_of)
        else:
            got = ctx.read(p, read_mpstatus, p, ctx.rel(p))
        statuses.extend(got or [])
    files = list(ctx.files["status"])
    checks = []

    def fact(s: dict, msg: str) -> Fact:
        return Fact(f"{s['host']}: {msg}", file=s["file"], line=s["line"], subject=s["host"])

    if "signatures" in ctx.active:
        m = int(ctx.params("signatures")["max_signature_age_days"])
        facts = [fact(s, "antivirus engine disabled (AntivirusEnabled False)") for s in statuses if s["antivirus"] is False]
        facts += [fact(s, f"signatures {s['age']} days old (at most {m})") for s in statuses
                  if s["age"] is not None and s["age"] > m]
        checks.append(ctx.check("signatures", facts, f"{len(statuses)} host(s): engine on, signatures at most {m} days old",
                                "{n} host(s) with the engine off or stale signatures", files))
    if "realtime" in ctx.active:
        facts = [fact(s, "real-time protection off") for s in statuses if s["realtime"] is not True]
        checks.append(ctx.check("realtime", facts, f"real-time protection on for {len(statuses)} host(s)",
                                "{n} host(s) without real-time protection", files))
    if "coverage" in ctx.active:
        ip = ctx.files["inventory"][0]
        pattern = re.compile(ctx.params("coverage")["os_pattern"], re.IGNORECASE)
        seen = {s["host"].lower() for s in statuses}
        facts = []
        for a in load_inventory(ip, ctx.rel(ip)):
            row = a["row"]
            if not pattern.search(row.str("os")):
                continue
            names = {a["id"].lower(), a["name"].lower()} | {x.lower() for x in re.split(r"[;,、\s]+", row.str("ip")) if x}
            if not names & seen:
                facts.append(Fact(f"{a['id']} {a['name']} ({row.str('os')}): no antivirus status supplied",
                                  file=row.file, line=row.line, subject=a["id"]))
        checks.append(ctx.check("coverage", facts, "every inventory host that needs antivirus has a status",
                                "{n} inventory host(s) with no antivirus status", [ip, *files]))
    return checks
