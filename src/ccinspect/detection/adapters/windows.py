"""Windows Security log: events 4624 (logon) and 4625 (failed logon).

Three shapes: EVTX files (parsed with python-evtx), Event Viewer's "Save as XML" export, and CSV
exports (Event Viewer's "Save as CSV" or PowerShell's Get-WinEvent | Export-Csv) whose message
text carries the fields. Logons without a network address (local, service) are not remote
login attempts and are skipped.
"""

from __future__ import annotations

import csv
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser

from . import InputError, Problems, check_ip, open_text, validate_row

NS = "{http://schemas.microsoft.com/win/2004/08/events/event}"
LOGON_IDS = {"4624": "success", "4625": "failure"}
# SubStatus codes of 4625 (Microsoft's documentation of the event).
SUBSTATUS = {
    "0xc0000064": "unknown_user",
    "0xc000006a": "bad_password",
    "0xc0000234": "locked_out",
    "0xc0000072": "disabled",
    "0xc000006f": "outside_hours",
    "0xc0000070": "workstation_restriction",
    "0xc0000071": "password_expired",
    "0xc0000193": "account_expired",
    "0xc0000133": "clock_skew",
    "0xc0000224": "must_change_password",
}
LOGON_TYPES = {"2": "interactive", "3": "network", "7": "unlock", "8": "network_cleartext", "10": "rdp", "11": "cached"}
_NO_ADDRESS = {"", "-", "::1", "127.0.0.1"}


def _event(event_id: str, ts: str, data: dict[str, str], file: Path, where, problems: Problems) -> dict | None:
    ip_raw = (data.get("IpAddress") or "").strip()
    if ip_raw in _NO_ADDRESS:
        return None
    ip = check_ip(ip_raw.removeprefix("::ffff:"))
    if ip is None:
        problems.add(file, where, "IpAddress", f"not an IP address: {ip_raw[:60]!r}")
        return False  # type: ignore[return-value]
    status = (data.get("SubStatus") or data.get("Status") or "").lower()
    ok = LOGON_IDS[event_id] == "success"
    row = {
        "ts": ts,
        "account": (data.get("TargetUserName") or "").strip(),
        "ip": ip,
        "result": LOGON_IDS[event_id],
        "reason": None if ok else SUBSTATUS.get(status, status or None),
        "channel": LOGON_TYPES.get((data.get("LogonType") or "").strip(), "windows"),
        "device_id": (data.get("WorkstationName") or "").strip() or None,
    }
    return validate_row(row, problems, file, where) or False  # type: ignore[return-value]


def _from_element(ev: ET.Element, file: Path, where, problems: Problems) -> dict | None | bool:
    sys_ = ev.find(f"{NS}System")
    if sys_ is None:
        problems.add(file, where, "System", "event without a System element")
        return False
    eid = (sys_.findtext(f"{NS}EventID") or "").strip()
    if eid not in LOGON_IDS:
        return None
    tc = sys_.find(f"{NS}TimeCreated")
    ts = tc.get("SystemTime") if tc is not None else None
    if not ts:
        problems.add(file, where, "TimeCreated", "missing SystemTime")
        return False
    data = {d.get("Name"): (d.text or "") for d in ev.iter(f"{NS}Data")}
    return _event(eid, ts, data, file, where, problems)


def xml_rows(path: Path, problems: Problems) -> Iterator[dict | None]:
    """Event Viewer XML export, streamed; an event's line is where it closes."""
    # defusedxml's parser: an export from Event Viewer has no DTD, and entities must not expand.
    parser = ET.XMLPullParser(events=("end",), _parser=DefusedXMLParser(target=ET.TreeBuilder(), forbid_dtd=True))
    with open_text(path) as f:
        n = 0
        try:
            for n, line in enumerate(f, 1):
                parser.feed(line)
                for _, el in parser.read_events():
                    if el.tag == f"{NS}Event":
                        r = _from_element(el, path, n, problems)
                        if r is not False:
                            yield r
                        el.clear()
            parser.close()
        except ET.ParseError as exc:
            problems.add(path, n, "xml", f"not well-formed XML, rest of file skipped: {exc}")
        except DefusedXmlException as exc:
            problems.add(path, n, "xml", f"refused a DTD or entity declaration, file skipped: {exc}")


