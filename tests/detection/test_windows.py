"""Windows logons on real public EVTX files (data/windows/README.md), on the exports Windows' tools
write of the same records, and on a corpus of hostile records."""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
import sys
from collections import Counter
from datetime import datetime
from pathlib import Path

import pytest
from evtx import PyEvtxParser

from ccinspect.detection.adapters import Problems, detect, prepare
from ccinspect.detection.adapters import windows as w
from ccinspect.detection.engine import Engine
from ccinspect.detection.rules import default_rules_path, load_rules

sys.path.insert(0, str(Path(__file__).parent))
from win_messages import render  # noqa: E402

DATA = Path(__file__).parent / "data" / "windows"


def read(path: Path, fmt: str = "auto"):
    """(logins, contexts, counts) of one file: logins as (where, event, account, address, result, reason, channel)."""
    logins, contexts, counts = [], [], Counter()
    for it in w.read_events(path, fmt, w.WANTED):
        if not isinstance(it, w.WinEvent):
            counts[type(it).__name__] += 1
            if isinstance(it, (w.Bad, w.Damage)):
                counts[f"n_{type(it).__name__}"] += getattr(it, "n", 1)
                contexts.append(it)
            continue
        m = w.login(it)
        if isinstance(m, w.Login):
            r = m.row
            logins.append((it.where, m.event_id, r["account"], r["ip"], r["result"], r["reason"], r["channel"]))
            counts[f"login_{m.event_id}"] += 1
        elif isinstance(m, w.Context):
            contexts.append(m)
            counts["context"] += 1
        elif isinstance(m, w.NotLogin):
            counts[m.kind] += 1
        else:
            counts["Bad"] += 1
            contexts.append(m)
    return logins, contexts, counts


# --- real EVTX files --------------------------------------------------------------------------------


def test_kerberos_password_spray_on_a_domain_controller():
    logins, _, counts = read(DATA / "kerberos_pwd_spray_4771.evtx")
    assert counts == {"Skipped": 1, "login_4768": 9, "login_4771": 2}
    assert ("record:2", 4768, "HD01", "172.16.66.1", "failure", "unknown_user", "kerberos") in logins
    assert ("record:9", 4771, "Administrator", "172.16.66.1", "failure", "bad_password", "kerberos") in logins
    assert ("record:10", 4771, "backdoor", "172.16.66.1", "failure", "bad_password", "kerberos") in logins
    assert ("record:11", 4768, "normal", "172.16.66.1", "success", None, "kerberos") in logins
    unknown = sorted(a for _, e, a, _, _, reason, _ in logins if reason == "unknown_user")
    assert unknown == ["HD01", "HD02", "admin", "admin02", "bob", "svc-01", "svc-02"]


def test_failed_rdp_logon_and_its_ntlm_validation():
    logins, _, counts = read(DATA / "Security_short_selected.evtx")
    assert counts == {"Skipped": 5, "login_4776": 1, "login_4625": 1}
    assert logins == [
        # NTLM names a workstation, never an address
        ("record:3", 4776, "Administrator", "", "failure", "bad_password", "ntlm"),
        ("record:4", 4625, "Administrator", "23.94.153.202", "failure", "bad_password", "remote_interactive"),
    ]


def test_logon_types_tell_remote_from_local():
    path = DATA / "DE_RDP_Tunneling_4624.evtx"
    logins, _, counts = read(path)
    assert counts == {"event_4624_no_address": 13, "login_4624": 5}  # service and system logons have no source
    assert ("record:15", 4624, "IEUser", "127.0.0.1", "success", None, "remote_interactive") in logins  # RDP tunnel
    assert ("record:14", 4624, "IEUser", "127.0.0.1", "success", None, "interactive") in logins
    assert ("record:17", 4624, "ANONYMOUS LOGON", "10.0.2.17", "success", None, "network") in logins
    remote = {ev.where: w.login(ev).remote for ev in w.read_events(path) if isinstance(ev, w.WinEvent)
              and isinstance(w.login(ev), w.Login)}
    assert remote == {"record:14": False, "record:15": True, "record:16": False, "record:17": True, "record:18": True}


def test_explicit_credentials_are_context_not_logins():
    logins, contexts, counts = read(DATA / "LM_WMIC_4648_rpcss.evtx")
    assert logins == [] and counts == {"Skipped": 2, "context": 3}
    assert [(c.row["account"], c.row["subject"], c.row["target_server"], c.row["ip"], c.row["process"])
            for c in contexts][1] == ("administrator", "user01", "WIN-77LTAPHIQ1R.example.corp", "",
                                      "C:\\Windows\\System32\\wbem\\WMIC.exe")


