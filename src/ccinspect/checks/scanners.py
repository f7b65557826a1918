"""Scanner reports as the scanners write them: Greenbone/OpenVAS, Nessus v2 and Tenable WAS, Nessus,
Tenable.sc and Tenable.io CSV, Qualys XML and CSV (VM and VMDR), Rapid7 Nexpose XML, our own CSV; and
Nmap XML (hosts and open ports, for the exposure analysis).

Every reader returns Scans: the hosts scanned on one day (Asia/Taipei) and their findings, one per
(host, vulnerability id) at its highest severity. XML goes through defusedxml with entities and external
references refused; a DOCTYPE alone (Qualys, Nmap) is allowed, as the scanners write one."""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree.ElementTree import Element, ParseError
from zoneinfo import ZoneInfo

from dateutil import parser as dateparser
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import parse as safe_parse

from ccinspect.core.textfile import open_text

from .model import EvidenceError

TAIPEI = ZoneInfo("Asia/Taipei")
WORDS = {"critical": 9.0, "urgent": 9.0, "high": 7.0, "serious": 7.0, "medium": 4.0, "moderate": 4.0,
         "low": 0.1, "minimal": 0.0, "log": 0.0, "info": 0.0, "informational": 0.0, "none": 0.0}
NESSUS_LEVELS = {"4": "critical", "3": "high", "2": "medium", "1": "low", "0": "info"}
QUALYS_LEVELS = {"5": "critical", "4": "high", "3": "medium", "2": "low", "1": "info"}
LEVEL_SCORE = {"critical": 9.0, "high": 7.0, "medium": 4.0, "low": 0.1, "info": 0.0}
# dateutil reads these abbreviations; Tenable.sc writes the scanner's local zone name.
TZINFOS = {"UTC": 0, "GMT": 0, "CET": 3600, "CEST": 7200, "EST": -18000, "EDT": -14400, "CST": -21600,
           "CDT": -18000, "MST": -25200, "MDT": -21600, "PST": -28800, "PDT": -25200, "JST": 32400,
           "KST": 32400, "HKT": 28800, "SGT": 28800}


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
    found: dict[tuple[str, str], Finding] = field(default_factory=dict)

    @property
    def findings(self) -> list[Finding]:
        return list(self.found.values())

    def add(self, f: Finding) -> None:
        """One finding per (host, vulnerability): the same plugin on two ports counts once, at its worst."""
        self.hosts.add(f.host)
        key = (f.host, f.vuln_id)
        old = self.found.get(key)
        if old is None or (f.severity, _RANK[f.level]) > (old.severity, _RANK[old.level]):
            self.found[key] = f


_RANK = {"info": 0, "low": 1, "medium": 2, "high": 3, "critical": 4}


class Scans:
    """Scans of one file, one per day (hosts of one report may have been scanned on different days)."""

    def __init__(self, file: str, scanner: str):
        self.file, self.scanner, self.by_day = file, scanner, {}

    def day(self, d: dt.date) -> Scan:
        return self.by_day.setdefault(d, Scan(self.file, d, self.scanner))

    def list(self) -> list[Scan]:
        return [self.by_day[d] for d in sorted(self.by_day)]


def level_of(score: float) -> str:
    return "critical" if score >= 9.0 else "high" if score >= 7.0 else "medium" if score >= 4.0 \
        else "low" if score > 0 else "info"


def taipei_date(value: dt.datetime) -> dt.date:
    """The day in Taipei; a time without an offset is taken as the scanner's local (Taipei) time."""
    return value.astimezone(TAIPEI).date() if value.tzinfo else value.date()


def parse_when(value: str, shown: str, fld: str, line: int = 0) -> dt.date:
    v = " ".join((value or "").split())
    if not v:
        raise EvidenceError(shown, line, fld, "is empty; expected the scan's date and time")
    if v.isdigit() and len(v) >= 9:  # epoch seconds (Nessus HOST_START_TIMESTAMP, Nmap start)
        try:
            return dt.datetime.fromtimestamp(int(v), dt.UTC).astimezone(TAIPEI).date()
        except (OverflowError, OSError, ValueError):
            raise EvidenceError(shown, line, fld, f"{value!r} is not a time: seconds beyond any calendar") from None
    if re.fullmatch(r"\d{8}T\d{6,9}", v):  # Nexpose: 20131127T050242739, no offset
        return dt.datetime.strptime(v[:15], "%Y%m%dT%H%M%S").date()
    v = v.replace(" at ", " ")
    dayfirst = bool(re.match(r"\d{1,2}/\d{1,2}/\d{4}", v)) and int(v.split("/")[0]) > 12
    try:
        when = dateparser.parse(v, tzinfos=TZINFOS, dayfirst=dayfirst)
    except (ValueError, OverflowError):
        raise EvidenceError(shown, line, fld, f"{value!r} is not a date and time") from None
    return taipei_date(when)


