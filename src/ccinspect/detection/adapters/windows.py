"""Windows logons: EVTX and every export Windows' own tools write, as login events.

Two layers:

- `read_events(path)` reads any Windows log file into `WinEvent`s (event id, time, record, provider,
  channel, computer, EventData by name), with `Skipped`, `Bad` and `Damage` items for what was not
  read; the formats are EVTX (the Rust-based `evtx` parser, evtxfile.py), XML (`wevtutil qe /f:xml`
  fragments without a root element, Event Viewer's "Save as XML") and CSV (Event Viewer's "Save as
  CSV", message in the sixth, unnamed column; `Get-WinEvent | Export-Csv` from PowerShell 5.1 with
  its `#TYPE` line and from PowerShell 7), in any encoding `core.textfile` detects, CRLF or LF.
- `login(event)` says what an event means for login monitoring: a success or failure (4624/4625,
  Kerberos 4768/4771, NTLM 4776, OpenSSH for Windows), context (4648), or not a login event.

Fields come from EventData by name. Message-text exports (CSV) only carry the rendered message:
fields are taken from their own section of it, and a message whose layout a field value has
forged (a line break in an account name followed by `Source Network Address: …`) is refused,
never attributed.
"""

from __future__ import annotations

import csv
import json
import re
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from ccinspect.core.errors import InputError as CoreInputError
from ccinspect.core.textfile import TextLines, detect_encoding
from ccinspect.core.textfile import open_text as open_lines

from . import READERS, FileAccount, ReadContext, Reader, evtxfile, register, validate_row
from .accounting import escape_account
from .clock import Clock

NS = "{http://schemas.microsoft.com/win/2004/08/events/event}"
FORMATS = ("evtx", "winxml", "wincsv")

# --- what the events mean -------------------------------------------------------------------------

# NTSTATUS codes of 4625 (Status / SubStatus) and 4776 (Error Code), from Microsoft's documentation.
NTSTATUS = {
    "0xc0000064": "unknown_user",            # no such user: an attempt on a non-existent account
    "0xc000006a": "bad_password",
    "0xc000006d": "bad_credentials",         # generic "unknown user name or bad password"
    "0xc000006e": "account_restriction",
    "0xc000006f": "outside_hours",
    "0xc0000070": "workstation_restriction",
    "0xc0000071": "password_expired",
    "0xc0000072": "disabled",
    "0xc00000dc": "server_state",
    "0xc0000133": "clock_skew",
    "0xc000015b": "logon_type_not_granted",
    "0xc000018c": "trust_failure",
    "0xc0000192": "netlogon_not_started",
    "0xc0000193": "account_expired",
    "0xc0000224": "must_change_password",
    "0xc0000225": "windows_error",
    "0xc0000234": "locked_out",
    "0xc00002ee": "failure_after_logon",
    "0xc0000371": "local_account_store",
    "0xc0000413": "authentication_firewall",
    "0xc000005e": "no_logon_servers",
}
# Kerberos result codes of 4768 and 4771 (RFC 4120 error codes as Windows logs them).
KERBEROS = {
    "0x6": "unknown_user",        # KDC_ERR_C_PRINCIPAL_UNKNOWN
    "0x7": "unknown_service",     # KDC_ERR_S_PRINCIPAL_UNKNOWN
    "0xc": "policy",              # KDC_ERR_POLICY (logon hours, workstation)
    "0xe": "etype_unsupported",   # KDC_ERR_ETYPE_NOSUPP
    "0x12": "revoked",            # KDC_ERR_CLIENT_REVOKED: disabled, expired or locked out
    "0x17": "password_expired",   # KDC_ERR_KEY_EXPIRED
    "0x18": "bad_password",       # KDC_ERR_PREAUTH_FAILED
    "0x1f": "integrity",          # KRB_AP_ERR_BAD_INTEGRITY
    "0x20": "ticket_expired",     # KRB_AP_ERR_TKT_EXPIRED
    "0x25": "clock_skew",         # KRB_AP_ERR_SKEW
    "0x3e": "pkinit_client",      # KDC_ERR_CLIENT_NOT_TRUSTED
}
# Logon types (4624/4625 LogonType) and which ones come over the network.
LOGON_TYPES = {
    "2": "interactive", "3": "network", "4": "batch", "5": "service", "7": "unlock",
    "8": "network_cleartext", "9": "new_credentials", "10": "remote_interactive",
    "11": "cached_interactive", "12": "cached_remote_interactive", "13": "cached_unlock",
}
REMOTE_LOGON_TYPES = frozenset({"3", "8", "10", "12"})
SECURITY_EVENTS = frozenset({4624, 4625, 4648, 4768, 4771, 4776})
# OpenSSH for Windows (its manifest, contrib/win32/openssh/Openssh-events.man): provider "OpenSSH", one
# event id per level (1 critical, 2 error, 3 warning, 4 information, 6 debug), fields `process` and
# `payload` (the sshd message), rendered "%1: %2".
OPENSSH_EVENTS = frozenset({1, 2, 3, 4, 6})
WANTED = SECURITY_EVENTS | OPENSSH_EVENTS
_NO_ADDRESS = {"", "-"}
MAX_CONTEXT = 10_000  # 4648 events kept per file to explain alerts (all are counted)


