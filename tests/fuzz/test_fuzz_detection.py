"""Login-log adapters through the public scan entry point, on hostile files.

Whatever the file holds, `scan_files` returns a run (malformed lines counted with file, line and field)
or raises `InputError` for a file it cannot read at all; and for line formats every line is accounted
for: a valid event, an ignored line (another program, another event id) or a counted problem.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.fuzz.conftest import scratch

from ccinspect.core.errors import InputError as CoreInputError
from ccinspect.detection.adapters import InputError
from ccinspect.detection.pipeline import scan_files

# A real Security log (tests/detection/data/windows/README.md): 12 records, 11 Kerberos logins.
EVTX_SEED = Path(__file__).resolve().parents[1] / "detection" / "data" / "windows" / "kerberos_pwd_spray_4771.evtx"

# Each example runs DuckDB once (~0.1 s): a smaller budget than the pure-Python parsers.
SCAN = settings(max_examples=30)

line_text = st.text(st.characters(blacklist_characters="\r\n", blacklist_categories=("Cs",)), max_size=60)
field_text = st.one_of(line_text, st.sampled_from(["", " ", "-", "alice", "bob", "root", "王小明", "a,b", 'q"q']))
ips = st.one_of(st.ip_addresses().map(str), st.sampled_from(["1.2.3.4", "::ffff:10.0.0.1", "[2001:db8::1]",
                                                             "999.1.1.1", "1.2.3", "-", "::1"]), line_text)
times = st.one_of(
    st.datetimes(min_value=datetime(1970, 1, 2), max_value=datetime(2100, 1, 1)).map(lambda d: d.isoformat()),
    st.sampled_from(["2024-05-01T10:00:00Z", "2024-05-01T10:00:00+08:00", "2024-02-30T00:00:00", "", "now"]),
    line_text,
)
results = st.one_of(st.sampled_from(["success", "failure", "SUCCESS", " failure ", "ok", ""]), line_text)


def _lines(items: list[str]) -> bytes:
    return ("\n".join(items) + "\n").encode("utf-8")


def _scan(path: Path, d: Path, **kw):
    roster = d / "customers.csv"
    roster.write_text("account\nalice\nbob\n", encoding="utf-8")
    return scan_files([str(path)], roster, hash_inputs=False, threads=1, **kw)


def _check_run(run, path: Path, n_lines: int | None = None) -> None:
    """Problems name the user's file (never a work file), a line and a field; lines add up."""
    pr = run.result.problems
    for p in pr.samples:
        if p.file == "(all inputs)":  # the count of rows beyond the located sample
            continue
        assert p.file == str(path), p
        assert p.field and p.line not in (None, ""), p
        if isinstance(p.line, int) and n_lines is not None:
            assert 0 <= p.line <= n_lines, p
    s = run.result.summary
    if n_lines is not None:
        assert s["valid_events"] + s["malformed"] + s["ignored_lines"] == n_lines, s


def _scan_or_input_error(path: Path, d: Path, n_lines: int | None = None, **kw):
    try:
        run = _scan(path, d, **kw)
    except (InputError, CoreInputError) as exc:
        assert str(exc).startswith(str(path)) or str(exc).startswith(str(kw.get("mapping"))), exc
        return None
    _check_run(run, path, n_lines)
    return run


# --- OpenSSH auth.log ------------------------------------------------------------------------------------

