"""Text login readers: sshd in every envelope, real public files, hostile lines, per-file accounting."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from ccinspect.detection.adapters import (
    InputError,
    Problems,
    ReadContext,
    detect,
    expand,
    open_input,
    read_file,
)

REAL = Path(__file__).parent / "data" / "real"
TPE = ZoneInfo("Asia/Taipei")
NOW = datetime(2025, 1, 2, 12, 0, tzinfo=TPE)


def read(path: Path, fmt: str = "auto", year: int | None = None, tz=TPE, now=NOW, mapping=None):
    """(events, file account) of one file, as `logins normalize` reads it."""
    problems = Problems()
    f, acct = open_input(path, problems, fmt=fmt, mapping=mapping, now=now)
    ctx = ReadContext(tz=tz, year=year, now=now, mapping=mapping)
    evs = list(read_file(path, f, acct, ctx)) if f != "empty" else []
    acct.finish()
    return evs, acct


def key(e: dict) -> tuple:
    return (datetime.fromisoformat(e["ts"]), e["account"], e["ip"], e["result"], e["reason"])


# ---------------------------------------------------------------- the same events in every envelope
T0 = datetime(2024, 12, 31, 23, 59, 50, 123456, tzinfo=TPE)
# (seconds after T0, pid, program, message)
SESSION = [
    (0, 1001, "sshd", "Failed password for root from 203.0.113.9 port 50412 ssh2"),
    (1, 1001, "sshd", "message repeated 2 times: [ Failed password for root from 203.0.113.9 port 50412 ssh2]"),
    (5, 1002, "sshd-session", "Accepted publickey for ops from 2001:db8::5 port 40022 ssh2: ED25519 SHA256:AbCdEf0123456789"),
    (11, 1003, "sshd-session", "Invalid user oracle from 198.51.100.7 port 40000"),
    (12, 1003, "sshd-session", "Connection closed by invalid user oracle 198.51.100.7 port 40000 [preauth]"),
    (13, 1004, "sshd", "pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=192.0.2.5  user=alice"),
    (14, 1004, "sshd", "error: PAM: Authentication failure for alice from 192.0.2.5"),
    (15, 1005, "sshd-auth", "Connection closed by authenticating user deploy 192.0.2.77 port 51000 [preauth]"),
    (16, 1006, "sshd", "error: maximum authentication attempts exceeded for admin from 192.0.2.88 port 52000 ssh2 [preauth]"),
    (16, 1006, "sshd", "Disconnecting authenticating user admin 192.0.2.88 port 52000: Too many authentication failures [preauth]"),
    (17, 1007, "sshd", "Failed publickey for git from 2001:db8::9 port 22022 ssh2: RSA SHA256:ZmFrZWtleWZpbmdlcnByaW50"),
    (18, 1008, "sshd", "Invalid user guest from 2001:db8::10"),
    (18, 1010, "sshd", "Invalid user test from 198.51.100.20 port 1234"),
    (19, 1009, "CRON", "pam_unix(cron:session): session opened for user root(uid=0) by (uid=0)"),
    (19, 1010, "sshd", "Failed password for invalid user test from 198.51.100.20 port 1234 ssh2"),
    (20, 1011, "sshd", "Received disconnect from 203.0.113.9 port 50412:11: Bye Bye [preauth]"),
]
EXPECTED = sorted([
    ("root", "203.0.113.9", "failure", "bad_password"), ("root", "203.0.113.9", "failure", "bad_password"),
    ("root", "203.0.113.9", "failure", "bad_password"), ("ops", "2001:db8::5", "success", None),
    ("oracle", "198.51.100.7", "failure", "invalid_user"), ("alice", "192.0.2.5", "failure", "pam_failure"),
    ("deploy", "192.0.2.77", "failure", "closed_before_auth"), ("admin", "192.0.2.88", "failure", "too_many_failures"),
    ("git", "2001:db8::9", "failure", "bad_publickey"), ("guest", "2001:db8::10", "failure", "invalid_user"),
    ("test", "198.51.100.20", "failure", "invalid_user"),
], key=str)


def _bsd(dt: datetime, frac: bool = False) -> str:
    return dt.strftime("%b ") + f"{dt.day:>2}" + dt.strftime(" %H:%M:%S") + (dt.strftime(".%f") if frac else "")


ENVELOPES = {
    "bsd": lambda dt, prog, pid, msg: f"{_bsd(dt)} core1 {prog}[{pid}]: {msg}",
    "bsd_no_host": lambda dt, prog, pid, msg: f"{_bsd(dt)} {prog}[{pid}]: {msg}",
    "rfc3164_pri": lambda dt, prog, pid, msg: f"<38>{_bsd(dt)} core1 {prog}[{pid}]: {msg}",
    "journal_short_precise": lambda dt, prog, pid, msg: f"{_bsd(dt, True)} core1 {prog}[{pid}]: {msg}",
    "rsyslog_high_precision": lambda dt, prog, pid, msg: f"{dt.isoformat()} core1 {prog}[{pid}]: {msg}",
    "journal_short_iso": lambda dt, prog, pid, msg: f"{dt.strftime('%Y-%m-%dT%H:%M:%S%z')} core1 {prog}[{pid}]: {msg}",
    "journal_short_full": lambda dt, prog, pid, msg: f"{dt.strftime('%a %Y-%m-%d %H:%M:%S')} CST core1 {prog}[{pid}]: {msg}",
    "rfc5424": lambda dt, prog, pid, msg: (f"<38>1 {dt.astimezone(UTC).isoformat().replace('+00:00', 'Z')} core1 {prog} "
                                           f"{pid} - - {msg}"),
    "rfc5424_sd": lambda dt, prog, pid, msg: (f"<38>1 {dt.isoformat()} core1 {prog} {pid} AUTH "
                                              f'[origin ip="10.0.0.1"][meta sequenceId="7"] \ufeff{msg}'),
    "solaris": lambda dt, prog, pid, msg: f"{_bsd(dt)} core1 {prog}[{pid}]: [ID 800047 auth.info] {msg}",
}
JSON_ENVELOPES = {
    "journal_json": lambda msg: msg,
    "journal_json_bytes": lambda msg: list(msg.encode("utf-8")),
}


def _write_text(path: Path, env: str) -> Path:
    lines = [ENVELOPES[env](T0 + timedelta(seconds=s), prog, pid, msg) for s, pid, prog, msg in SESSION]
    if env.startswith("journal"):
        lines.insert(0, "-- Logs begin at Tue 2024-12-31 00:00:01 CST, end at Wed 2025-01-01 00:00:10 CST. --")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _write_json(path: Path, env: str) -> Path:
    with path.open("w", encoding="utf-8") as f:
        for s, pid, prog, msg in SESSION:
            dt = T0 + timedelta(seconds=s)
            obj = {"__CURSOR": f"s=1;i={s}", "__REALTIME_TIMESTAMP": str(int(dt.timestamp() * 1_000_000)),
                   "_HOSTNAME": "core1", "SYSLOG_IDENTIFIER": prog, "_COMM": prog, "_PID": str(pid),
                   "MESSAGE": JSON_ENVELOPES[env](msg)}
            f.write(json.dumps(obj) + "\n")
    return path


@pytest.mark.parametrize("env", [*ENVELOPES, *JSON_ENVELOPES])
def test_same_events_in_every_envelope(tmp_path, env):
    p = tmp_path / f"{env}.log"
    (_write_json if env in JSON_ENVELOPES else _write_text)(p, env)
    assert detect(p) == ("journaljson" if env in JSON_ENVELOPES else "sshd")
    evs, acct = read(p, year=2024)
    assert sorted([(e["account"], e["ip"], e["result"], e["reason"]) for e in evs], key=str) == EXPECTED
    assert (acct.failures, acct.successes, acct.malformed, acct.status) == (10, 1, 0, "ok")
    # Times: the December/January turn resolves to 2025, and every envelope gives the same instants.
    times = {e["account"]: datetime.fromisoformat(e["ts"]) for e in evs}
    assert times["oracle"] == datetime(2025, 1, 1, 0, 0, 1, tzinfo=TPE).replace(microsecond=times["oracle"].microsecond)
    assert times["root"].year == 2024 and times["ops"].date().isoformat() == "2024-12-31"
    # Every event names its line; the attempt decided at the end still points at its first line.
    by = {e["account"]: e["source_line"] for e in evs}
    offset = 1 if env.startswith("journal") and env not in JSON_ENVELOPES else 0
    assert by["oracle"] == str(4 + offset) and by["alice"] == str(6 + offset)
    assert sorted(e["source_line"] for e in evs if e["account"] == "root") == sorted(
        [str(1 + offset), str(2 + offset), f"{2 + offset}#2"])
    assert acct.not_login["other_program"] == 1


def test_year_from_modification_time_across_new_year(tmp_path):
    p = _write_text(tmp_path / "auth.log", "bsd")
    os.utime(p, (datetime(2025, 1, 1, 0, 5).timestamp(),) * 2)
    evs, _ = read(p)
    years = {e["account"]: e["ts"][:4] for e in evs}
    assert years["root"] == "2024" and years["ops"] == "2024" and years["oracle"] == "2025" and years["test"] == "2025"


# ---------------------------------------------------------------- real public files (see data/real/README.md)
def test_real_loghub_openssh():
    evs, acct = read(REAL / "loghub_openssh_2k_head300.log", year=2016)
    assert (acct.lines, acct.failures, acct.successes, acct.malformed) == (300, 82, 0, 0)
    pairs = {(e["ip"], e["account"]) for e in evs}
    assert ("173.234.31.186", "webmaster") in pairs and ("52.80.34.196", "test9") in pairs
    assert ("112.95.230.3", "root") in pairs
    # "message repeated 5 times: [ Failed password for root …]" is five more failures on that line
    rep = [e for e in evs if "#" in e["source_line"]]
    assert rep and all(e["reason"] == "bad_password" for e in rep)
    # the one invalid user that never got a Failed line (pid 24417) still counts
    assert ("185.190.58.151", "123") in pairs
    assert sum(1 for e in evs if e["reason"] == "invalid_user") >= 1


def test_real_loghub_linux_pam_only():
    evs, acct = read(REAL / "loghub_linux_2k_head300.log", year=2005)
    # sshd(pam_unix) wrote every failure here and sshd no Failed line: each counts once
    assert (acct.failures, acct.successes) == (51, 0)
    pairs = {}
    for e in evs:
        pairs[(e["ip"], e["account"])] = pairs.get((e["ip"], e["account"]), 0) + 1
    assert pairs[("218.22.3.51", "root")] == 9 and pairs[("209.152.168.249", "guest")] == 10
    assert pairs[("218.188.2.4", "(unknown)")] == 14
    # UseDNS: 68 failures name a host, not an address: malformed, each with its reason and line
    assert acct.malformed == 68 and acct.samples[0]["field"] == "rhost" and "UseDNS" in acct.samples[0]["reason"]
    assert acct.status == "ok" and acct.not_login["other_program"] >= 119


def test_real_beats_auth_log():
    evs, acct = read(REAL / "beats_auth_test.log", year=2016)
    got = sorted((e["ip"], e["account"], e["result"]) for e in evs)
    assert got == [("10.0.2.2", "test", "failure"), ("10.0.2.2", "vagrant", "success"),
                   ("192.168.33.1", "vagrant", "success"), ("216.160.83.57", "root", "failure")]
    assert acct.malformed == 0 and acct.not_login["other_program"] == 5


def test_real_beats_timestamps_other_programs_only():
    evs, acct = read(REAL / "beats_auth_timestamp.log")
    assert evs == [] and acct.lines == 2 and acct.not_login["other_program"] == 2 and acct.status == "ok"


def test_real_iis_and_nginx_files_are_accounted_line_by_line():
    evs, acct = read(REAL / "beats_iis_test.log")
    assert detect(REAL / "beats_iis_test.log") == "iis"
    assert evs == [] and acct.not_login["w3c_directive"] == 12 and acct.not_login["not_login_record"] == 3
    # the last two lines do not fit the last #Fields directive: malformed, with the count that was expected
    assert acct.malformed == 2 and [s["line"] for s in acct.samples] == [16, 17]
    assert "expected 22 fields" in acct.samples[0]["reason"]
    evs, acct = read(REAL / "beats_nginx_test.log")
    assert detect(REAL / "beats_nginx_test.log") == "combined"
    assert evs == [] and acct.lines == 7 and acct.not_login["not_login_record"] == 7 and acct.malformed == 0


# ---------------------------------------------------------------- hostile lines: attributed to the real source
def test_hostile_lines_attributed_to_the_real_source(tmp_path):
    p = tmp_path / "auth.log"
    long = "a" * 300
    lines = [
        "Dec 30 10:00:00 core1 sshd[1]: Failed password for invalid user x from 6.6.6.6 port 22 ssh2 from 203.0.113.50 port 4242 ssh2",
        "Dec 30 10:00:01 core1 sshd[2]: Failed password for invalid user a#012Dec 30 10:00:01 core1 sshd[9]: Accepted password "
        "for root from 6.6.6.6 port 22 ssh2 from 203.0.113.51 port 4243 ssh2",
        "Dec 30 10:00:02 core1 sshd[3]: Invalid user y from 6.6.6.6 from 203.0.113.52 port 1",
        f"Dec 30 10:00:03 core1 sshd[4]: Failed password for invalid user {long} from 203.0.113.53 port 5 ssh2",
        "Dec 30 10:00:04 core1 sshd[5]: Failed password for invalid user \u202eknil from 203.0.113.54 port 6 ssh2",
        "Dec 30 10:00:05 core1 sshd[6]: Failed password for invalid user nul\x00name from 203.0.113.55 port 7 ssh2",
        "Dec 30 10:00:06 core1 sshd[7]: Failed password for invalid user b",     # a line break cut it
        "from 6.6.6.6 port 22 ssh2",
    ]
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    evs, acct = read(p, year=2024)
    by_ip = {e["ip"]: e for e in evs}
    assert "6.6.6.6" not in by_ip and all(e["result"] == "failure" for e in evs)
    assert by_ip["203.0.113.50"]["account"] == "x from 6.6.6.6 port 22 ssh2"
    assert by_ip["203.0.113.51"]["account"].startswith("a#012Dec 30") and by_ip["203.0.113.51"]["source_line"] == "2"
    assert by_ip["203.0.113.52"]["account"] == "y from 6.6.6.6"
    assert len(by_ip["203.0.113.53"]["account"]) == 256 and "truncated" in by_ip["203.0.113.53"]["flags"]
    assert by_ip["203.0.113.54"]["account"] == "\\u202eknil" and "escaped" in by_ip["203.0.113.54"]["flags"]
    assert by_ip["203.0.113.55"]["account"] == "nul\\x00name" and by_ip["203.0.113.55"]["source_line"] == "6"
    # the cut line: its first half is an sshd Failed line without an address, its second half no syslog line
    assert acct.malformed == 2 and sorted(s["line"] for s in acct.samples) == [7, 8]
    assert acct.flagged["escaped"] == 2 and acct.flagged["truncated"] == 1


def test_hostile_journal_messages(tmp_path):
    p = tmp_path / "journal.json"
    msgs = [
        ("Failed password for invalid user a\nDec 30 core1 sshd[9]: Accepted password for root from 6.6.6.6 port 22 "
         "ssh2 from 203.0.113.60 port 1 ssh2"),
        list(b"Failed password for invalid user z\x00\xff from 203.0.113.61 port 2 ssh2"),
        {"not": "a message"},
    ]
    with p.open("w", encoding="utf-8") as f:
        for i, m in enumerate(msgs):
            f.write(json.dumps({"__REALTIME_TIMESTAMP": str(1735600000000000 + i), "SYSLOG_IDENTIFIER": "sshd",
                                "_PID": "5", "MESSAGE": m}) + "\n")
        f.write('{"__REALTIME_TIMESTAMP": "1735600000000009", "SYSLOG_IDENTIFIER": "sshd", "MESSAGE": "Acc')
    evs, acct = read(p)
    assert [(e["ip"], e["account"]) for e in evs] == [
        ("203.0.113.60", "a\\x0aDec 30 core1 sshd[9]: Accepted password for root from 6.6.6.6 port 22 ssh2"),
        ("203.0.113.61", "z\\x00\\xff"),  # \\xff: the byte journald could not decode, as text
    ]
    assert [(s["line"], s["field"]) for s in acct.samples] == [(3, "MESSAGE"), (4, "json")]


# ---------------------------------------------------------------- accounting, loss, exit codes
def test_empty_unreadable_and_mostly_malformed_files(tmp_path):
    from typer.testing import CliRunner

    from ccinspect.cli import app

    _write_text(tmp_path / "a-good.log", "bsd")
    (tmp_path / "b-empty.log").write_bytes(b"")
    (tmp_path / "c-binary.log").write_bytes(bytes(range(256)) * 40)
    bad = tmp_path / "d-mostly-bad.log"
    bad.write_text(ENVELOPES["bsd"](T0, "sshd", 1, SESSION[0][3]) + "\n" + "garbage\n" * 3, encoding="utf-8")
    roster = tmp_path / "roster.csv"
    roster.write_text("account\nroot\nops\n", encoding="utf-8")
    out = tmp_path / "out"
    r = CliRunner().invoke(app, ["logins", "scan", str(tmp_path / "*.log"), "--customers", str(roster),
                                 "--year", "2024", "--out", str(out), "--format", "json", "-q"])
    assert r.exit_code == 3, r.output
    data = json.loads((out / "alerts.json").read_text())
    st = {Path(i["file"]).name: i for i in data["accounting"]}
    assert st["a-good.log"]["status"] == "ok" and st["a-good.log"]["failures"] == 10
    assert st["b-empty.log"]["status"] == "empty" and "empty file" in st["b-empty.log"]["warnings"][0]
    assert st["c-binary.log"]["status"] == "unreadable" and st["c-binary.log"]["error"]["message_id"] == "text.binary"
    assert st["d-mostly-bad.log"]["status"] == "partial" and st["d-mostly-bad.log"]["lost"] == 3
    assert "--input-format" in st["d-mostly-bad.log"]["warnings"][0]
    assert data["partial"] is True and data["summary"]["events"] >= 12
    run = json.loads((out / "run.json").read_text())
    assert run["partial"] is True and len(run["accounting"]) == 4
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "<td>d-mostly-bad.log</td>" not in page  # full paths, as given
    assert f"<td>{bad}</td><td>sshd</td><td>partial</td>" in page and "unreadable" in page


def test_input_format_overrides_detection(tmp_path):
    p = tmp_path / "mixed.log"
    # looks like canonical JSON Lines at first, but the user says it is a journal export
    p.write_text('{"ts": "2024-12-31T10:00:00", "account": "a", "ip": "1.2.3.4", "result": "failure"}\n', encoding="utf-8")
    assert detect(p) == "jsonl"
    evs, acct = read(p)
    assert len(evs) == 1 and acct.detected_by == "content"
    evs, acct = read(p, fmt="journaljson")
    assert evs == [] and acct.detected_by == "option" and acct.not_login["other_program"] == 1


def test_every_line_malformed_never_exits_0(tmp_path):
    from typer.testing import CliRunner

    from ccinspect.cli import app

    p = tmp_path / "auth.log"
    p.write_text("Dec 30 10:00:00 core1 sshd[1]: Failed password for root from 999.1.1.1 port 1 ssh2\n" * 3)
    roster = tmp_path / "roster.csv"
    roster.write_text("account\nroot\n", encoding="utf-8")
    r = CliRunner().invoke(app, ["logins", "scan", str(p), "--customers", str(roster), "-q", "--format", "json"])
    assert r.exit_code == 3
    assert json.loads(r.stdout)["accounting"][0]["malformed"] == 3


def test_damaged_bytes_are_counted_at_their_line(tmp_path):
    p = tmp_path / "auth.log"
    good = ENVELOPES["bsd"](T0, "sshd", 1, SESSION[0][3]).encode()
    p.write_bytes(good + b"\n" + good[:20] + b"\xff\xfe broken\n" + good + b"\n")
    evs, acct = read(p, year=2024)
    assert len(evs) == 2 and acct.damaged_lines == 1 and acct.damage[0].startswith("2:")
    assert acct.status == "partial"


def test_all_inputs_unreadable_is_bad_input(tmp_path):
    from ccinspect.detection.adapters import prepare

    p = tmp_path / "x.bin"
    p.write_bytes(bytes(range(256)) * 10)
    with pytest.raises(InputError, match="not a text file"):
        prepare(expand([str(p)]), tmp_path / "w", Problems())


# ---------------------------------------------------------------- time zone and future events
def test_timezone_and_future_events(tmp_path):
    p = tmp_path / "auth.log"
    p.write_text("Jan  2 11:00:00 core1 sshd[1]: Failed password for root from 203.0.113.9 port 1 ssh2\n"
                 "Jan  2 23:00:00 core1 sshd[2]: Failed password for root from 203.0.113.9 port 2 ssh2\n"
                 "2025-01-02T11:59:00Z core1 sshd[3]: Failed password for root from 203.0.113.9 port 3 ssh2\n")
    evs, acct = read(p, year=2025, tz=ZoneInfo("UTC"))
    assert [e["ts"] for e in evs] == ["2025-01-02T11:00:00+00:00", "2025-01-02T23:00:00+00:00",
                                      "2025-01-02T11:59:00+00:00"]
    # the run is at 12:00 Taipei = 04:00 UTC: the last two are dated after it
    assert [("future" in e["flags"]) for e in evs] == [True, True, True]
    evs, acct = read(p, year=2025)  # Asia/Taipei by default
    assert evs[0]["ts"] == "2025-01-02T11:00:00+08:00"
    assert [("future" in e["flags"]) for e in evs] == [False, True, True] and acct.future == 2
    assert any("after the run" in w for w in acct.warnings)


def test_truncated_gzip_is_damaged_and_the_lines_before_are_kept(tmp_path):
    import gzip

    text = "".join(ENVELOPES["bsd"](T0 + timedelta(seconds=i), "sshd", 100 + i,
                                    f"Failed password for u{i} from 203.0.113.{i % 250} port {1000 + i} ssh2") + "\n"
                   for i in range(2000))
    whole = gzip.compress(text.encode())
    p = tmp_path / "auth.log.1.gz"
    p.write_bytes(whole[: len(whole) // 2])  # the rotation was cut short
    evs, acct = read(p, year=2024)
    assert 0 < len(evs) < 2000 and acct.damaged_lines == 1 and acct.status == "partial"
    assert "compressed data ends or is corrupt" in acct.damage[0]
    assert [e["source_line"] for e in evs[:3]] == ["1", "2", "3"]


def test_canonical_csv_every_row_bad_beyond_the_located_sample_is_partial(tmp_path):
    from ccinspect.detection.pipeline import scan_files

    p = tmp_path / "day.csv"
    p.write_text("ts,account,ip,result\n" + "yesterday,A1,1.2.3.4,failure\n" * 1500
                 + "2024-12-10T09:00:00,A1,1.2.3.4,failure\n", encoding="utf-8")
    roster = tmp_path / "roster.csv"
    roster.write_text("account\nA1\n", encoding="utf-8")
    run = scan_files([str(p)], roster, hash_inputs=False, threads=1)
    (acct,) = run.result.problems.files.values()
    assert (acct.lines, acct.malformed, acct.events) == (1502, 1500, 1)
    assert acct.status == "partial" and run.partial