def test_ntlm_validations_and_network_logons():
    logins, _, counts = read(DATA / "LM_ScheduledTask_ATSVC_target_host.evtx")
    assert counts == {"Skipped": 24, "login_4624": 5, "login_4776": 4, "event_4624_no_address": 1}
    assert ("record:3", 4776, "administrator", "", "success", None, "ntlm") in logins
    assert ("record:5", 4624, "Administrator", "10.0.2.17", "success", None, "network") in logins
    assert ("record:34", 4624, "WIN-77LTAPHIQ1R$", "fe80::79bf:8ee2:433c:2567", "success", None, "network") in logins


def test_damaged_real_file_says_how_much_was_lost(tmp_path):
    path = DATA / "HelloForBusiness-Operational-damaged.evtx"
    _, bad, counts = read(path)
    assert counts["Skipped"] == 6 and counts["Damage"] == 1 and counts["n_Damage"] == 14
    assert "14 of 20 records the chunk headers announce could not be read" in bad[0].reason
    problems = Problems()
    [src] = prepare([path], tmp_path / "w", problems)
    assert problems.count == 14 and src.events == 0 and src.ignored == 6


@pytest.mark.parametrize("cut", [0x1000 + 0x4000, 0x1000 + 0x200, 0x800])
def test_truncated_evtx_is_partial_with_records_lost(tmp_path, cut):
    p = tmp_path / "cut.evtx"
    p.write_bytes((DATA / "kerberos_pwd_spray_4771.evtx").read_bytes()[:cut])
    logins, bad, counts = read(p)
    assert logins == [] and counts["Damage"] >= 1
    assert any("truncated" in d.reason for d in bad)
    # a chunk header that survived says 12 records were lost; with none left, at least one is counted
    assert counts["n_Damage"] == (12 if cut > 0x1000 else 1)


def test_evtx_read_whole_equals_promised():
    st = w.evtxfile.structure(DATA / "kerberos_pwd_spray_4771.evtx")
    assert (st.header_chunks, st.chunks, st.promised, st.truncated_at) == (1, 1, 12, None)
    assert not [it for it in w.read_events(DATA / "kerberos_pwd_spray_4771.evtx") if isinstance(it, w.Damage)]


def test_spray_alert_through_the_engine(tmp_path):
    rules = tmp_path / "rules.yaml"
    rules.write_text(default_rules_path().read_text().replace("{minutes: 60, min_accounts: 10}",
                                                             "{minutes: 60, min_accounts: 8}"))
    problems = Problems()
    [src] = prepare([DATA / "kerberos_pwd_spray_4771.evtx"], tmp_path / "w", problems)
    assert src.events == 11 and problems.count == 0
    roster = tmp_path / "staff.csv"
    roster.write_text("account\nnormal\nAdministrator\n")
    res = Engine(load_rules(rules)).scan([src], roster, problems=problems)
    hits = [a for a in res.alerts if a.kind in ("credential_stuffing", "password_spraying")]
    assert hits and hits[0].ips == ["172.16.66.1"] and "backdoor" in hits[0].accounts


# --- the exports of the same records ------------------------------------------------------------------

REAL = ["kerberos_pwd_spray_4771.evtx", "Security_short_selected.evtx", "DE_RDP_Tunneling_4624.evtx",
        "LM_ScheduledTask_ATSVC_target_host.evtx", "LM_WMIC_4648_rpcss.evtx"]


def _records(path: Path) -> list[tuple[str, dict]]:
    """(XML, parsed JSON) of every record, as the evtx library renders them."""
    xml = [r["data"] for r in PyEvtxParser(str(path)).records()]
    js = [json.loads(r["data"])["Event"] for r in PyEvtxParser(str(path)).records_json()]
    return list(zip(xml, js, strict=True))


def _strip_decl(x: str) -> str:
    return x.split("?>", 1)[1].strip() if x.startswith("<?xml") else x.strip()


def _compact(x: str) -> str:
    return re.sub(r">\s+<", "><", _strip_decl(x))