months = st.one_of(st.sampled_from("Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()),
                   st.from_regex(r"\A[A-Z][a-z]{2}\Z"))
bsd_stamp = st.builds(lambda m, d, h, mi, s: f"{m} {d:>2} {h:02d}:{mi:02d}:{s:02d}", months,
                      st.integers(0, 99), st.integers(0, 99), st.integers(0, 99), st.integers(0, 99))
iso_stamp = st.from_regex(r"\A\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?(Z|[+-]\d\d:?\d\d)?\Z")
progs = st.sampled_from(["sshd", "sshd[1234]", "sudo", "CRON[99]", "sshd-session[7]"])
ssh_msgs = st.one_of(
    st.builds(lambda meth, inv, u, ip, port: f"Failed {meth} for {inv}{u} from {ip} port {port} ssh2",
              st.sampled_from(["password", "publickey", "none"]), st.sampled_from(["", "invalid user "]),
              field_text, ips, st.integers(0, 99999)),
    st.builds(lambda meth, u, ip, port: f"Accepted {meth} for {u} from {ip} port {port} ssh2",
              st.sampled_from(["password", "publickey"]), field_text.filter(lambda s: " " not in s), ips,
              st.integers(0, 99999)),
    st.builds(lambda u, ip: f"Invalid user {u} from {ip} port 22", field_text, ips),
    line_text,
)
syslog_lines = st.one_of(
    st.builds(lambda t, p, m: f"{t} host {p}: {m}", st.one_of(bsd_stamp, iso_stamp), progs, ssh_msgs),
    line_text,
)


@SCAN
@given(st.lists(syslog_lines, min_size=1, max_size=15), st.sampled_from([None, 2024]))
def test_sshd_every_line_is_an_event_ignored_or_a_located_problem(lines, year):
    with scratch() as d:
        p = d / "auth.log"
        p.write_bytes(_lines(lines))
        run = _scan_or_input_error(p, d, len(lines), input_format="sshd", year=year)
        assert run is not None  # with the format given, no line can make the whole file unreadable


# --- canonical CSV and JSON Lines ----------------------------------------------------------------------

canon_rows = st.fixed_dictionaries(
    {"ts": times, "account": field_text, "ip": ips, "result": results},
    optional={"country": field_text, "reason": field_text, "user_agent": field_text},
)


@SCAN
@given(st.lists(canon_rows, min_size=1, max_size=12))
def test_canonical_csv_rows_are_events_or_located_problems(rows):
    with scratch() as d:
        p = d / "logins.csv"
        buf = io.StringIO()
        w = csv.DictWriter(buf, ["ts", "account", "ip", "result", "country", "reason", "user_agent"],
                           lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
        p.write_bytes(buf.getvalue().encode("utf-8"))
        run = _scan_or_input_error(p, d, input_format="csv")
        assert run is not None
        s = run.result.summary
        assert s["valid_events"] + s["malformed"] == len(rows), s


@SCAN
@given(st.one_of(st.just("ts,account,ip,result"), line_text), st.lists(line_text, max_size=10))
def test_canonical_csv_garbage_never_crashes(header, lines):
    with scratch() as d:
        p = d / "logins.csv"
        p.write_bytes(_lines([header, *lines]))
        _scan_or_input_error(p, d, input_format="csv")


json_any = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | field_text,
                        lambda c: st.lists(c, max_size=3) | st.dictionaries(field_text, c, max_size=3), max_leaves=6)
jsonl_lines = st.one_of(
    canon_rows.map(lambda r: json.dumps(r, ensure_ascii=False)),
    st.fixed_dictionaries({"ts": st.one_of(times, json_any), "account": json_any, "ip": st.one_of(ips, json_any),
                           "result": st.one_of(results, json_any)}).map(lambda r: json.dumps(r, ensure_ascii=False)),
    json_any.map(json.dumps),
    line_text,
)


@SCAN
@given(st.lists(jsonl_lines, min_size=1, max_size=12))
def test_jsonl_every_line_is_an_event_or_a_located_problem(lines):
    with scratch() as d:
        p = d / "logins.jsonl"
        p.write_bytes(_lines(lines))
        assert _scan_or_input_error(p, d, len(lines), input_format="jsonl") is not None


# --- JSON access log with a mapping ----------------------------------------------------------------------

mapping_cfgs = st.one_of(
    st.fixed_dictionaries(
        {"fields": st.fixed_dictionaries({"ts": st.sampled_from(["@timestamp", "t", "a.b"]), "account": st.just("user.name"),
                                          "ip": st.just("source.ip"), "result": st.just("event.outcome")})},
        optional={"results": st.one_of(json_any, st.just({"success": ["ok", "200"], "failure": "401"})),
                  "where": st.one_of(json_any, st.just({"field": "url.path", "values": ["/login"]})),
                  "ts_format": st.one_of(st.sampled_from(["iso", "epoch", "epoch_ms", "%Y-%m-%d %H:%M:%S", "%"]),
                                         json_any)},
    ),
    st.dictionaries(st.sampled_from(["fields", "results", "where", "ts_format"]), json_any),
    st.fixed_dictionaries({"fields": st.dictionaries(st.sampled_from(["ts", "account", "ip", "result", "x"]),
                                                     json_any, min_size=4)}),
)
access_lines = st.one_of(
    st.fixed_dictionaries({
        "@timestamp": st.one_of(times, json_any, st.floats(), st.integers()),
        "user": st.fixed_dictionaries({"name": json_any}),
        "source": st.fixed_dictionaries({"ip": st.one_of(ips, json_any)}),
        "event": st.fixed_dictionaries({"outcome": st.one_of(st.sampled_from(["ok", "200", "401", "failure"]), json_any)}),
        "url": st.fixed_dictionaries({"path": st.sampled_from(["/login", "/x"])}),
    }).map(json.dumps),
    json_any.map(json.dumps),
    line_text,
)


@SCAN
@given(mapping_cfgs, st.lists(access_lines, min_size=1, max_size=10))
def test_json_access_log_with_any_mapping(cfg, lines):
    with scratch() as d:
        m = d / "mapping.yaml"
        m.write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")
        p = d / "access.json"
        p.write_bytes(_lines(lines))
        _scan_or_input_error(p, d, len(lines), input_format="json", mapping=m)


# --- Windows Security: XML export, CSV export, EVTX ------------------------------------------------------

def _event_xml(eid: str, ts: str | None, data: dict[str, str]) -> str:
    tc = f"<TimeCreated SystemTime={quoteattr(ts)}/>" if ts is not None else ""
    body = "".join(f"<Data Name={quoteattr(k)}>{escape(v)}</Data>" for k, v in data.items())
    return (f'<Event xmlns="http://schemas.microsoft.com/win/2004/08/events/event"><System>'
            f"<EventID>{escape(eid)}</EventID>{tc}</System><EventData>{body}</EventData></Event>")


xml_text = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=30)
win_data = st.fixed_dictionaries({}, optional={"IpAddress": ips.map(lambda s: "".join(c for c in s if c.isprintable())),
                                               "TargetUserName": xml_text, "SubStatus": xml_text, "LogonType": xml_text,
                                               "WorkstationName": xml_text})
