"""Adapters on realistic samples written to disk; malformed lines are reported, never fatal."""

from __future__ import annotations

import gzip
import json
import os
from datetime import datetime

import pytest

from ccinspect.core.errors import InputError as CoreInputError
from ccinspect.detection.adapters import InputError, Problems, detect, expand, prepare
from ccinspect.detection.adapters.jsonlog import load_mapping
from ccinspect.detection.engine import Engine
from ccinspect.detection.rules import load_rules


def _rows(src):
    import csv

    with src.path.open() as f:
        return list(csv.DictReader(f))


AUTH_LOG = """\
May  2 09:15:01 core1 sshd[4120]: Invalid user admin from 203.0.113.9 port 50412
May  2 09:15:03 core1 sshd[4120]: Failed password for invalid user admin from 203.0.113.9 port 50412 ssh2
May  2 09:15:07 core1 sshd[4121]: Failed password for trader01 from 203.0.113.9 port 50418 ssh2
May  2 09:15:09 core1 sshd[4122]: Accepted publickey for ops from 10.1.2.3 port 40022 ssh2: ED25519 SHA256:abc
May  2 09:15:10 core1 sshd[4122]: pam_unix(sshd:session): session opened for user ops(uid=1001) by (uid=0)
May  2 09:15:11 core1 CRON[4200]: pam_unix(cron:session): session opened for user root(uid=0) by (uid=0)
this line is garbage
2024-05-02T09:16:00.123456+08:00 core2 sshd[999]: Failed password for trader02 from 2001:db8::7 port 3311 ssh2
May  2 09:17:00 core1 sshd[4130]: Failed password for trader03 from 999.1.1.1 port 1 ssh2
"""


def test_sshd_auth_log(tmp_path):
    p = tmp_path / "auth.log"
    p.write_text(AUTH_LOG)
    os.utime(p, (datetime(2024, 5, 3).timestamp(),) * 2)
    assert detect(p) == "sshd"
    problems = Problems()
    [src] = prepare([p], tmp_path / "w", problems)
    rows = _rows(src)
    assert [(r["account"], r["ip"], r["result"]) for r in rows] == [
        ("admin", "203.0.113.9", "failure"),
        ("trader01", "203.0.113.9", "failure"),
        ("ops", "10.1.2.3", "success"),
        ("trader02", "2001:db8::7", "failure"),
    ]
    assert rows[0]["ts"] == "2024-05-02T09:15:03+08:00" and rows[0]["reason"] == "invalid_user"
    assert rows[3]["ts"] == "2024-05-02T09:16:00.123456+08:00"
    assert src.ignored == 3  # Invalid user precursor, session line, cron
    assert problems.count == 2
    assert [(p.line, p.field) for p in problems.samples] == [(7, "line"), (9, "ip")]