# ---- XML ------------------------------------------------------------------------------------------------

def safe_xml(path: Path, shown: str) -> Element:
    """Parse outside XML: a DOCTYPE is allowed (Qualys and Nmap write one), entities and external
    references are refused, and the external DTD is never fetched."""
    try:
        return safe_parse(str(path), forbid_dtd=False, forbid_entities=True, forbid_external=True).getroot()
    except ParseError as exc:
        line = exc.position[0] if getattr(exc, "position", None) else 0
        raise EvidenceError(shown, line, "(xml)", f"not well-formed XML: {exc}") from None
    except DefusedXmlException as exc:
        raise EvidenceError(shown, 0, "(xml)", f"refused: the XML declares entities or external references "
                                               f"({type(exc).__name__})") from None


def _score(text: str | None, shown: str, fld: str) -> float | None:
    t = (text or "").strip()
    if not t:
        return None
    t = t.split()[0].split("(")[0]
    try:
        s = float(t)
    except ValueError:
        raise EvidenceError(shown, 0, fld, f"{text!r} is not a CVSS score") from None
    if not 0 <= s <= 10:
        raise EvidenceError(shown, 0, fld, f"{s} is outside CVSS 0–10")
    return s


def read_greenbone_xml(root: Element, shown: str) -> list[Scan]:
    inner = root
    for el in root.iter("report"):  # GMP nests <report><report>…; take the one with results
        if el.find("results") is not None or el.find("scan_start") is not None:
            inner = el
    start = inner.findtext("scan_start") or inner.findtext("timestamp") or root.findtext("creation_time")
    if not start or not start.strip():
        raise EvidenceError(shown, 0, "scan_start", "Greenbone report has no scan_start")
    default = parse_when(start, shown, "scan_start")
    host_day: dict[str, dt.date] = {}
    for h in inner.findall("host"):
        ip = (h.findtext("ip") or "").strip()
        if ip:
            hs = h.findtext("start")
            host_day[ip] = parse_when(hs, shown, "host/start") if hs and hs.strip() else default
    out = Scans(shown, "greenbone")
    for ip, d in host_day.items():
        out.day(d).hosts.add(ip)
    results = inner.find("results")
    # Direct children only: with details, each result carries <detection><result> naming the product
    # detection it relied on; that inner result is no finding.
    for res in (results.findall("result") if results is not None else []):
        host_el = res.find("host")
        host = (host_el.text or "").strip() if host_el is not None else ""
        nvt = res.find("nvt")
        oid = nvt.get("oid", "") if nvt is not None else ""
        if not host or not oid:
            raise EvidenceError(shown, 0, "result/host" if not host else "result/nvt@oid",
                                f"result {res.get('id', '?')} lacks {'host' if not host else 'nvt oid'}")
        score = _score(res.findtext("severity"), shown, "result/severity")
        if score is None and nvt is not None:
            score = _score(nvt.findtext("cvss_base"), shown, "nvt/cvss_base")
        threat = (res.findtext("threat") or "").strip().lower()
        if score is None:
            score = WORDS.get(threat, 0.0)
        level = threat if threat in ("critical", "high", "medium", "low") else level_of(score)
        out.day(host_day.get(host, default)).add(
            Finding(host, oid, (res.findtext("name") or "").strip(), score, level, shown))
    if not out.by_day:
        out.day(default)
    return out.list()


def read_nessus(root: Element, shown: str) -> list[Scan]:
    """Nessus v2 and Tenable WAS. HOST_START_TIMESTAMP (epoch seconds) is preferred: HOST_START has no
    offset in Nessus (ctime in the scanner's zone) and an ISO time with one in WAS."""
    out = Scans(shown, "nessus")
    for rh in root.iter("ReportHost"):
        name = rh.get("name", "").strip()
        if not name:
            raise EvidenceError(shown, 0, "ReportHost@name", "a ReportHost has no name")
        tags = {t.get("name"): (t.text or "").strip() for t in rh.iter("tag")}
        host = tags.get("host-ip") or name
        if tags.get("HOST_START_TIMESTAMP"):
            day = parse_when(tags["HOST_START_TIMESTAMP"], shown, "HOST_START_TIMESTAMP")
        elif tags.get("HOST_START"):
            day = parse_when(tags["HOST_START"], shown, "HOST_START")
        else:
            raise EvidenceError(shown, 0, "HOST_START", f"host {name} has no HOST_START tag: cannot date its scan")
        scan = out.day(day)
        scan.hosts.add(host)
        for item in rh.iter("ReportItem"):
            sev = item.get("severity")
            if sev not in NESSUS_LEVELS:
                raise EvidenceError(shown, 0, "ReportItem@severity",
                                    f"{sev!r} on plugin {item.get('pluginID')} is not 0–4")
            score = _score(item.findtext("cvss3_base_score") or item.findtext("cvss_base_score"), shown,
                           "cvss3_base_score")
            level = NESSUS_LEVELS[sev]
            scan.add(Finding(host, item.get("pluginID", ""), item.get("pluginName", ""),
                             LEVEL_SCORE[level] if score is None else score, level, shown))
    return out.list()