def evtx_rows(path: Path, problems: Problems) -> Iterator[dict | None]:
    """EVTX through python-evtx; a record that fails to parse is reported by its record number."""
    from Evtx.Evtx import Evtx

    try:
        log = Evtx(str(path))
        log.__enter__()
    except Exception as exc:  # noqa: BLE001 - any parser failure is a bad input file
        problems.add(path, 0, "evtx", f"not a readable EVTX file: {exc}")
        return
    try:
        for n_chunk, chunk in enumerate(log.get_file_header().chunks()):
            if not chunk.check_magic():
                continue
            if not chunk.verify():
                problems.add(path, f"chunk {n_chunk}", "evtx", "chunk checksum mismatch (damaged or tampered)")
            expected = chunk.log_last_record_number() - chunk.log_first_record_number() + 1
            seen = 0
            for rec in chunk.records():
                seen += 1
                where = f"record {rec.record_num()}"
                try:
                    el = ET.fromstring(rec.xml())
                except Exception as exc:  # noqa: BLE001
                    problems.add(path, where, "xml", f"unparseable record: {exc}")
                    continue
                r = _from_element(el, path, where, problems)
                if r is not False:
                    yield r
            # python-evtx stops at the first damaged record of a chunk: count what was lost.
            if 0 < expected and seen < expected:
                problems.add(path, f"chunk {n_chunk}", "evtx", f"{expected - seen} of {expected} records unreadable",
                             expected - seen)
    except Exception as exc:  # noqa: BLE001 - a damaged chunk ends the file, not the run
        problems.add(path, "-", "evtx", f"damaged EVTX, rest of file skipped: {exc}")
    finally:
        log.__exit__(None, None, None)


_SECTION = re.compile(
    r"(?:New Logon|Account For Which Logon Failed):\s*\n\s*Security ID:[^\n]*\n\s*Account Name:[ \t]*(?P<user>[^\r\n]*)"
)
_FIELD = {
    "IpAddress": re.compile(r"Source Network Address:[ \t]*(?P<v>[^\s]*)"),
    "SubStatus": re.compile(r"Sub Status:[ \t]*(?P<v>0x[0-9A-Fa-f]+)"),
    "Status": re.compile(r"\bStatus:[ \t]*(?P<v>0x[0-9A-Fa-f]+)"),
    "LogonType": re.compile(r"Logon Type:[ \t]*(?P<v>\d+)"),
    "WorkstationName": re.compile(r"Workstation Name:[ \t]*(?P<v>[^\s]*)"),
}
_DATE_FORMATS = ("%m/%d/%Y %I:%M:%S %p", "%m/%d/%Y %H:%M:%S", "%Y/%m/%d %H:%M:%S", "%Y-%m-%d %H:%M:%S", "%d.%m.%Y %H:%M:%S")


def _win_time(text: str) -> str | None:
    t = text.strip()
    try:
        return datetime.fromisoformat(t.replace("Z", "+00:00")).isoformat()
    except ValueError:
        pass
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(t, fmt).isoformat()  # local time: Asia/Taipei
        except ValueError:
            continue
    return None


def csv_rows(path: Path, problems: Problems) -> Iterator[dict | None]:
    """Event Viewer "Save as CSV" (message in the last, unnamed column) or PowerShell Export-Csv."""
    with open_text(path) as f:
        first = f.readline()
        if first.startswith("#TYPE"):  # PowerShell's type line
            first = f.readline()
        header = next(csv.reader([first]), [])
        low = [h.strip().lower() for h in header]
        if "event id" not in low and "id" not in low:
            raise InputError(f"{path}: line 1: no 'Event ID' or 'Id' column")
        id_col = low.index("event id") if "event id" in low else low.index("id")
        time_col = next((low.index(c) for c in ("date and time", "timecreated", "time created") if c in low), None)
        msg_col = low.index("message") if "message" in low else len(header) - 1
        if time_col is None:
            raise InputError(f"{path}: line 1: no 'Date and Time' or 'TimeCreated' column")
        reader = csv.reader(f)
        start = 2
        for rec in reader:
            line, start = start, reader.line_num + 2  # +1 header line, +1 next record
            if not rec or not any(rec):
                continue
            if len(rec) <= max(id_col, time_col, msg_col):
                problems.add(path, line, "columns", f"expected {len(header)} columns, found {len(rec)}")
                continue
            eid = rec[id_col].strip()
            if eid not in LOGON_IDS:
                yield None
                continue
            ts = _win_time(rec[time_col])
            if ts is None:
                problems.add(path, line, "Date and Time", f"unrecognised time {rec[time_col][:40]!r}")
                continue
            msg = rec[msg_col].replace("\r\n", "\n")
            sec = _SECTION.search(msg)
            if not sec:
                problems.add(path, line, "Message", "no 'New Logon' / 'Account For Which Logon Failed' account")
                continue
            data = {"TargetUserName": sec["user"].strip()}
            for k, rx in _FIELD.items():
                m = rx.search(msg)
                if m:
                    data[k] = m["v"]
            r = _event(eid, ts, data, path, line, problems)
            if r is not False:
                yield r