XML_EXPORT = """<?xml version="1.0" encoding="utf-8" standalone="yes"?>
<Events>
<Event xmlns="http://schemas.microsoft.com/win/2004/08/events/event"><System><Provider Name="Microsoft-Windows-Security-Auditing" Guid="{54849625-5478-4994-a5ba-3e3b0328c30d}"/><EventID>4625</EventID><Version>0</Version><Level>0</Level><Task>12544</Task><Opcode>0</Opcode><Keywords>0x8010000000000000</Keywords><TimeCreated SystemTime="2024-05-02T01:15:03.1234567Z"/><EventRecordID>88123</EventRecordID><Correlation/><Execution ProcessID="712" ThreadID="3012"/><Channel>Security</Channel><Computer>CORE-AD01.broker.local</Computer><Security/></System>
<EventData><Data Name="SubjectUserSid">S-1-0-0</Data><Data Name="SubjectUserName">-</Data><Data Name="SubjectDomainName">-</Data><Data Name="SubjectLogonId">0x0</Data><Data Name="TargetUserSid">S-1-0-0</Data><Data Name="TargetUserName">administrator</Data><Data Name="TargetDomainName">BROKER</Data><Data Name="Status">0xc000006d</Data><Data Name="FailureReason">%%2313</Data><Data Name="SubStatus">0xc000006a</Data><Data Name="LogonType">10</Data><Data Name="LogonProcessName">User32 </Data><Data Name="AuthenticationPackageName">Negotiate</Data><Data Name="WorkstationName">ATTACKER-PC</Data><Data Name="TransmittedServices">-</Data><Data Name="LmPackageName">-</Data><Data Name="KeyLength">0</Data><Data Name="ProcessId">0x0</Data><Data Name="ProcessName">-</Data><Data Name="IpAddress">198.51.100.23</Data><Data Name="IpPort">0</Data></EventData></Event>
<Event xmlns="http://schemas.microsoft.com/win/2004/08/events/event"><System><Provider Name="Microsoft-Windows-Security-Auditing"/><EventID>4624</EventID><TimeCreated SystemTime="2024-05-02T01:16:00.0000000Z"/><Computer>CORE-AD01.broker.local</Computer></System>
<EventData><Data Name="TargetUserName">jchen</Data><Data Name="TargetDomainName">BROKER</Data><Data Name="LogonType">3</Data><Data Name="WorkstationName">WS-0412</Data><Data Name="IpAddress">10.8.1.44</Data><Data Name="IpPort">52110</Data></EventData></Event>
<Event xmlns="http://schemas.microsoft.com/win/2004/08/events/event"><System><EventID>4624</EventID><TimeCreated SystemTime="2024-05-02T01:16:30.0000000Z"/></System>
<EventData><Data Name="TargetUserName">SYSTEM</Data><Data Name="LogonType">5</Data><Data Name="IpAddress">-</Data></EventData></Event>
<Event xmlns="http://schemas.microsoft.com/win/2004/08/events/event"><System><EventID>4672</EventID><TimeCreated SystemTime="2024-05-02T01:16:31.0000000Z"/></System><EventData/></Event>
<Event xmlns="http://schemas.microsoft.com/win/2004/08/events/event"><System><EventID>4625</EventID><TimeCreated SystemTime="2024-05-02T01:17:00.0000000Z"/></System>
<EventData><Data Name="TargetUserName">bob</Data><Data Name="SubStatus">0xc0000064</Data><Data Name="LogonType">3</Data><Data Name="IpAddress">not-an-ip</Data></EventData></Event>
</Events>
"""


def test_windows_xml_export(tmp_path):
    p = tmp_path / "security.xml"
    p.write_text(XML_EXPORT)
    assert detect(p) == "winxml"
    problems = Problems()
    [src] = prepare([p], tmp_path / "w", problems)
    rows = _rows(src)
    assert [(r["account"], r["ip"], r["result"], r["reason"], r["channel"]) for r in rows] == [
        ("administrator", "198.51.100.23", "failure", "bad_password", "remote_interactive"),
        ("jchen", "10.8.1.44", "success", "", "network"),
    ]
    assert rows[0]["ts"] == "2024-05-02T01:15:03.123456+00:00"
    assert src.ignored == 2  # local SYSTEM logon, event 4672
    assert problems.count == 1 and problems.samples[0].field == "ip" and problems.samples[0].line == "10"