def read_qualys_xml(root: Element, shown: str) -> list[Scan]:
    out = Scans(shown, "qualys")
    if root.tag == "SCAN":  # the scan results XML: HEADER/KEY[@value=DATE], IP/VULNS/CAT/VULN
        date = next((k.text for k in root.iter("KEY") if k.get("value") == "DATE"), None)
        day = parse_when(date or "", shown, "HEADER/KEY[DATE]")
        scan = out.day(day)
        for ip in root.iter("IP"):
            host = ip.get("value", "").strip()
            if not host:
                raise EvidenceError(shown, 0, "IP@value", "an IP element has no value")
            scan.hosts.add(host)
            for v in ip.iter("VULN"):
                level = QUALYS_LEVELS.get(v.get("severity", ""), None)
                if level is None:
                    raise EvidenceError(shown, 0, "VULN@severity", f"{v.get('severity')!r} is not 1–5")
                scan.add(Finding(host, v.get("number", ""), (v.findtext("TITLE") or "").strip(),
                                 LEVEL_SCORE[level], level, shown))
        return out.list()
    # ASSET_DATA_REPORT: severities in the glossary, detections per host with LAST_FOUND
    sev: dict[str, str] = {}
    for d in root.iter("VULN_DETAILS"):
        qid = (d.findtext("QID") or d.get("id", "")).strip().removeprefix("qid_")
        sev[qid] = (d.findtext("SEVERITY") or "").strip()
    generated = root.findtext("HEADER/GENERATION_DATETIME")
    for h in root.iter("HOST"):
        host = (h.findtext("IP") or "").strip()
        if not host:
            raise EvidenceError(shown, 0, "HOST/IP", "a HOST has no IP")
        last = h.findtext("LAST_SCAN_DATETIME") or generated
        hday = parse_when(last or "", shown, "LAST_SCAN_DATETIME")
        out.day(hday).hosts.add(host)
        for vi in h.iter("VULN_INFO"):
            if (vi.findtext("VULN_STATUS") or "").strip().lower() == "fixed":
                continue
            qid = (vi.findtext("QID") or "").strip()
            qid = qid.removeprefix("qid_")
            level = QUALYS_LEVELS.get(sev.get(qid, ""), "info")
            found = vi.findtext("LAST_FOUND")
            day = parse_when(found, shown, "VULN_INFO/LAST_FOUND") if found and found.strip() else hday
            out.day(day).add(Finding(host, qid, "", LEVEL_SCORE[level], level, shown))
    if not out.by_day and generated:
        out.day(parse_when(generated, shown, "GENERATION_DATETIME"))
    return out.list()


def read_nexpose(root: Element, shown: str) -> list[Scan]:
    starts = [s.get("startTime", "") for s in root.iter("scan") if s.get("startTime")]
    if not starts:
        raise EvidenceError(shown, 0, "scans/scan@startTime", "Nexpose report has no scan start time")
    day = min(parse_when(s, shown, "scan@startTime") for s in starts)
    defs: dict[str, tuple[float, str]] = {}
    for v in root.iter("vulnerability"):
        vid = v.get("id", "").lower()
        score = _score(v.get("cvssScore"), shown, "vulnerability@cvssScore")
        nsev = _score(v.get("severity"), shown, "vulnerability@severity")  # Nexpose's own 1–10
        s = score if score is not None else (nsev or 0.0)
        defs[vid] = (s, v.get("title", ""))
    out = Scans(shown, "nexpose")
    scan = out.day(day)
    for node in root.iter("node"):
        host = node.get("address", "").strip()
        if not host:
            continue  # the empty <nodes/> inside a node
        scan.hosts.add(host)
        for t in node.iter("test"):
            if not t.get("status", "").startswith("vulnerable"):
                continue
            vid = t.get("id", "").lower()
            score, title = defs.get(vid, (0.0, ""))
            scan.add(Finding(host, vid, title, score, level_of(score), shown))
    return out.list()