@dataclass(slots=True)
class WinEvent:
    event_id: int
    time: str                     # ISO 8601: UTC from the log itself, or local time from a text export
    where: str                    # "record:<EventRecordID>" (EVTX) or the 1-based line where it starts
    provider: str = ""
    channel: str = ""
    computer: str = ""
    data: dict[str, str] = field(default_factory=dict)   # EventData by Name
    record_id: str = ""
    flags: list[str] = field(default_factory=list)        # "escaped": the export held characters XML forbids


@dataclass(slots=True)
class Skipped:
    """A record read and set aside without parsing (its event id is not wanted)."""

    where: str
    event_id: int


@dataclass(slots=True)
class Bad:
    """A record that could not be read: where, which field, why."""

    where: str
    field: str
    reason: str


@dataclass(slots=True)
class Damage:
    """Part of the file lost: undecodable bytes, truncation, damaged EVTX chunks."""

    where: str
    reason: str
    n: int = 1


# --- control characters ---------------------------------------------------------------------------


def escape(text: str) -> tuple[str, bool]:
    """Control and direction characters as \\xNN / \\uNNNN (the accounting's rule); and whether any was found."""
    out, flags = escape_account(text)
    return out, "escaped" in flags


# --- login meaning --------------------------------------------------------------------------------


@dataclass(slots=True)
class Login:
    """A login attempt: the canonical row's fields, plus what the canonical row has no room for."""

    row: dict                     # ts, account, ip, result, reason, channel, device_id
    event_id: int
    logon_type: str = ""          # 4624/4625 LogonType ("3", "10", …); "" for Kerberos/NTLM/SSH
    remote: bool = True           # over the network (logon types 3, 8, 10, 12; Kerberos; NTLM; SSH)
    flags: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Context:
    """4648 (a logon with explicit credentials): context for an alert, not a success or failure."""

    row: dict                     # ts, account (credentials used), subject, target_server, ip, process
    event_id: int = 4648
    flags: list[str] = field(default_factory=list)


@dataclass(slots=True)
class NotLogin:
    kind: str                     # e.g. "event_4672", "no_address", "openssh_other"


def _ip(raw: str) -> str:
    v = raw.strip()
    return v.removeprefix("::ffff:") if v.startswith("::ffff:") and "." in v else v


def _name(*parts: str) -> tuple[str, list[str]]:
    """An account name, control characters escaped and flagged."""
    text = next((p.strip(" ") for p in parts if p and p.strip(" ") and p.strip(" ") != "-"), "")
    out, hit = escape(text)
    return out, (["escaped"] if hit else [])


def _code(code: str) -> str:
    """A status code in one spelling: lower case, no leading zeros ("0xC000006A" -> "0xc000006a", "0x00" -> "0x0")."""
    c = code.strip().lower()
    if c.startswith("0x"):
        c = "0x" + (c[2:].lstrip("0") or "0")
    return c


def _reason(code: str, table: dict[str, str], prefix: str) -> str | None:
    """The named reason of a failure code, or `<prefix>_<code>` for a code without a name."""
    c = _code(code)
    if not c or c in ("-", "0x0"):
        return None
    return table.get(c) or f"{prefix}_{c}"


def login(ev: WinEvent) -> Login | Context | NotLogin | Bad:
    """What one Windows event means for login monitoring."""
    m = _meaning(ev)
    if ev.flags and isinstance(m, (Login, Context)):
        m.flags = sorted(set(m.flags) | set(ev.flags))
    return m