MSG_4625 = (
    "An account failed to log on.\n\nSubject:\n\tSecurity ID:\t\tS-1-0-0\n\tAccount Name:\t\t-\n\tAccount Domain:\t\t-\n"
    "\tLogon ID:\t\t0x0\n\nLogon Type:\t\t\t3\n\nAccount For Which Logon Failed:\n\tSecurity ID:\t\tS-1-0-0\n"
    "\tAccount Name:\t\tsvc_backup\n\tAccount Domain:\t\tBROKER\n\nFailure Information:\n"
    "\tFailure Reason:\t\tUnknown user name or bad password.\n\tStatus:\t\t\t0xC000006D\n\tSub Status:\t\t0xC000006A\n\n"
    "Network Information:\n\tWorkstation Name:\t-\n\tSource Network Address:\t192.0.2.77\n\tSource Port:\t\t0\n"
)
MSG_4624 = (
    "An account was successfully logged on.\n\nSubject:\n\tSecurity ID:\t\tS-1-5-18\n\tAccount Name:\t\tCORE-AD01$\n\n"
    "Logon Information:\n\tLogon Type:\t\t10\n\nNew Logon:\n\tSecurity ID:\t\tS-1-5-21-1-2-3-1105\n"
    "\tAccount Name:\t\tmlin\n\tAccount Domain:\t\tBROKER\n\nNetwork Information:\n\tWorkstation Name:\tHOME-PC\n"
    "\tSource Network Address:\t203.0.113.50\n\tSource Port:\t\t61022\n"
)


def test_windows_event_viewer_csv(tmp_path):
    import csv

    p = tmp_path / "security.csv"
    with p.open("w", newline="", encoding="utf-8-sig") as f:
        w = csv.writer(f)
        w.writerow(["Keywords", "Date and Time", "Source", "Event ID", "Task Category", ""])
        w.writerow(["Audit Failure", "5/2/2024 9:15:03 AM", "Microsoft-Windows-Security-Auditing", "4625", "Logon", MSG_4625])
        w.writerow(["Audit Success", "5/2/2024 9:20:00 AM", "Microsoft-Windows-Security-Auditing", "4624", "Logon", MSG_4624])
        w.writerow(["Audit Success", "5/2/2024 9:21:00 AM", "Microsoft-Windows-Security-Auditing", "4634", "Logoff", "An account was logged off."])
        w.writerow(["Audit Failure", "yesterday-ish", "Microsoft-Windows-Security-Auditing", "4625", "Logon", MSG_4625])
    assert detect(p) == "wincsv"
    problems = Problems()
    [src] = prepare([p], tmp_path / "w", problems)
    rows = _rows(src)
    assert [(r["ts"], r["account"], r["ip"], r["result"]) for r in rows] == [
        ("2024-05-02T09:15:03+08:00", "svc_backup", "192.0.2.77", "failure"),
        ("2024-05-02T09:20:00+08:00", "mlin", "203.0.113.50", "success"),
    ]
    assert src.ignored == 1
    assert problems.count == 1 and problems.samples[0].field == "time"
    # The record's first line: header is line 1, and each multi-line message spans many lines.
    assert int(problems.samples[0].line) > 4


def test_json_access_log_with_mapping(tmp_path):
    cfg = tmp_path / "mapping.yaml"
    cfg.write_text(
        "fields:\n  ts: '@timestamp'\n  account: user.name\n  ip: source.ip\n  result: http.response.status_code\n"
        "  user_agent: user_agent.original\n"
        "results:\n  success: ['200']\n  failure: ['401', '403']\n"
        "where:\n  field: url.path\n  values: [/api/v1/login]\n"
    )
    log = tmp_path / "access.jsonl.gz"
    lines = [
        {"@timestamp": "2024-05-02T09:00:01+08:00", "url": {"path": "/api/v1/login"}, "user": {"name": "A123456789"},
         "source": {"ip": "61.216.3.4"}, "http": {"response": {"status_code": 401}}, "user_agent": {"original": "curl/8"}},
        {"@timestamp": "2024-05-02T09:00:02+08:00", "url": {"path": "/api/v1/quote"}, "user": {"name": "A123456789"},
         "source": {"ip": "61.216.3.4"}, "http": {"response": {"status_code": 200}}},
        {"@timestamp": "2024-05-02T09:00:03+08:00", "url": {"path": "/api/v1/login"}, "user": {"name": "A123456789"},
         "source": {"ip": "61.216.3.4"}, "http": {"response": {"status_code": 200}}},
        {"@timestamp": "2024-05-02T09:00:04+08:00", "url": {"path": "/api/v1/login"}, "user": {"name": "B1"},
         "source": {"ip": "61.216.3.4"}, "http": {"response": {"status_code": 500}}},
    ]
    with gzip.open(log, "wt") as f:
        for obj in lines:
            f.write(json.dumps(obj) + "\n")
        f.write("{broken json\n")
    mapping = load_mapping(cfg)
    assert detect(log, mapping=True) == "mapping"
    problems = Problems()
    [src] = prepare([log], tmp_path / "w", problems, mapping=mapping)
    rows = _rows(src)
    assert [(r["result"], r["user_agent"]) for r in rows] == [("failure", "curl/8"), ("success", "")]
    assert src.ignored == 1
    assert sorted((p.line, p.field) for p in problems.samples) == [(4, "http.response.status_code"), (5, "json")]