@dataclass
class Port:
    protocol: str
    port: int
    state: str
    service: str


@dataclass
class NmapHost:
    address: str
    status: str
    names: list[str]
    ports: list[Port]


@dataclass
class NmapScan:
    file: str
    date: dt.date
    args: str
    hosts: list[NmapHost]

    def open_ports(self) -> Iterator[tuple[str, Port]]:
        for h in self.hosts:
            for p in h.ports:
                if p.state == "open":
                    yield h.address, p


def read_nmap(path: Path, shown: str) -> NmapScan:
    root = safe_xml(path, shown)
    if root.tag != "nmaprun":
        raise EvidenceError(shown, 1, "(root)", f"<{root.tag}> is not an Nmap XML report (<nmaprun>)")
    day = parse_when(root.get("start", ""), shown, "nmaprun@start")
    hosts = []
    for h in root.iter("host"):
        addr = next((a.get("addr", "") for a in h.findall("address") if a.get("addrtype", "ipv4") != "mac"), "")
        st = h.find("status")
        ports = []
        for p in h.iter("port"):
            state = p.find("state")
            svc = p.find("service")
            try:
                num = int(p.get("portid", ""))
            except ValueError:
                raise EvidenceError(shown, 0, "port@portid", f"{p.get('portid')!r} is not a port number") from None
            ports.append(Port(p.get("protocol", ""), num, state.get("state", "") if state is not None else "",
                              svc.get("name", "") if svc is not None else ""))
        hosts.append(NmapHost(addr, st.get("state", "") if st is not None else "",
                              [n.get("name", "") for n in h.iter("hostname")], ports))
    return NmapScan(shown, day, root.get("args", ""), hosts)


# ---- CSV ------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class CsvLayout:
    """How one vendor's CSV names things: the first column present in each tuple is used."""

    scanner: str
    signature: tuple[str, ...]  # every one of these columns marks the layout
    host: tuple[str, ...]
    vuln_id: tuple[str, ...]
    name: tuple[str, ...]
    level: tuple[str, ...]
    score: tuple[str, ...]
    date: tuple[str, ...]
    state: tuple[str, ...] = ()
    levels: dict | None = None


LAYOUTS = [
    CsvLayout("ccinspect", ("scan_date", "host", "vuln_id", "severity"), ("host",), ("vuln_id",), ("name",),
              ("severity",), ("severity",), ("scan_date",)),
    CsvLayout("greenbone", ("ip", "nvt oid"), ("ip",), ("nvt oid",), ("nvt name",), ("severity",), ("cvss",),
              ("timestamp",)),
    CsvLayout("tenable.io", ("plugin id", "host start"), ("ip address", "host"), ("plugin id",), ("name",),
              ("risk", "severity"), ("cvss3 base score", "cvss base score", "cvss"), ("host start", "last found"),
              ("vulnerability state",), NESSUS_LEVELS),
    CsvLayout("tenable.sc", ("plugin", "ip address", "severity"), ("ip address",), ("plugin",), ("plugin name",),
              ("severity",), ("cvss v3 base score", "cvss v2 base score"), ("last observed",)),
    CsvLayout("nessus", ("plugin id", "host", "risk"), ("host",), ("plugin id",), ("name",), ("risk",),
              ("cvssv3", "cvss"), ()),
    CsvLayout("qualys", ("qid", "severity"), ("ip", "asset ipv4", "asset ipv6", "asset name"), ("qid",), ("title", "vuln title"),
              ("severity",), ("cvss3 base", "cvss3", "cvss_base"), ("last detected", "last scan"),
              ("vuln status", "status"), QUALYS_LEVELS),
]


def _norm(name: str) -> str:
    return " ".join(name.strip().lower().split())


def sniff_layout(header: list[str]) -> CsvLayout | None:
    cols = {_norm(c) for c in header}
    for lay in LAYOUTS:
        if all(s in cols for s in lay.signature):
            return lay
    return None