win_events = st.builds(_event_xml, st.sampled_from(["4624", "4625", "4634", "x"]),
                       st.one_of(st.none(), times.map(lambda s: "".join(c for c in s if c.isprintable()))), win_data)


@SCAN
@given(st.lists(win_events, max_size=8), st.one_of(st.none(), st.tuples(st.integers(0, 10_000), line_text)))
def test_windows_xml_export_damaged_anywhere(events, damage):
    text = "<Events>\n" + "\n".join(events) + "\n</Events>\n"
    if damage is not None:
        pos, junk = damage
        pos %= len(text)
        text = text[:pos] + junk + text[pos:]
    with scratch() as d:
        p = d / "security.xml"
        p.write_bytes(text.encode("utf-8"))
        _scan_or_input_error(p, d, input_format="winxml")


@SCAN
@given(st.lists(win_events, min_size=1, max_size=4))
def test_windows_xml_export_refuses_entities(events):
    dtd = '<?xml version="1.0"?>\n<!DOCTYPE Events [<!ENTITY who "mallory">]>\n'
    text = dtd + "<Events>\n" + "\n".join(e.replace("<EventData>", "<EventData><Data Name='TargetUserName'>&who;</Data>")
                                          for e in events) + "\n</Events>\n"
    with scratch() as d:
        p = d / "security.xml"
        p.write_bytes(text.encode("utf-8"))
        run = _scan_or_input_error(p, d, input_format="winxml")
        assert run is not None
        assert run.result.summary["valid_events"] == 0
        assert any(s.field == "xml" and "DTD" in s.message for s in run.result.problems.samples)