def test_mapping_errors_name_the_field(tmp_path):
    cfg = tmp_path / "m.yaml"
    cfg.write_text("fields:\n  ts: t\n  account: u\n  ip: i\n")
    with pytest.raises(InputError, match=r"fields\.result"):
        load_mapping(cfg)


def test_canonical_csv_malformed_rows_reported_with_lines(tmp_path):
    p = tmp_path / "logins.csv"
    p.write_text(
        "ts,account,ip,result,channel\n"
        "2024-05-02T09:00:00,A1,1.2.3.4,success,web\n"          # 2: ok (Asia/Taipei)
        "2024-05-02T01:00:00Z,A1,1.2.3.4,failure,web\n"         # 3: ok (UTC)
        "yesterday,A1,1.2.3.4,success,web\n"                    # 4: bad ts
        "2024-05-02T09:00:00,A1,1.2.3.4,maybe,web\n"            # 5: bad result
        "2024-05-02T09:00:00,A1\n"                              # 6: short line
        "2024-05-02T09:00:00,,1.2.3.4,failure,web\n"            # 7: empty account
        "2024-05-02T09:00:00,A2,10.0.0.999x,failure,web\n"      # 8: bad ip
        "2024-05-02T09:00:05+08:00,A2,2001:db8::1,failure,app\n"  # 9: ok
    )
    roster = tmp_path / "roster.txt"
    roster.write_text("account\nA1\nA2\n")
    problems = Problems()
    sources = prepare(expand([str(tmp_path / "*.csv")]), tmp_path / "w", problems)
    res = Engine(load_rules()).scan(sources, roster, problems=problems)
    assert res.summary["valid_events"] == 3
    assert res.summary["malformed"] == 5
    got = sorted((p.line, p.field) for p in res.problems.samples)
    assert got == [(4, "ts"), (5, "result"), (6, "ip"), (7, "account"), (8, "ip")]
    # 09:00 Taipei and 01:00Z are the same instant.
    assert res.summary["first"] == "2024-05-02T09:00:00+08:00" and res.summary["last"] == "2024-05-02T09:00:05+08:00"


def test_gzip_and_glob_of_canonical_files(tmp_path):
    for i in range(3):
        with gzip.open(tmp_path / f"day{i}.csv.gz", "wt") as f:
            f.write("ts,account,ip,result\n")
            f.write(f"2024-05-0{i + 1}T10:00:00,A1,1.2.3.{i},success\n")
    files = expand([str(tmp_path / "day*.csv.gz")])
    assert [f.name for f in files] == ["day0.csv.gz", "day1.csv.gz", "day2.csv.gz"]
    roster = tmp_path / "roster.txt"
    roster.write_text("account,kind\nA1,customer\n")
    problems = Problems()
    res = Engine(load_rules()).scan(prepare(files, tmp_path / "w", problems), roster, problems=problems)
    assert res.summary["valid_events"] == 3 and res.summary["addresses"] == 3


