"""Vulnerability scans (Greenbone/OpenVAS XML, Nessus .nessus, CSV), remediation, pentests and health checks.

XML goes through defusedxml: a scanner export is outside data and must not expand entities."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import parse as safe_parse

from ccinspect.core.dates import months_after, months_before

from .evidence import read_csv
from .model import Check, EvidenceError, Fact

WORDS = {"critical": 9.0, "high": 7.0, "medium": 4.0, "low": 0.1, "log": 0.0, "info": 0.0, "none": 0.0}
NESSUS_LEVELS = {"4": "critical", "3": "high", "2": "medium", "1": "low", "0": "info"}


@dataclass
class Finding:
    host: str
    vuln_id: str
    name: str
    severity: float
    level: str  # critical / high / medium / low / info
    file: str
    line: int | None = None


@dataclass
class Scan:
    file: str
    date: dt.date
    scanner: str
    hosts: set[str] = field(default_factory=set)
    findings: list[Finding] = field(default_factory=list)


def _level(score: float) -> str:
    return "critical" if score >= 9.0 else "high" if score >= 7.0 else "medium" if score >= 4.0 \
        else "low" if score > 0 else "info"


def _xml(path: Path, shown: str) -> Element:
    try:
        return safe_parse(str(path), forbid_dtd=True).getroot()  # scanners write no DTD: refuse any
    except ParseError as exc:
        line = exc.position[0] if getattr(exc, "position", None) else 0
        raise EvidenceError(shown, line, "(xml)", f"not well-formed XML: {exc}") from None
    except DefusedXmlException as exc:
        raise EvidenceError(shown, 0, "(xml)", f"refused unsafe XML construct: {exc}") from None


def _iso_date(value: str, shown: str, fld: str) -> dt.date:
    try:
        return dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00")).date()
    except ValueError:
        raise EvidenceError(shown, 0, fld, f"{value!r} is not an ISO date-time") from None


def parse_openvas(root: Element, shown: str) -> Scan:
    inner = root
    for el in root.iter("report"):  # the GMP export nests <report><report>…; take the one with results
        if el.find("scan_start") is not None or el.find("results") is not None:
            inner = el
    start = inner.findtext("scan_start") or inner.findtext("creation_time") or root.findtext("creation_time")
    if not start or not start.strip():
        raise EvidenceError(shown, 0, "scan_start", "Greenbone report has no scan_start")
    scan = Scan(shown, _iso_date(start, shown, "scan_start"), "greenbone")
    for h in inner.findall("host"):
        ip = (h.findtext("ip") or h.text or "").strip()
        if ip:
            scan.hosts.add(ip)
    for res in inner.iter("result"):
        host_el = res.find("host")
        host = (host_el.text or "").strip() if host_el is not None else ""
        nvt = res.find("nvt")
        oid = nvt.get("oid", "") if nvt is not None else ""
        if not host or not oid:
            raise EvidenceError(shown, 0, "result/host" if not host else "result/nvt@oid",
                                f"result {res.get('id', '?')} lacks {'host' if not host else 'nvt oid'}")
        sev_text = (res.findtext("severity") or (nvt.findtext("cvss_base") if nvt is not None else "") or "").strip()
        threat = (res.findtext("threat") or "").strip().lower()
        try:
            score = float(sev_text) if sev_text else WORDS.get(threat, 0.0)
        except ValueError:
            raise EvidenceError(shown, 0, "result/severity", f"{sev_text!r} is not a CVSS score") from None
        level = threat if threat in ("critical", "high", "medium", "low") else _level(score)
        scan.hosts.add(host)
        scan.findings.append(Finding(host, oid, (res.findtext("name") or "").strip(), score, level, shown))
    return scan


def _nessus_time(value: str) -> dt.date | None:
    v = " ".join(value.split())
    for fmt in ("%a %b %d %H:%M:%S %Y", "%Y-%m-%dT%H:%M:%S"):
        try:
            return dt.datetime.strptime(v, fmt).date()
        except ValueError:
            pass
    if v.isdigit():
        try:
            return dt.datetime.fromtimestamp(int(v), dt.UTC).date()
        except (OverflowError, OSError, ValueError):  # seconds beyond any calendar
            return None
    return None


def parse_nessus(root: Element, shown: str) -> Scan:
    dates: list[dt.date] = []
    scan = Scan(shown, dt.date.min, "nessus")
    for rh in root.iter("ReportHost"):
        name = rh.get("name", "").strip()
        if not name:
            raise EvidenceError(shown, 0, "ReportHost@name", "a ReportHost has no name")
        scan.hosts.add(name)
        for tag in rh.iter("tag"):
            if tag.get("name") in ("HOST_START", "HOST_START_TIMESTAMP") and tag.text:
                d = _nessus_time(tag.text)
                if d is None:
                    raise EvidenceError(shown, 0, "HOST_START", f"{tag.text!r} is not a Nessus date")
                dates.append(d)
        for item in rh.iter("ReportItem"):
            sev = item.get("severity")
            if sev not in NESSUS_LEVELS:
                raise EvidenceError(shown, 0, "ReportItem@severity",
                                    f"{sev!r} on plugin {item.get('pluginID')} is not 0–4")
            cvss = item.findtext("cvss3_base_score") or item.findtext("cvss_base_score")
            try:
                score = float(cvss) if cvss else {"4": 9.0, "3": 7.0, "2": 4.0, "1": 0.1, "0": 0.0}[sev]
            except ValueError:
                raise EvidenceError(shown, 0, "cvss3_base_score", f"{cvss!r} is not a CVSS score") from None
            scan.findings.append(Finding(name, item.get("pluginID", ""), item.get("pluginName", ""), score,
                                         NESSUS_LEVELS[sev], shown))
    if not dates:
        raise EvidenceError(shown, 0, "HOST_START", "no HOST_START tag: cannot date the scan")
    scan.date = min(dates)
    return scan


def parse_csv(path: Path, shown: str) -> list[Scan]:
    """One CSV may hold several scans; they are told apart by scan_date."""
    scans: dict[dt.date, Scan] = {}
    for r in read_csv(path, shown, ["scan_date", "host", "vuln_id", "severity"]):
        d = r.date("scan_date")
        sc = scans.setdefault(d, Scan(shown, d, "csv"))
        host = r.str("host", required=True)
        sc.hosts.add(host)
        vid = r.str("vuln_id")
        if not vid:  # a host scanned clean is listed with no vulnerability
            continue
        raw = r.str("severity", required=True).lower()
        if raw in WORDS:
            score, level = WORDS[raw], raw if raw in ("critical", "high", "medium", "low") else "info"
        else:
            score = r.number("severity")
            if not 0 <= score <= 10:
                raise r.err("severity", f"{score} is outside CVSS 0–10")
            level = _level(score)
        sc.findings.append(Finding(host, vid, r.str("name"), score, level, shown, r.line))
    return list(scans.values())


def load_scans(path: Path, shown: str) -> list[Scan]:
    ext = path.suffix.lower()
    if ext == ".csv":
        return parse_csv(path, shown)
    if ext in (".xml", ".nessus"):
        root = _xml(path, shown)
        if root.tag == "NessusClientData_v2":
            return [parse_nessus(root, shown)]
        if root.tag in ("report", "get_reports_response"):
            return [parse_openvas(root, shown)]
        raise EvidenceError(shown, 1, "(root)", f"<{root.tag}> is neither a Greenbone report nor Nessus v2")
    raise EvidenceError(shown, 0, "(format)", f"unknown report type {ext!r}; use .xml, .nessus or .csv")


def analyze(ctx) -> list[Check]:
    scans = sorted((s for p in ctx.files["reports"] for s in load_scans(p, ctx.rel(p))), key=lambda s: s.date)
    scans = [s for s in scans if s.date <= ctx.as_of]
    files = ctx.files["reports"]
    checks = []
    if "scan_interval" in ctx.active:
        p = ctx.params("scan_interval")
        months = int(p["interval_months"])
        facts = []
        if not scans:
            facts.append(Fact(f"no scan dated on or before {ctx.as_of}"))
        else:
            last = scans[-1]
            if last.date < months_before(ctx.as_of, months):
                facts.append(Fact(f"latest scan {last.date} is more than {months} months before {ctx.as_of}",
                                  file=last.file, date=last.date.isoformat()))
            window = months_before(ctx.as_of, int(p["lookback_months"]))
            dates = sorted({s.date for s in scans})
            for a, b in zip(dates, dates[1:], strict=False):
                if b >= window and months_after(a, months) < b:
                    facts.append(Fact(f"{(b - a).days} days between scans {a} and {b} "
                                      f"(more than {months} months)", date=a.isoformat(),
                                      file=next(s.file for s in scans if s.date == b)))
        checks.append(ctx.check("scan_interval", facts,
                                f"{len(scans)} scan(s); latest {scans[-1].date if scans else '-'}, "
                                f"none more than {months} months apart", "{n} scan-interval finding(s)", files))
    if "high_findings" in ctx.active:
        checks.append(_high_findings(ctx, scans, files))
    return checks


def _high_findings(ctx, scans: list[Scan], files: list[Path]) -> Check:
    p = ctx.params("high_findings")
    levels = set(p["severities"])
    is_high = lambda f: f.level in levels or f.severity >= float(p["min_cvss"])  # noqa: E731
    remediation: dict[tuple[str, str], dict] = {}
    rfiles = list(files)
    if "remediation" in ctx.files:
        rp = ctx.files["remediation"][0]
        rfiles.append(rp)
        for r in read_csv(rp, ctx.rel(rp), ["host", "vuln_id", "status", "date"]):
            remediation[(r.str("host", required=True), r.str("vuln_id", required=True))] = {
                "status": r.choice("status", {"accepted", "fixed", "in_progress"}), "date": r.date("date"),
                "approved_by": r.str("approved_by"), "row": r}
    latest: dict[str, Scan] = {}
    for s in scans:
        for h in s.hosts:
            latest[h] = s  # scans are sorted by date
    facts: list[Fact] = []
    seen_high: set[tuple[str, str]] = set()
    for s in scans:
        for f in s.findings:
            if is_high(f):
                seen_high.add((f.host, f.vuln_id))
    n_open = 0
    for host, s in sorted(latest.items()):
        for f in s.findings:
            if f.host != host or not is_high(f):
                continue
            n_open += 1
            rec = remediation.get((host, f.vuln_id))
            what = f"{host}: {f.level} {f.vuln_id} '{f.name}' (CVSS {f.severity:g}) open in the {s.date} scan"
            if rec is None or rec["status"] == "in_progress":
                facts.append(Fact(what + ", with no risk assessment or fix recorded", file=f.file, line=f.line,
                                  subject=host, date=s.date.isoformat()))
            elif rec["status"] == "fixed":
                facts.append(Fact(what + f", although marked fixed on {rec['date']}", file=f.file, line=f.line,
                                  subject=host, date=s.date.isoformat()))
            elif not rec["approved_by"] or rec["date"] > ctx.as_of:
                facts.append(Fact(what + "; the risk acceptance has no approver", file=rec["row"].file,
                                  line=rec["row"].line, subject=host))
    for (host, vid), rec in sorted(remediation.items()):
        if rec["status"] == "fixed" and host in latest and latest[host].date <= rec["date"]:
            facts.append(Fact(f"{host}: {vid} marked fixed on {rec['date']} but not rescanned since "
                              f"(latest scan of the host {latest[host].date})", file=rec["row"].file,
                              line=rec["row"].line, subject=host))
    fixed = len(seen_high) - n_open
    return ctx.check("high_findings", facts,
                     f"{fixed} high/critical finding(s) fixed and rescanned; {n_open} open, each risk-accepted",
                     "{n} high/critical finding(s) neither fixed-and-rescanned nor risk-assessed", rfiles)


def analyze_security_tests(ctx) -> list[Check]:
    path = ctx.files["tests"][0]
    rows = read_csv(path, ctx.rel(path), ["kind", "date", "provider"])
    tests = []
    for r in rows:
        tests.append({"kind": r.choice("kind", {"pentest", "health_check"}), "date": r.date("date"), "row": r,
                      "scope": {x.strip().lower() for x in re.split(r"[;,]", r.str("scope")) if x.strip()},
                      "open_high": int(r.number("open_high", required=False) or 0),
                      "due": r.date("remediation_due", required=False)})
    checks = []
    for rule in ("penetration_test", "health_check"):
        if rule not in ctx.active:
            continue
        p = ctx.params(rule)
        months, source = ctx.frequency_months(rule)
        mine = sorted((t for t in tests if t["kind"] == p["kind"] and t["date"] <= ctx.as_of),
                      key=lambda t: t["date"])
        if months is None:
            checks.append(ctx.check(rule, [], "", "", [path], manual=f"{source} (tier {ctx.tier})"))
            continue
        facts = []
        if not mine:
            facts.append(Fact(f"no {p['kind']} on record", file=ctx.rel(path)))
        else:
            last = mine[-1]
            r = last["row"]
            if last["date"] < months_before(ctx.as_of, months):
                facts.append(Fact(f"latest {p['kind']} {last['date']} is more than {months} months before "
                                  f"{ctx.as_of} ({source})", file=r.file, line=r.line, date=last["date"].isoformat()))
            if rule == "penetration_test" and last["open_high"] > 0 and last["due"] is None:
                facts.append(Fact(f"{last['open_high']} open high finding(s) from the {last['date']} test with no "
                                  "remediation date", file=r.file, line=r.line))
            if rule == "health_check":
                missing = [a for a in p["required_scope"] if a not in last["scope"]]
                if missing:
                    facts.append(Fact(f"health check {last['date']} did not cover {', '.join(missing)}",
                                      file=r.file, line=r.line))
        checks.append(ctx.check(rule, facts,
                                f"latest {p['kind']} {mine[-1]['date'] if mine else '-'} within {months} months "
                                f"({source})", f"{{n}} {p['kind']} finding(s)", [path]))
    return checks