def _win_message(eid: str, user: str, ip: str, extra: str) -> str:
    section = "New Logon" if eid == "4624" else "Account For Which Logon Failed"
    return (f"An account logon event.\r\n\r\n{section}:\r\n\tSecurity ID:\t\tS-1-0\r\n\tAccount Name:\t\t{user}\r\n"
            f"\r\nLogon Type:\t{extra}\r\nSub Status:\t0xC000006A\r\nSource Network Address:\t{ip}\r\n")


win_csv_headers = st.sampled_from([
    ["Keywords", "Date and Time", "Source", "Event ID", "Task Category", ""],
    ["TimeCreated", "Id", "Message"],
    ["Event ID", "Message"],
    ["Id", "Message", "Time Created"],
])
win_csv_rows = st.lists(st.one_of(
    st.builds(lambda eid, t, user, ip, extra: [eid, t, _win_message(eid, user, ip, extra)],
              st.sampled_from(["4624", "4625", "4634", ""]),
              st.one_of(times, st.sampled_from(["5/1/2024 10:00:00 AM", "01.05.2024 10:00:00", "13/45/2024 99:00:00"])),
              field_text, ips, field_text),
    st.lists(field_text, max_size=7),
), max_size=8)


@SCAN
@given(win_csv_headers, win_csv_rows, st.booleans())
def test_windows_csv_export(header, rows, ps_type_line):
    buf = io.StringIO()
    if ps_type_line:
        buf.write("#TYPE System.Diagnostics.Eventing.Reader.EventLogRecord\n")
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(header)
    low = [h.lower() for h in header]
    for r in rows:
        if len(r) == 3:  # place id, time and message in their columns
            rec = ["x"] * len(header)
            for col, v in (("event id", r[0]), ("id", r[0]), ("date and time", r[1]), ("timecreated", r[1]),
                           ("time created", r[1])):
                if col in low:
                    rec[low.index(col)] = v
            rec[low.index("message") if "message" in low else -1] = r[2]
            w.writerow(rec)
        else:
            w.writerow(r)
    with scratch() as d:
        p = d / "security.csv"
        p.write_bytes(buf.getvalue().encode("utf-8"))
        _scan_or_input_error(p, d, input_format="wincsv")


def _valid_evtx() -> bytes:
    return EVTX_SEED.read_bytes()


@SCAN
@given(st.one_of(
    st.binary(max_size=5000).map(lambda b: b"ElfFile\x00" + b),
    st.lists(st.tuples(st.integers(0, 0x11000), st.integers(0, 255)), min_size=1, max_size=20).map(
        lambda flips: ("flips", flips)),
    st.integers(0, 0x11000).map(lambda n: ("truncate", n)),
))
def test_evtx_random_and_corrupted(spec):
    if isinstance(spec, bytes):
        raw = spec
    else:
        raw = bytearray(_valid_evtx())
        if spec[0] == "flips":
            for pos, val in spec[1]:
                raw[pos % len(raw)] = val
        else:
            raw = raw[: spec[1]]
        raw = bytes(raw)
    with scratch() as d:
        p = d / "security.evtx"
        p.write_bytes(raw)
        run = _scan_or_input_error(p, d, input_format="evtx")
        assert run is not None
        assert run.result.summary["valid_events"] <= 11


@SCAN
@given(st.one_of(st.binary(max_size=400), line_text.map(str.encode)))
def test_autodetect_on_any_bytes(raw):
    with scratch() as d:
        p = d / "input.log"
        p.write_bytes(raw)
        _scan_or_input_error(p, d)