def test_bad_inputs_give_clear_errors(tmp_path):
    p = tmp_path / "x.csv"
    p.write_text("time,user,addr,outcome\n2024-05-02T09:00:00,A1,1.2.3.4,success\n")
    with pytest.raises(InputError, match=r"x\.csv.*cannot tell the format"):
        prepare([p], tmp_path / "w", Problems())
    with pytest.raises(InputError, match=r"x\.csv: line 1: header lacks column\(s\) ts, account, ip, result"):
        prepare([p], tmp_path / "w", Problems(), fmt="csv")
    with pytest.raises(InputError, match="no file matches"):
        expand([str(tmp_path / "nothing*.log")])


def test_fuzz_regression_non_iso_times_are_malformed_once(tmp_path):
    """DuckDB casts 'EPOCH' and '2024-5-1'; the row was counted valid (1970) and malformed at once."""
    p = tmp_path / "logins.csv"
    p.write_text("ts,account,ip,result\nEPOCH,alice,1.2.3.4,success\n2024-5-1,bob,1.2.3.4,failure\n"
                 "2024-05-01T10:00:00Z,carol,1.2.3.4,failure\n", encoding="utf-8")
    roster = tmp_path / "customers.csv"
    roster.write_text("account\nalice\n", encoding="utf-8")
    r = Engine(load_rules()).scan(prepare(expand([str(p)]), tmp_path / "w", Problems()), roster, problems=Problems())
    assert (r.summary["valid_events"], r.summary["malformed"]) == (1, 2)
    assert {(s.line, s.field) for s in r.problems.samples} == {(2, "ts"), (3, "ts")}


def test_fuzz_regression_adapter_inputs_that_crashed(tmp_path):
    roster = tmp_path / "customers.csv"
    roster.write_text("account\nalice\n", encoding="utf-8")
    # A mapping whose ts_format is not text raised TypeError inside strptime.
    m = tmp_path / "mapping.yaml"
    m.write_text("fields: {ts: t, account: u, ip: i, result: r}\nts_format: null\n", encoding="utf-8")
    with pytest.raises(InputError, match="field ts_format"):
        load_mapping(m)
    m.write_text("fields: {ts: 5, account: u, ip: i, result: r}\n", encoding="utf-8")
    with pytest.raises(InputError, match="field fields.ts"):
        load_mapping(m)
    # An epoch time given as a JSON object raised TypeError: now a located problem.
    m.write_text("fields: {ts: t, account: u, ip: i, result: r}\nts_format: epoch\n", encoding="utf-8")
    log = tmp_path / "access.json"
    log.write_text('{"t": {"a": 1}, "u": "alice", "i": "1.2.3.4", "r": "failure"}\n', encoding="utf-8")
    pr = Problems()
    prepare([log], tmp_path / "w", pr, fmt="json", mapping=load_mapping(m))
    assert [(s.line, s.field) for s in pr.samples] == [(1, "t")]
    # A Windows CSV export without a time column raised a bare ValueError.
    csvf = tmp_path / "security.csv"
    csvf.write_text("Event ID,Message\n4625,x\n", encoding="utf-8")
    with pytest.raises(CoreInputError, match="security.csv:1: field 'header': not a Windows event CSV export"):
        prepare([csvf], tmp_path / "w", Problems(), fmt="wincsv")
    # An XML export with a DTD expanded its entities into account names; now refused.
    xml = tmp_path / "security.xml"
    xml.write_text('<!DOCTYPE Events [<!ENTITY who "mallory">]><Events><Event xmlns="http://schemas.microsoft.com/'
                   'win/2004/08/events/event"><System><EventID>4625</EventID><TimeCreated SystemTime="2024-05-01T'
                   '10:00:00Z"/></System><EventData><Data Name="TargetUserName">&who;</Data><Data Name="IpAddress">'
                   '1.2.3.4</Data></EventData></Event></Events>\n', encoding="utf-8")
    pr = Problems()
    (src,) = prepare([xml], tmp_path / "w", pr, fmt="winxml")
    assert src.events == 0 and pr.samples[0].field == "xml" and "DTD" in pr.samples[0].message