def _meaning(ev: WinEvent) -> Login | Context | NotLogin | Bad:
    d, eid = ev.data, ev.event_id
    if eid in OPENSSH_EVENTS and (ev.provider.lower() == "openssh" or ev.channel.lower().startswith("openssh")):
        return _openssh(ev)
    if eid not in SECURITY_EVENTS:
        return NotLogin(f"event_{eid}")
    if eid == 4648:
        acct, flags = _name(d.get("TargetUserName", ""))
        subj, f2 = _name(d.get("SubjectUserName", ""))
        return Context({"ts": ev.time, "account": acct, "subject": subj,
                        "target_server": escape(d.get("TargetServerName", ""))[0],
                        "ip": "" if _ip(d.get("IpAddress", "")) in _NO_ADDRESS else _ip(d.get("IpAddress", "")),
                        "process": escape(d.get("ProcessName", ""))[0]},
                       flags=sorted(set(flags + f2)))
    acct, flags = _name(d.get("TargetUserName", ""))
    if eid in (4624, 4625):
        ltype = (d.get("LogonType") or "").strip()
        ip = _ip(d.get("IpAddress", ""))
        if ip in _NO_ADDRESS:
            return NotLogin(f"event_{eid}_no_address")  # local and service logons carry no source
        ok = eid == 4624
        sub = _code(d.get("SubStatus") or "")
        code = sub if sub not in ("", "-", "0x0") else (d.get("Status") or "")
        return Login({"ts": ev.time, "account": acct, "ip": ip, "result": "success" if ok else "failure",
                      "reason": None if ok else _reason(code, NTSTATUS, "ntstatus"),
                      "channel": LOGON_TYPES.get(ltype, f"logon_type_{ltype}" if ltype else "windows"),
                      "device_id": escape(d.get("WorkstationName", "").strip(" -"))[0] or None},
                     eid, ltype, ltype in REMOTE_LOGON_TYPES, flags)
    if eid in (4768, 4771):
        ip = _ip(d.get("IpAddress", ""))
        if ip in _NO_ADDRESS:
            return NotLogin(f"event_{eid}_no_address")
        code = (d.get("Status") or "").strip()
        ok = eid == 4768 and _code(code) in ("0x0", "")
        return Login({"ts": ev.time, "account": acct, "ip": ip, "result": "success" if ok else "failure",
                      "reason": None if ok else _reason(code, KERBEROS, "kerberos"),
                      "channel": "kerberos", "device_id": None}, eid, "", True, flags)
    # 4776: NTLM credential validation. It names the client workstation, never its address.
    code = (d.get("Status") or "").strip()
    ok = _code(code) in ("0x0", "")
    ws = escape(d.get("Workstation", "").strip())[0]
    return Login({"ts": ev.time, "account": acct, "ip": "", "result": "success" if ok else "failure",
                  "reason": None if ok else _reason(code, NTSTATUS, "ntstatus"),
                  "channel": "ntlm", "device_id": ws or None}, eid, "", True, flags)


def _openssh(ev: WinEvent) -> Login | NotLogin | Bad:
    from .sshd import _ACCEPTED, _FAILED  # noqa: PLC0415 - the same sshd messages as in auth.log

    payload = ev.data.get("payload", "")
    if "\n" in payload or "\r" in payload:
        return Bad(ev.where, "payload", "an OpenSSH message spanning lines (a user name with a line break?): not attributed")
    hit = _FAILED.match(payload)
    ok = False
    if not hit:
        hit = _ACCEPTED.match(payload)
        ok = hit is not None
    if not hit:
        return NotLogin("openssh_other")
    acct, flags = _name(hit["user"])
    reason = None if ok else ("unknown_user" if hit.groupdict().get("invalid") else f"bad_{hit['method']}")
    return Login({"ts": ev.time, "account": acct, "ip": _ip(hit["ip"]), "result": "success" if ok else "failure",
                  "reason": reason, "channel": "ssh", "device_id": None}, ev.event_id, "", True, flags)


# --- EVTX -----------------------------------------------------------------------------------------


def _text(v) -> str:
    if v is None:
        return ""
    if isinstance(v, dict):
        return _text(v.get("#text"))
    if isinstance(v, list):
        return ",".join(_text(x) for x in v)
    return str(v)


def _from_json(data: str, eid: int, rid: int) -> WinEvent | Bad:
    where = f"record:{rid}"
    try:
        ev = json.loads(data)["Event"]
        sys_ = ev["System"]
    except (ValueError, KeyError, TypeError) as exc:
        return Bad(where, "System", f"record without a System element ({exc})")
    tc = sys_.get("TimeCreated") or {}
    ts = (tc.get("#attributes") or {}).get("SystemTime") if isinstance(tc, dict) else None
    if not ts:
        return Bad(where, "TimeCreated", "no SystemTime")
    prov = sys_.get("Provider") or {}
    raw = ev.get("EventData") or ev.get("UserData") or {}
    data: dict[str, str] = {}
    if isinstance(raw, dict):
        if "Data" in raw and len(raw) <= 2:  # unnamed <Data> values: kept by position
            items = raw["Data"] if isinstance(raw["Data"], list) else [raw["Data"]]
            for i, v in enumerate(items):
                data[f"#{i}"] = _text(v)
        else:
            for k, v in raw.items():
                tv = type(v)
                if tv is str:  # most values: one pass, no call
                    data[k] = v
                elif k == "#attributes":
                    continue
                elif tv is dict and "#text" not in v:  # UserData: one wrapper element
                    data.update({kk: _text(vv) for kk, vv in v.items() if kk != "#attributes"})
                else:
                    data[k] = _text(v)
    return WinEvent(eid, ts, where, provider=(prov.get("#attributes") or {}).get("Name", "") if isinstance(prov, dict) else "",
                    channel=_text(sys_.get("Channel")), computer=_text(sys_.get("Computer")), data=data,
                    record_id=str(rid))