def wevtutil(path: Path, out: Path) -> None:
    """`wevtutil qe Security /f:xml > out`: events with no root and no declaration, one a line."""
    out.write_bytes("\r\n".join(_compact(x) for x, _ in _records(path)).encode("utf-8") + b"\r\n")


def event_viewer_xml(path: Path, out: Path) -> None:
    """Event Viewer's "Save as XML": UTF-16 with a BOM, declaration and an <Events> root."""
    body = "".join(_strip_decl(x) for x, _ in _records(path))
    text = '<?xml version="1.0" encoding="UTF-16"?>\r\n<Events>' + body + "</Events>"
    out.write_bytes(codecs.BOM_UTF16_LE + text.encode("utf-16-le"))


def _rows(path: Path):
    for _, ev in _records(path):
        sys_ = ev["System"]
        eid = sys_["EventID"]["#text"] if isinstance(sys_["EventID"], dict) else sys_["EventID"]
        t = datetime.fromisoformat(sys_["TimeCreated"]["#attributes"]["SystemTime"].replace("Z", "+00:00"))
        data = {k: str(v) for k, v in (ev.get("EventData") or {}).items() if k != "#attributes"}
        msg = render(eid, data) if eid in w.MESSAGE_FIELDS else "Some other event.\r\n\r\nDetail:\r\n\tX:\t1\r\n"
        yield eid, t, sys_, msg


def event_viewer_csv(path: Path, out: Path) -> None:
    """Event Viewer's "Save as CSV" of the Security log: Keywords, …, and the message in a sixth unnamed column."""
    buf = io.StringIO(newline="")
    wr = csv.writer(buf, lineterminator="\r\n")
    wr.writerow(["Keywords", "Date and Time", "Source", "Event ID", "Task Category"])
    for eid, t, sys_, msg in _rows(path):
        wr.writerow(["Audit Success", f"{t.month}/{t.day}/{t.year} {t.strftime('%I:%M:%S %p').lstrip('0')}",
                     sys_["Provider"]["#attributes"]["Name"], eid, "Logon", msg])
    out.write_bytes(codecs.BOM_UTF8 + buf.getvalue().encode("utf-8"))