def read_scan_csv(path: Path, shown: str, entered: dt.date | None = None) -> list[Scan]:
    """A vendor CSV, found by its header (Qualys puts a preamble above it). Rows are streamed."""
    lines, _ = open_text(path)
    with lines:
        reader = csv.reader(lines)
        layout, header, hline = None, [], 0
        try:
            for rec in reader:
                if len(rec) > 2 and (layout := sniff_layout(rec)):
                    header, hline = rec, lines.line
                    break
                if lines.line > 20:
                    break
        except csv.Error as exc:
            raise EvidenceError(shown, lines.line, "(header)", str(exc)) from None
        if layout is None:
            raise EvidenceError(shown, 1, "(header)",
                                "not a scanner export this tool reads (Greenbone, Nessus, Tenable.sc, "
                                "Tenable.io, Qualys CSV, or scan_date,host,vuln_id,severity)")
        idx = {}
        for i, c in enumerate(header):
            idx.setdefault(_norm(c), i)

        def pick(names: tuple[str, ...]) -> int | None:
            return next((idx[n] for n in names if n in idx), None)

        hosts = [idx[n] for n in layout.host if n in idx]  # the first non-empty one per row (IPv6-only assets)
        ih, iv, iname, ilevel = pick(layout.host), pick(layout.vuln_id), pick(layout.name), pick(layout.level)
        iscore, idate, istate = pick(layout.score), pick(layout.date), pick(layout.state)
        if ih is None or iv is None:
            raise EvidenceError(shown, hline, layout.host[0] if ih is None else layout.vuln_id[0],
                                f"missing column in this {layout.scanner} export")
        if idate is None and entered is None:
            raise EvidenceError(shown, 0, "(scan date)",
                                f"this {layout.scanner} export carries no scan date; enter the date it "
                                "represents (evidence_dates.csv, or a date in the file name)")
        out = Scans(shown, layout.scanner)
        try:
            for rec in reader:
                line = lines.line
                if not any(c.strip() for c in rec):
                    continue
                if len(rec) < len(header) and len(rec) <= max(ih, iv):
                    raise EvidenceError(shown, line, "(row)", f"has {len(rec)} values, the header has {len(header)}")
                get = lambda i, rec=rec: rec[i].strip() if i is not None and i < len(rec) else ""  # noqa: E731
                host = next((get(i) for i in hosts if get(i)), "")
                if not host:
                    raise EvidenceError(shown, line, header[ih], "is empty; expected the host's address")
                day = parse_when(get(idate), shown, header[idate], line) if idate is not None else entered
                state = get(istate).lower()
                scan = out.day(day)
                scan.hosts.add(host)
                vid = get(iv)
                if not vid or state == "fixed":
                    continue  # a host scanned clean, or a detection the scanner itself saw fixed
                raw = get(ilevel).lower()
                score = None
                if layout.scanner == "ccinspect" and raw not in WORDS:
                    try:
                        score = _score(raw, shown, "severity")
                    except EvidenceError as exc:
                        raise EvidenceError(shown, line, exc.field, exc.message) from None
                    if score is None:
                        raise EvidenceError(shown, line, "severity", "is empty")
                    level = level_of(score)
                else:
                    if layout.levels and raw in layout.levels:
                        level = layout.levels[raw]
                    elif raw in WORDS:
                        level = level_of(WORDS[raw]) if raw not in _RANK else raw
                    else:
                        raise EvidenceError(shown, line, header[ilevel] if ilevel is not None else "severity",
                                            f"{raw!r} is not a severity this {layout.scanner} export uses")
                    try:
                        score = None if layout.scanner == "ccinspect" else \
                            _score(get(iscore), shown, header[iscore] if iscore is not None else "cvss")
                    except EvidenceError as exc:
                        raise EvidenceError(shown, line, exc.field, exc.message) from None
                    if score is None:
                        score = LEVEL_SCORE[level]
                scan.add(Finding(host, vid, get(iname), score, level, shown, line))
        except csv.Error as exc:
            raise EvidenceError(shown, lines.line, "(row)", str(exc)) from None
    return out.list()


def read_scan_report(path: Path, shown: str, entered: dt.date | None = None) -> list[Scan]:
    ext = path.suffix.lower()
    if ext == ".csv":
        return read_scan_csv(path, shown, entered)
    if ext in (".xml", ".nessus"):
        root = safe_xml(path, shown)
        if root.tag == "NessusClientData_v2":
            return read_nessus(root, shown)
        if root.tag in ("report", "get_reports_response"):
            return read_greenbone_xml(root, shown)
        if root.tag in ("ASSET_DATA_REPORT", "SCAN"):
            return read_qualys_xml(root, shown)
        if root.tag in ("NexposeReport", "NeXposeSimpleXML"):
            return read_nexpose(root, shown)
        if root.tag == "nmaprun":
            raise EvidenceError(shown, 1, "(root)", "an Nmap port scan is no vulnerability scan; put it under "
                                                    "exposure evidence")
        raise EvidenceError(shown, 1, "(root)", f"<{root.tag}> is not a scanner report this tool reads "
                                                "(Greenbone, Nessus v2, Qualys, Nexpose)")
    raise EvidenceError(shown, 0, "(format)", f"unknown report type {ext!r}; use .xml, .nessus or .csv")