def _structure(path: Path) -> evtxfile.Structure:
    """The file's EVTX structure; a file with neither an EVTX header nor a single chunk is no EVTX at all
    (`--input-format evtx` on another file) and is refused, not read as a damaged one."""
    st = evtxfile.structure(path)
    if st.bad_header and not st.chunks:
        raise CoreInputError("not an EVTX file: no 'ElfFile' header and no 'ElfChnk' chunk", file=str(path),
                             expected="a Windows event log file (.evtx)")
    return st


def evtx_events(path: Path, wanted: frozenset[int] | None = None) -> Iterator[WinEvent | Skipped | Bad | Damage]:
    """EVTX records; after the last, a `Damage` for each kind of loss the file's structure shows."""
    read = evtxfile.EvtxRead(_structure(path))
    for eid, rid, data in evtxfile.records(path, read, wanted):
        if data is None:
            yield Skipped(f"record:{rid}", eid)
        else:
            yield _from_json(data, eid, rid)
    for reason, n in read.damage():
        yield Damage("-", reason, n)


# --- XML ------------------------------------------------------------------------------------------

_DECL = re.compile(r"^\s*<\?xml[^>]*\?>")
# Characters XML 1.0 forbids, which Windows' renderers still write (a control character in a value):
# written out as \xNN so one value does not end the file's reading, and the event is flagged.
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _lines(lines: TextLines) -> Iterator[str | Damage]:
    """Decoded lines; a line that cannot be decoded becomes a Damage and reading goes on."""
    while True:
        try:
            yield next(lines)
        except StopIteration:
            return
        except CoreInputError as exc:
            lines.skip_bad_line()
            yield Damage(str(lines.line), exc.message)


def _element_event(el: ET.Element, where: str) -> WinEvent | Bad:
    sys_ = el.find(f"{NS}System")
    ns = NS
    if sys_ is None:
        sys_, ns = el.find("System"), ""
    if sys_ is None:
        return Bad(where, "System", "event without a System element")
    eid_text = (sys_.findtext(f"{ns}EventID") or "").strip()
    if not eid_text.isdigit():
        return Bad(where, "EventID", f"not an event id: {eid_text[:20]!r}")
    tc = sys_.find(f"{ns}TimeCreated")
    ts = tc.get("SystemTime") if tc is not None else None
    if not ts:
        return Bad(where, "TimeCreated", "no SystemTime")
    prov = sys_.find(f"{ns}Provider")
    data: dict[str, str] = {}
    ed = el.find(f"{ns}EventData")
    if ed is not None:
        for i, d in enumerate(ed.findall(f"{ns}Data")):
            data[d.get("Name") or f"#{i}"] = d.text or ""
    else:
        ud = el.find(f"{ns}UserData")
        if ud is not None:
            for wrapper in ud:
                data.update({c.tag.rsplit("}", 1)[-1]: (c.text or "") for c in wrapper})
    rid = (sys_.findtext(f"{ns}EventRecordID") or "").strip()
    return WinEvent(int(eid_text), ts, where, provider=prov.get("Name", "") if prov is not None else "",
                    channel=(sys_.findtext(f"{ns}Channel") or "").strip(),
                    computer=(sys_.findtext(f"{ns}Computer") or "").strip(), data=data, record_id=rid)


def xml_events(path: Path) -> Iterator[WinEvent | Bad | Damage]:
    """`wevtutil qe /f:xml` (events with no root element) and Event Viewer's "Save as XML".

    The events are parsed inside a root of our own, so fragments and whole documents read alike;
    an event's place is the line its <Event> tag starts on (`line#k` for the k-th on that line)."""
    from defusedxml import DefusedXmlException  # noqa: PLC0415
    from defusedxml.ElementTree import DefusedXMLParser  # noqa: PLC0415

    lines, _enc = open_lines(path)
    # defusedxml: an export has no DTD, and entities must not expand.
    parser = ET.XMLPullParser(events=("start", "end"),
                              _parser=DefusedXMLParser(target=ET.TreeBuilder(), forbid_dtd=True))
    parser.feed("<ccinspect-root>")
    stack: list[ET.Element] = []
    starts: list[str] = []
    n, on_line = 0, 0
    dirty: set[int] = set()
    with lines:
        try:
            for item in _lines(lines):
                if isinstance(item, Damage):
                    yield item
                    continue
                if lines.line == 1:
                    item = _DECL.sub("", item.lstrip("\ufeff"), count=1)
                if lines.line != n:
                    n, on_line = lines.line, 0
                if "<!DOCTYPE" in item or "<!ENTITY" in item:
                    # no export has a DTD; entities would put text of the file's choosing into names
                    yield Bad(str(n), "xml", "refused a DTD or entity declaration, file not read")
                    yield Damage(str(n), "XML with a DTD: file not read")
                    return
                if _XML_INVALID.search(item):
                    item = _XML_INVALID.sub(lambda m: f"\\x{ord(m.group()):02x}", item)
                    dirty.add(n)
                parser.feed(item)
                for kind, el in parser.read_events():
                    tag = el.tag.rsplit("}", 1)[-1]
                    if kind == "start":
                        stack.append(el)
                        if tag == "Event":
                            on_line += 1
                            starts.append(str(n) if on_line == 1 else f"{n}#{on_line}")
                        continue
                    stack.pop()
                    if tag == "Event" and starts:
                        where = starts.pop()
                        ev = _element_event(el, where)
                        first = int(where.split("#")[0])
                        if isinstance(ev, WinEvent) and any(first <= x <= n for x in dirty):
                            ev.flags.append("escaped")
                        yield ev
                        if stack:
                            stack[-1].clear()  # keep memory flat over millions of events
            parser.feed("</ccinspect-root>")
            parser.close()
        except ET.ParseError as exc:
            yield Bad(str(n), "xml", f"not well-formed XML, rest of file not read: {exc}")
            yield Damage(str(n), "XML broken: rest of file not read")
        except DefusedXmlException as exc:
            yield Bad(str(n), "xml", f"refused a DTD or entity declaration, file not read: {exc}")