def powershell_csv(path: Path, out: Path, version: int) -> None:
    """`Get-WinEvent -Path … | Export-Csv`: 5.1 writes `#TYPE` first (here with -Encoding Unicode, and a
    zh-TW culture's time), 7 writes UTF-8 without a BOM."""
    cols = ["Message", "Id", "Version", "Qualifiers", "Level", "Task", "Opcode", "Keywords", "RecordId",
            "ProviderName", "ProviderId", "LogName", "ProcessId", "ThreadId", "MachineName", "UserId", "TimeCreated",
            "ActivityId", "RelatedActivityId", "ContainerLog", "MatchedQueryIds", "Bookmark", "LevelDisplayName",
            "OpcodeDisplayName", "TaskDisplayName", "KeywordsDisplayNames", "Properties"]
    buf = io.StringIO(newline="")
    if version == 5:
        buf.write("#TYPE System.Diagnostics.Eventing.Reader.EventLogRecord\r\n")
    wr = csv.writer(buf, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    wr.writerow(cols)
    for eid, t, sys_, msg in _rows(path):
        if version == 5:
            when = f"{t.year}/{t.month}/{t.day} {'上午' if t.hour < 12 else '下午'} {t.strftime('%I:%M:%S')}"
        else:
            when = f"{t.month}/{t.day}/{t.year} {t.strftime('%I:%M:%S %p').lstrip('0')}"
        row = dict.fromkeys(cols, "")
        row.update(Message=msg, Id=eid, RecordId=sys_["EventRecordID"], TimeCreated=when,
                   ProviderName=sys_["Provider"]["#attributes"]["Name"], LogName=sys_.get("Channel", ""),
                   MachineName=sys_.get("Computer", ""),
                   Properties="System.Collections.Generic.List`1[System.Diagnostics.Eventing.Reader.EventProperty]")
        wr.writerow([row[c] for c in cols])
    text = buf.getvalue()
    out.write_bytes(codecs.BOM_UTF16_LE + text.encode("utf-16-le") if version == 5 else text.encode("utf-8"))


EXPORTS = {"wevtutil.xml": (wevtutil, "winxml"), "eventviewer.xml": (event_viewer_xml, "winxml"),
           "eventviewer.csv": (event_viewer_csv, "wincsv"),
           "ps51.csv": (lambda p, o: powershell_csv(p, o, 5), "wincsv"),
           "ps7.csv": (lambda p, o: powershell_csv(p, o, 7), "wincsv")}


@pytest.mark.parametrize("name", REAL)
@pytest.mark.parametrize("export", list(EXPORTS))
def test_every_export_reads_like_the_evtx(tmp_path, name, export):
    make, fmt = EXPORTS[export]
    out = tmp_path / export
    make(DATA / name, out)
    assert w.sniff(out) == fmt and detect(out) == fmt
    want, want_ctx, want_counts = read(DATA / name)
    got, got_ctx, got_counts = read(out)
    assert [x[1:] for x in got] == [x[1:] for x in want]  # same events, accounts, addresses, results, reasons
    assert [c.row["account"] for c in got_ctx] == [c.row["account"] for c in want_ctx]
    assert {k: v for k, v in got_counts.items() if k != "Skipped"} == \
        {k: v for k, v in want_counts.items() if k != "Skipped"}


def test_exports_give_start_lines(tmp_path):
    out = tmp_path / "ev.csv"
    event_viewer_csv(DATA / "Security_short_selected.evtx", out)
    logins, _, _ = read(out)
    lines = out.read_bytes().decode("utf-8-sig").split("\r\n")
    for where, eid, *_ in logins:
        assert lines[int(where) - 1].split(",")[3] == str(eid)  # the record starts on that line
    out = tmp_path / "w.xml"
    wevtutil(DATA / "kerberos_pwd_spray_4771.evtx", out)
    logins, _, _ = read(out)
    assert [x[0] for x in logins][:3] == ["2", "3", "4"]


# --- hostile records ------------------------------------------------------------------------------------

BASE_4625 = {"SubjectUserSid": "S-1-5-18", "SubjectUserName": "DC01$", "SubjectDomainName": "CORP",
             "SubjectLogonId": "0x3e7", "LogonType": "3", "TargetUserSid": "S-1-0-0", "TargetUserName": "alice",
             "TargetDomainName": "CORP", "FailureReason": "Unknown user name or bad password.",
             "Status": "0xC000006D", "SubStatus": "0xC000006A", "ProcessId": "0x0", "ProcessName": "-",
             "WorkstationName": "WS01", "IpAddress": "192.0.2.10", "IpPort": "50123", "LogonProcessName": "NtLmSsp",
             "AuthenticationPackageName": "NTLM", "TransmittedServices": "-", "LmPackageName": "-", "KeyLength": "0"}
FORGED = "6.6.6.6"
# (name, fields changed, the reason given when the message is refused)
HOSTILE = [
    ("address line in the account name", {"TargetUserName": "evil\r\n\tSource Network Address:\t6.6.6.6"},
     "'Source Network Address' inside 'Account For Which Logon Failed'"),
    ("whole forged section in the account name",
     {"TargetUserName": "evil\r\n\r\nNetwork Information:\r\n\tSource Network Address:\t6.6.6.6"},
     "'Account Domain' inside 'Network Information'"),
    ("second address in the workstation name", {"WorkstationName": "WS\r\n\tSource Network Address:\t6.6.6.6"},
     "'Source Network Address' twice in 'Network Information'"),
    ("forged status in the account name", {"TargetUserName": "x\r\n\tSub Status:\t0xC0000064"},
     "'Sub Status' inside 'Account For Which Logon Failed'"),
    ("free text after a line break", {"TargetUserName": "evil\r\nnot a field"}, "a line that is no field"),
    ("unknown section", {"TargetUserName": "evil\r\nBogus:\r\n\tSource Network Address:\t6.6.6.6"},
     "unknown section 'Bogus'"),
    ("top-level field injected", {"TargetUserName": "evil\r\nLogon Type:\t10"}, "'Logon Type' twice"),
]


def _csv(tmp_path: Path, rows: list[tuple[int, str]]) -> Path:
    p = tmp_path / "hostile.csv"
    buf = io.StringIO(newline="")
    wr = csv.writer(buf, lineterminator="\r\n")
    wr.writerow(["Keywords", "Date and Time", "Source", "Event ID", "Task Category"])
    for eid, msg in rows:
        wr.writerow(["Audit Failure", "5/2/2024 9:15:03 AM", "Microsoft-Windows-Security-Auditing", eid, "Logon", msg])
    p.write_text(buf.getvalue(), encoding="utf-8", newline="")
    return p


@pytest.mark.parametrize(("name", "change", "reason"), HOSTILE, ids=[h[0] for h in HOSTILE])
def test_hostile_message_is_never_attributed_to_the_forged_address(tmp_path, name, change, reason):
    p = _csv(tmp_path, [(4625, render(4625, {**BASE_4625, **change})), (4625, render(4625, BASE_4625))])
    logins, bad, counts = read(p)
    assert all(FORGED not in str(x) for x in logins)
    assert [x[1:] for x in logins] == [(4625, "alice", "192.0.2.10", "failure", "bad_password", "network")]
    assert counts["Bad"] == 1 and reason in bad[0].reason and "not attributed" in bad[0].reason
    assert bad[0].where == "2"


def test_hostile_names_in_eventdata_are_escaped_and_flagged(tmp_path):
    ev = ('<Event xmlns="http://schemas.microsoft.com/win/2004/08/events/event"><System><EventID>4625</EventID>'
          '<TimeCreated SystemTime="2024-05-02T01:15:03Z"/><EventRecordID>{rid}</EventRecordID></System><EventData>'
          '<Data Name="TargetUserName">{user}</Data><Data Name="SubStatus">0xc0000064</Data>'
          '<Data Name="LogonType">3</Data><Data Name="IpAddress">192.0.2.10</Data></EventData></Event>')
    users = ["evil&#13;&#10;&#9;Source Network Address:&#9;6.6.6.6", "adm\u202eni", "a\x1b[31mred"]
    p = tmp_path / "hostile.xml"
    p.write_text("".join(ev.format(rid=i, user=u) for i, u in enumerate(users, 1)), encoding="utf-8")
    res = [w.login(it) for it in w.read_events(p) if isinstance(it, w.WinEvent)]
    assert [(m.row["account"], m.row["ip"], m.row["reason"], m.flags) for m in res] == [
        ("evil\\x0d\\x0a\\x09Source Network Address:\\x096.6.6.6", "192.0.2.10", "unknown_user", ["escaped"]),
        ("adm\\u202eni", "192.0.2.10", "unknown_user", ["escaped"]),
        ("a\\x1b[31mred", "192.0.2.10", "unknown_user", ["escaped"]),
    ]


def test_hostile_ntlm_message_cannot_turn_a_failure_into_a_success(tmp_path):
    msg = render(4776, {"PackageName": "MICROSOFT_AUTHENTICATION_PACKAGE_V1_0", "TargetUserName": "bob\r\nError Code:\t0x0",
                        "Workstation": "WS1", "Status": "0xC000006A"})
    logins, bad, _ = read(_csv(tmp_path, [(4776, msg)]))
    assert logins == [] and "'Error Code' twice" in bad[0].reason


def test_hostile_openssh_user_name_keeps_the_real_address(tmp_path):
    ev = ('<Event xmlns="http://schemas.microsoft.com/win/2004/08/events/event"><System><Provider Name="OpenSSH"/>'
          '<EventID>4</EventID><TimeCreated SystemTime="2024-05-02T01:15:03Z"/><Channel>OpenSSH/Operational</Channel>'
          '</System><EventData><Data Name="process">sshd</Data><Data Name="payload">{p}</Data></EventData></Event>\n')
    payloads = ["Failed password for invalid user x from 6.6.6.6 port 1 ssh2 from 192.0.2.7 port 50000 ssh2",
                "Accepted publickey for alice from 192.0.2.8 port 50001 ssh2: ED25519 SHA256:abc",
                "Failed password for bob&#10;from 6.6.6.6 port 1 ssh2 from 192.0.2.9 port 2 ssh2",
                "Connection closed by 192.0.2.7 port 50000 [preauth]"]
    p = tmp_path / "openssh.xml"
    p.write_text("".join(ev.format(p=x) for x in payloads), encoding="utf-8")
    logins, bad, counts = read(p)
    assert [x[2:] for x in logins] == [
        ("x from 6.6.6.6 port 1 ssh2", "192.0.2.7", "failure", "unknown_user", "ssh"),
        ("alice", "192.0.2.8", "success", None, "ssh")]
    assert counts["openssh_other"] == 1 and counts["Bad"] == 1 and "spanning lines" in bad[0].reason


def test_xml_with_an_entity_is_refused(tmp_path):
    p = tmp_path / "dtd.xml"
    p.write_text('<?xml version="1.0"?>\n<!DOCTYPE Events [<!ENTITY a "6.6.6.6">]>\n<Events></Events>\n')
    _, bad, counts = read(p, "winxml")
    assert counts["Bad"] == 1 and "DTD" in bad[0].reason and bad[0].where == "2"


def test_undecodable_bytes_name_the_encoding_and_line(tmp_path):
    p = tmp_path / "bad.csv"
    good = render(4625, BASE_4625)
    rows = [(4625, good)] * 60 + [(4625, good.replace("alice", "al\udcffice"))] + [(4625, good)]
    p = _csv(tmp_path, [])
    data = p.read_bytes()
    buf = io.StringIO(newline="")
    wr = csv.writer(buf, lineterminator="\r\n")
    for eid, msg in rows:
        wr.writerow(["Audit Failure", "5/2/2024 9:15:03 AM", "Microsoft-Windows-Security-Auditing", eid, "Logon", msg])
    p.write_bytes(data + buf.getvalue().encode("utf-8", "surrogateescape"))
    logins, bad, counts = read(p)
    dmg = [b for b in bad if isinstance(b, w.Damage)]
    assert dmg and "utf-8" in dmg[0].reason and "0xff" in dmg[0].reason
    # the damaged record is lost and counted; the others are read
    assert counts["login_4625"] == 61 and counts["Bad"] == 1


# --- the whole run ------------------------------------------------------------------------------------


def test_a_truncated_evtx_makes_the_run_partial_and_says_how_much(tmp_path):
    from typer.testing import CliRunner

    from ccinspect.cli import app

    good = DATA / "kerberos_pwd_spray_4771.evtx"
    cut = tmp_path / "cut.evtx"
    cut.write_bytes((DATA / "Security_short_selected.evtx").read_bytes()[:0x1000 + 0x3000])
    roster = tmp_path / "roster.csv"
    roster.write_text("account\nnormal\n", encoding="utf-8")
    out = tmp_path / "out"
    r = CliRunner().invoke(app, ["logins", "scan", str(good), str(cut), str(DATA / "LM_WMIC_4648_rpcss.evtx"),
                                 "--customers", str(roster), "--out", str(out), "--format", "json", "-q"])
    assert r.exit_code == 3, r.output
    data = json.loads((out / "alerts.json").read_text())
    st = {Path(i["file"]).name: i for i in data["accounting"]}
    assert st["kerberos_pwd_spray_4771.evtx"]["status"] == "ok"
    assert (st["kerberos_pwd_spray_4771.evtx"]["failures"], st["kerberos_pwd_spray_4771.evtx"]["successes"]) == (9, 2)
    assert st["cut.evtx"]["status"] == "partial" and st["cut.evtx"]["lost"] == 7
    assert st["cut.evtx"]["damaged"] == 7 and any("truncated" in d for d in st["cut.evtx"]["damage_samples"])
    assert st["LM_WMIC_4648_rpcss.evtx"]["not_login"]["context_4648"] == 3
    assert data["partial"] is True and data["summary"]["valid_events"] == 11


def test_explicit_credentials_explain_an_alert_on_their_account(tmp_path):
    from ccinspect.detection.pipeline import scan_files

    ev = ('<Event xmlns="http://schemas.microsoft.com/win/2004/08/events/event"><System><EventID>4625</EventID>'
          '<TimeCreated SystemTime="2019-03-18T11:2{i}:00Z"/><EventRecordID>{i}</EventRecordID></System><EventData>'
          '<Data Name="TargetUserName">administrator</Data><Data name="x"/><Data Name="Status">0xc000006d</Data>'
          '<Data Name="SubStatus">0xc000006a</Data><Data Name="LogonType">3</Data>'
          '<Data Name="IpAddress">192.0.2.50</Data></EventData></Event>')
    fails = tmp_path / "dc.xml"
    fails.write_text("\r\n".join(ev.format(i=i) for i in range(10)), encoding="utf-8")
    roster = tmp_path / "roster.csv"
    roster.write_text("account\nadministrator\n", encoding="utf-8")
    run = scan_files([str(fails), str(DATA / "LM_WMIC_4648_rpcss.evtx")], roster)
    [bf] = [a for a in run.result.alerts if a.kind == "brute_force"]
    assert bf.accounts == ["administrator"] and len(bf.context) == 3
    c = bf.context[1]
    assert (c["subject"], c["target_server"], c["process"], c["source_line"]) == (
        "user01", "WIN-77LTAPHIQ1R.example.corp", "C:\\Windows\\System32\\wbem\\WMIC.exe", "record:4")
    assert c["ts"] == "2019-03-18T11:27:23.261267+00:00" and c["event"] == 4648


@pytest.mark.parametrize(("encoding", "bom", "newline"), [
    ("utf-16-le", b"", "\r\n"), ("utf-16-be", codecs.BOM_UTF16_BE, "\r\n"), ("utf-8", b"", "\n"),
    ("utf-16-le", codecs.BOM_UTF16_LE, "\n")])
def test_exports_in_every_encoding_and_line_ending(tmp_path, encoding, bom, newline):
    src = tmp_path / "ev.csv"
    event_viewer_csv(DATA / "kerberos_pwd_spray_4771.evtx", src)
    text = src.read_bytes().decode("utf-8-sig").replace("\r\n", newline)
    out = tmp_path / "re.csv"
    out.write_bytes(bom + text.encode(encoding))
    want, _, _ = read(DATA / "kerberos_pwd_spray_4771.evtx")
    got, _, counts = read(out)
    assert [x[1:] for x in got] == [x[1:] for x in want] and not counts["Bad"] and not counts["Damage"]
    xml = tmp_path / "w.xml"
    wevtutil(DATA / "kerberos_pwd_spray_4771.evtx", xml)
    xml.write_bytes(bom + xml.read_bytes().decode("utf-8").replace("\r\n", newline).encode(encoding))
    got, _, _ = read(xml)
    assert [x[1:] for x in got] == [x[1:] for x in want]


def test_openssh_for_windows_event_viewer_csv(tmp_path):
    p = tmp_path / "openssh.csv"
    p.write_text("Level,Date and Time,Source,Event ID,Task Category\r\n"
                 'Information,5/2/2024 9:15:03 AM,OpenSSH,4,None,"sshd: Failed password for invalid user admin from '
                 '203.0.113.9 port 50412 ssh2"\r\n'
                 "Information,5/2/2024 9:15:09 AM,OpenSSH,4,None,sshd: Accepted password for ops from 10.1.2.3 port "
                 "40022 ssh2\r\n"
                 "Information,5/2/2024 9:15:10 AM,OpenSSH,4,None,sshd: Disconnected from user ops 10.1.2.3 port 40022\r\n",
                 encoding="utf-8")
    logins, _, counts = read(p)
    assert [x[1:] for x in logins] == [(4, "admin", "203.0.113.9", "failure", "unknown_user", "ssh"),
                                       (4, "ops", "10.1.2.3", "success", None, "ssh")]
    assert counts["openssh_other"] == 1


def test_events_on_one_line_are_told_apart(tmp_path):
    # wevtutil without line breaks between events (and with single-quoted attributes, as it writes them)
    out = tmp_path / "one.xml"
    xml = "".join(_compact(x) for x, _ in _records(DATA / "kerberos_pwd_spray_4771.evtx"))
    xml = re.sub(r'(\w+)="([^"<>]*)"', r"\1='\2'", xml)
    out.write_text(xml, encoding="utf-8")
    logins, _, _ = read(out)
    assert [x[0] for x in logins][:3] == ["1#2", "1#3", "1#4"]
    assert [x[1:] for x in logins] == [x[1:] for x in read(DATA / "kerberos_pwd_spray_4771.evtx")[0]]


def test_a_file_that_is_no_evtx_at_all_is_refused(tmp_path):
    from ccinspect.core.errors import InputError as CoreInputError

    p = tmp_path / "not.evtx"
    p.write_text("Keywords,Date and Time\n" * 50, encoding="utf-8")
    with pytest.raises(CoreInputError, match="not an EVTX file"):
        list(w.read_events(p, "evtx"))
    problems = Problems()
    with pytest.raises(CoreInputError, match="not an EVTX file"):
        prepare([p], tmp_path / "w", problems, fmt="evtx")  # the only input, unreadable: bad input
    flipped = tmp_path / "flipped.evtx"
    data = bytearray((DATA / "kerberos_pwd_spray_4771.evtx").read_bytes())
    data[0:4] = b"XXXX"  # a damaged header, chunks intact: the parser refuses it, every record is lost
    flipped.write_bytes(bytes(data))
    logins, bad, counts = read(flipped, "evtx")
    assert logins == [] and counts["n_Damage"] == 12 and any("not an EVTX header" in d.reason for d in bad)