# --- CSV and message text -------------------------------------------------------------------------

# Where each EventData field sits in the rendered message: {event: {field: [(section, label), …]}}.
# Section "" is the top level (labels not indented).
MESSAGE_FIELDS: dict[int, dict[str, list[tuple[str, str]]]] = {
    4624: {"TargetUserName": [("New Logon", "Account Name")], "TargetDomainName": [("New Logon", "Account Domain")],
           "LogonType": [("Logon Information", "Logon Type"), ("", "Logon Type")],
           "IpAddress": [("Network Information", "Source Network Address")],
           "IpPort": [("Network Information", "Source Port")],
           "WorkstationName": [("Network Information", "Workstation Name")]},
    4625: {"TargetUserName": [("Account For Which Logon Failed", "Account Name")],
           "TargetDomainName": [("Account For Which Logon Failed", "Account Domain")],
           "LogonType": [("", "Logon Type")],
           "Status": [("Failure Information", "Status")], "SubStatus": [("Failure Information", "Sub Status")],
           "IpAddress": [("Network Information", "Source Network Address")],
           "IpPort": [("Network Information", "Source Port")],
           "WorkstationName": [("Network Information", "Workstation Name")]},
    4768: {"TargetUserName": [("Account Information", "Account Name")],
           "TargetDomainName": [("Account Information", "Supplied Realm Name")],
           "IpAddress": [("Network Information", "Client Address")],
           "Status": [("Additional Information", "Result Code")]},
    4771: {"TargetUserName": [("Account Information", "Account Name")],
           "IpAddress": [("Network Information", "Client Address")],
           "Status": [("Additional Information", "Failure Code")]},
    4776: {"TargetUserName": [("", "Logon Account")], "Workstation": [("", "Source Workstation")],
           "Status": [("", "Error Code")]},
    4648: {"SubjectUserName": [("Subject", "Account Name")],
           "TargetUserName": [("Account Whose Credentials Were Used", "Account Name")],
           "TargetServerName": [("Target Server", "Target Server Name")],
           "IpAddress": [("Network Information", "Network Address")],
           "ProcessName": [("Process Information", "Process Name")]},
}
# Every label a section may hold (all Windows versions we know of). A section we read from that
# holds anything else, twice the same label, or a line that is no label at all, has had its layout
# forged by a field value with a line break: the message is refused.
_KNOWN = {
    "Subject": {"Security ID", "Account Name", "Account Domain", "Logon ID", "Logon GUID"},
    "Logon Information": {"Logon Type", "Restricted Admin Mode", "Remote Credential Guard", "Virtual Account",
                          "Elevated Token"},
    "New Logon": {"Security ID", "Account Name", "Account Domain", "Logon ID", "Linked Logon ID",
                  "Network Account Name", "Network Account Domain", "Logon GUID"},
    "Account For Which Logon Failed": {"Security ID", "Account Name", "Account Domain"},
    "Failure Information": {"Failure Reason", "Status", "Sub Status"},
    "Process Information": {"Process ID", "Process Name", "Caller Process ID", "Caller Process Name"},
    "Detailed Authentication Information": {"Logon Process", "Authentication Package", "Transited Services",
                                            "Package Name (NTLM only)", "Key Length"},
    "Account Information": {"Account Name", "Supplied Realm Name", "User ID", "Security ID",
                            "MSDS-SupportedEncryptionTypes", "Available Keys"},
    "Service Information": {"Service Name", "Service ID", "MSDS-SupportedEncryptionTypes", "Available Keys"},
    "Domain Controller Information": {"MSDS-SupportedEncryptionTypes", "Available Keys"},
    "Additional Information": {"Ticket Options", "Result Code", "Failure Code", "Ticket Encryption Type",
                               "Session Encryption Type", "Pre-Authentication Type",
                               "Pre-Authentication EncryptionType", "Advertized Etypes"},
    "Certificate Information": {"Certificate Issuer Name", "Certificate Serial Number", "Certificate Thumbprint"},
    "Account Whose Credentials Were Used": {"Account Name", "Account Domain", "Logon GUID"},
    "Target Server": {"Target Server Name", "Additional Information"},
}
_NETWORK = {4624: {"Workstation Name", "Source Network Address", "Source Port"},
            4625: {"Workstation Name", "Source Network Address", "Source Port"},
            4768: {"Client Address", "Client Port"}, 4771: {"Client Address", "Client Port"},
            4648: {"Network Address", "Port"}}
_TOP = {4624: {"Logon Type", "Impersonation Level"}, 4625: {"Logon Type"},
        4776: {"Authentication Package", "Logon Account", "Source Workstation", "Error Code"}}
_LABEL = re.compile(r"^(?P<indent>[ \t]*)(?P<label>[A-Za-z][A-Za-z0-9 ()/-]{0,60}?):(?:[ \t]+(?P<value>.*?))?[ \t]*$")


def message_fields(event_id: int, message: str, where: str = "") -> dict[str, str] | Bad:
    """EventData fields by name from a rendered Security message, each from its own section."""
    spec = MESSAGE_FIELDS.get(event_id)
    if spec is None:
        return {}
    allowed = {**_KNOWN, "Network Information": _NETWORK.get(event_id, set()), "": _TOP.get(event_id, set())}
    text = message.replace("\r\n", "\n")
    lines = text.split("\n")
    sections: dict[str, dict[str, list[str]]] = {"": {}}
    current, i, blank_before = "", 0, False
    while i < len(lines) and lines[i].strip():  # the title paragraph
        i += 1
    for raw in lines[i:]:
        if not raw.strip():
            blank_before = True
            continue
        m = _LABEL.match(raw)
        indented = raw[:1] in (" ", "\t")
        if m is None:
            if not indented and blank_before:
                break  # the explanatory prose after the fields
            return Bad(where, "Message", f"a line that is no field inside {current or 'the message'!r}: "
                       f"{escape(raw.strip())[0][:60]!r} (a field value with a line break?); not attributed")
        blank_before = False
        label, value = m["label"].strip(), (m["value"] or "")
        if not indented and not value and label not in allowed[""]:
            if label in sections:
                return Bad(where, "Message", f"section {label!r} appears twice (a field value with a line break?); "
                           "not attributed")
            if label not in allowed:
                return Bad(where, "Message", f"unknown section {label!r} (a field value with a line break?); "
                           "not attributed")
            current = label
            sections[current] = {}
            continue
        sec = "" if not indented else current
        if not indented:
            current = ""
        if label not in allowed.get(sec, ()) :
            return Bad(where, "Message", f"{label!r} inside {sec or 'the top level'!r} (a field value with a "
                       "line break?); not attributed")
        if label in sections.setdefault(sec, {}):
            return Bad(where, "Message", f"{label!r} twice in {sec or 'the top level'!r} (a field value with a "
                       "line break?); not attributed")
        sections[sec][label] = value
    out: dict[str, str] = {}
    for name, places in spec.items():
        for sec, label in places:
            if label in sections.get(sec, {}):
                out[name] = sections[sec][label]
                break
    return out


_DATE_FORMATS = ("%m/%d/%Y %I:%M:%S %p", "%m/%d/%Y %H:%M:%S", "%Y/%m/%d %H:%M:%S", "%Y-%m-%d %H:%M:%S",
                 "%d.%m.%Y %H:%M:%S", "%d/%m/%Y %H:%M:%S", "%Y/%m/%d %I:%M:%S %p")


def win_time(text: str) -> str | None:
    """A time as Windows' exports print it (culture-dependent), as ISO 8601; local time keeps no offset."""
    t = text.strip()
    # zh-TW prints "2024/5/2 下午 03:15:03": the AM/PM marker comes before the time
    for mark, ampm in (("上午", "AM"), ("下午", "PM")):
        if mark in t:
            t = " ".join(t.replace(mark, "").split()) + " " + ampm
    try:
        return datetime.fromisoformat(t.replace("Z", "+00:00")).isoformat()
    except ValueError:
        pass
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(t, fmt).isoformat()
        except ValueError:
            continue
    return None


_EV_HEADER = ["date and time", "source", "event id", "task category"]


def _event_viewer(low: list[str]) -> bool:
    """Event Viewer's "Save as CSV" header: Level (Keywords in the Security log), then these four."""
    return len(low) >= 5 and low[0] in ("level", "keywords") and low[1:5] == _EV_HEADER


def csv_events(path: Path) -> Iterator[WinEvent | Skipped | Bad | Damage]:
    """Event Viewer "Save as CSV" and PowerShell `Get-WinEvent | Export-Csv` (5.1 with `#TYPE`, or 7)."""
    lines, _enc = open_lines(path)
    with lines:
        src = _lines(lines)
        damages: list[Damage] = []

        def text_lines() -> Iterator[str]:
            for item in src:
                if isinstance(item, Damage):
                    damages.append(item)
                else:
                    yield item

        it = text_lines()
        first = next(it, "").lstrip("\ufeff")
        offset = 1
        if first.startswith("#TYPE"):  # Windows PowerShell 5.1's type line
            first, offset = next(it, ""), 2
        header = next(csv.reader([first]), [])
        low = [h.strip().lower() for h in header]
        if _event_viewer(low):
            cols = {"id": 3, "time": 1, "msg": 5, "provider": 2, "record": None, "channel": None, "computer": None}
        elif "id" in low and "message" in low and "timecreated" in low:
            cols = {"id": low.index("id"), "time": low.index("timecreated"), "msg": low.index("message"),
                    "provider": low.index("providername") if "providername" in low else None,
                    "record": low.index("recordid") if "recordid" in low else None,
                    "channel": low.index("logname") if "logname" in low else None,
                    "computer": low.index("machinename") if "machinename" in low else None}
        else:
            raise CoreInputError(
                "not a Windows event CSV export", file=str(path), line=offset, field="header",
                expected="Event Viewer's 'Level (or Keywords),Date and Time,Source,Event ID,Task Category' or PowerShell "
                         "Get-WinEvent's 'Message,Id,…,TimeCreated' columns")
        reader = csv.reader(it)
        prev = 0
        need = max(c for c in (cols["id"], cols["time"], cols["msg"]) if c is not None)
        for rec in reader:
            where, prev = str(offset + prev + 1), reader.line_num
            if damages:
                yield from damages
                damages.clear()
                yield Bad(where, "bytes", "the record holds bytes that cannot be decoded; not read")
                continue
            if not rec or not any(x.strip() for x in rec):
                continue
            if len(rec) <= need:
                yield Bad(where, "columns", f"expected at least {need + 1} columns, found {len(rec)}")
                continue
            eid_text = rec[cols["id"]].strip()
            if not eid_text.isdigit():
                yield Bad(where, "Event ID", f"not an event id: {escape(eid_text)[0][:20]!r}")
                continue
            eid = int(eid_text)
            provider = rec[cols["provider"]] if cols["provider"] is not None and len(rec) > cols["provider"] else ""
            if eid not in WANTED:
                yield Skipped(where, eid)
                continue
            ts = win_time(rec[cols["time"]])
            if ts is None:
                yield Bad(where, "time", f"unrecognised time {escape(rec[cols['time']])[0][:40]!r}")
                continue

            msg = rec[cols["msg"]]
            ev = WinEvent(eid, ts, where, provider=provider, channel=_col(rec, cols, "channel"),
                          computer=_col(rec, cols, "computer"), record_id=_col(rec, cols, "record"))
            if eid in OPENSSH_EVENTS:
                # OpenSSH's message is "<process>: <payload>"
                proc, _, payload = msg.partition(": ")
                ev.data = {"process": proc, "payload": payload.rstrip("\r\n")}
                if not ev.provider and not ev.channel:
                    ev.provider = "OpenSSH" if proc.lower().startswith("sshd") else ""
            else:
                fields = message_fields(eid, msg, where)
                if isinstance(fields, Bad):
                    yield fields
                    continue
                ev.data = fields
            yield ev
        yield from damages


def _col(rec: list[str], cols: dict[str, int | None], name: str) -> str:
    c = cols[name]
    return rec[c].strip() if c is not None and len(rec) > c else ""


def attach_context(alerts, contexts: list[dict], limit: int = 50) -> None:
    """Give each alert the explicit-credential events (4648) of its accounts or addresses: who used
    whose credentials, towards which server, from which process. Context only: never counted as logins."""
    if not contexts:
        return
    for a in alerts:
        accts, ips = {x.lower() for x in a.accounts}, set(a.ips)
        a.context = [c for c in contexts
                     if c["account"].lower() in accts or c["subject"].lower() in accts or (c["ip"] and c["ip"] in ips)
                     ][:limit]


# --- one entry point ------------------------------------------------------------------------------


def sniff(path: Path) -> str | None:
    """evtx, winxml or wincsv from the first bytes, or None when it is no Windows log export."""
    with path.open("rb") as f:
        head = f.read(4096)
    if head.startswith(evtxfile.FILE_MAGIC):
        return "evtx"
    try:
        enc, _ = detect_encoding(head, complete=len(head) < 4096)
        text = head.decode(enc, "ignore").lstrip("\ufeff \r\n\t")
    except ValueError:
        return None
    if text.startswith("<?xml") or text.startswith("<Events") or text.startswith("<Event "):
        return "winxml"
    first = text.split("\n", 2)
    line = first[1] if first[0].startswith("#TYPE") and len(first) > 1 else first[0]
    low = [c.strip().lower() for c in next(csv.reader([line]), [])]
    if _event_viewer(low) or {"id", "message", "timecreated"} <= set(low):
        return "wincsv"
    return None


def read_events(path: str | Path, fmt: str = "auto", wanted: frozenset[int] | None = None
                ) -> Iterator[WinEvent | Skipped | Bad | Damage]:
    """Any Windows log file as events (the library entry point; see docs/logins.md).

    `wanted` limits which event ids are parsed (others come as `Skipped`); None parses all.
    Raises core.errors.InputError when the file is no Windows log at all."""
    p = Path(path)
    f = sniff(p) if fmt == "auto" else fmt
    if f == "evtx":
        return evtx_events(p, wanted)
    if f == "winxml":
        return _filter(xml_events(p), wanted)
    if f == "wincsv":
        return _filter(csv_events(p), wanted)
    raise CoreInputError("not a Windows event log (EVTX, XML or CSV export)", file=str(p),
                         expected="EVTX, wevtutil/Event Viewer XML, Event Viewer or PowerShell CSV")


def _filter(items: Iterator, wanted: frozenset[int] | None) -> Iterator:
    for it in items:
        if wanted is not None and isinstance(it, WinEvent) and it.event_id not in wanted:
            yield Skipped(it.where, it.event_id)
        else:
            yield it


# Logons without a source address (service, batch, local system) are most of a server's 4624s; their
# JSON says so before it is parsed. A value cannot forge this text: quotes inside values are escaped.
_NO_ADDRESS_JSON = ('"IpAddress":"-"', '"IpAddress":""', '"IpAddress":null')
_ADDRESS_EVENTS = frozenset({4624, 4625, 4768, 4771})


def _evtx_for_logins(path: Path, acct: FileAccount) -> Iterator[WinEvent | Skipped | Bad | Damage]:
    """evtx_events for login monitoring: records that cannot be a login with an address are not parsed."""
    read = evtxfile.EvtxRead(_structure(path))
    skipped: Counter = Counter()  # counted here, in bulk: most records of a Security log are not logons
    for eid, rid, data in evtxfile.records(path, read, WANTED):
        if data is None:
            skipped[f"event_{eid}"] += 1
        elif eid in _ADDRESS_EVENTS and any(x in data for x in _NO_ADDRESS_JSON):
            skipped[f"event_{eid}_no_address"] += 1
        else:
            yield _from_json(data, eid, rid)
    for kind, n in skipped.items():
        acct.lines += n
        acct.skip(kind, n)
    for reason, n in read.damage():
        yield Damage("-", reason, n)


# --- login events for the engine ------------------------------------------------------------------


def read(path: Path, acct: FileAccount, ctx: ReadContext, fmt: str = "auto") -> Iterator[dict]:
    """Login events of one Windows file, every record accounted in `acct`."""
    clock = Clock(ctx.tz, ctx.now)
    items = _evtx_for_logins(path, acct) if (fmt == "evtx" or (fmt == "auto" and sniff(path) == "evtx")) \
        else read_events(path, fmt, WANTED)
    for item in items:
        if isinstance(item, Damage):
            if item.n:
                acct.lines += item.n
                acct.damaged(item.where, item.reason, item.n)
            else:
                acct.warnings.append(item.reason)
            continue
        acct.lines += 1
        if isinstance(item, Skipped):
            acct.skip(f"event_{item.event_id}")
            continue
        if isinstance(item, Bad):
            acct.bad(item.where, item.field, item.reason)
            continue
        m = login(item)
        if isinstance(m, Bad):
            acct.bad(m.where, m.field, m.reason)
        elif isinstance(m, NotLogin):
            acct.skip(m.kind)
        elif isinstance(m, Context):
            acct.skip("context_4648")
            if len(acct.context) < MAX_CONTEXT:
                when = clock.parse(m.row["ts"])
                acct.context.append({**m.row, "ts": when[0] if when else m.row["ts"], "event": m.event_id,
                                     "source_file": acct.file, "source_line": item.where})
        elif not m.row["ip"]:
            acct.skip("ntlm_no_address")  # 4776 names a workstation, never an address
        else:
            when = clock.parse(m.row["ts"])
            if when is None:
                acct.bad(item.where, "time", f"not a time: {m.row['ts'][:40]!r}")
                continue
            m.row["ts"], m.row["_future"] = when
            m.row["flags"] = m.flags  # already escaped here, so the accounting counts the flag from us
            for f in m.flags:
                acct.flagged[f] += 1
            row = validate_row(m.row, acct, path, item.where)
            if row is not None:
                yield acct.event(row, item.where)


for _name_, _label in (("evtx", "Windows EVTX"), ("winxml", "Windows event XML"), ("wincsv", "Windows event CSV")):
    if _name_ not in READERS:
        register(Reader(_name_, _label, lambda p, a, c, f=_name_: read(p, a, c, f)))
