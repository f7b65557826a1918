"""Customer-facing systems: the documented mapping examples, the same web logins in each access-log format,
mapping validation errors, and `logins normalize`."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from typer.testing import CliRunner

from ccinspect.cli import app
from ccinspect.detection.adapters import InputError, detect
from ccinspect.detection.adapters.mapping import load_mapping

from .test_readers import read

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "logins-mappings"
TPE = ZoneInfo("Asia/Taipei")


def pairs(evs):
    return sorted((e["ip"], e["account"], e["result"]) for e in evs)


def test_example_trading_app_regex(tmp_path):
    m = load_mapping(EXAMPLES / "trading-app-regex.yaml")
    p = tmp_path / "login-service.log"
    p.write_text(
        "2024-12-10 09:00:01.123 INFO [LoginService] LOGIN_FAIL acct=A123456789 ip=61.216.3.4 ch=APP dev=iPhone15,2 reason=BAD_PASSWORD\n"
        "2024-12-10 09:00:02.000 WARN [OrderService] order 77 rejected\n"
        "java.lang.IllegalStateException: at com.broker.Order(Order.java:12)\n"
        "2024-12-10 09:00:05.456 INFO [LoginService] LOGIN_OK acct=A123456789 ip=61.216.3.4 ch=WEB dev=-\n"
        "2024-12-10 09:00:06.000 INFO [LoginService] LOGIN_FAIL acct=B987654321 ip=2001:db8::2 ch=API dev=bot reason=LOCKED\n"
        "2024-13-10 09:00:07.000 INFO [LoginService] LOGIN_FAIL acct=C1 ip=61.216.3.9 ch=APP dev=x reason=BAD\n",
        encoding="utf-8")
    evs, acct = read(p, mapping=m)
    assert pairs(evs) == [("2001:db8::2", "B987654321", "failure"), ("61.216.3.4", "A123456789", "failure"),
                          ("61.216.3.4", "A123456789", "success")]
    first = evs[0]
    assert (first["ts"], first["reason"], first["channel"], first["device_id"]) == (
        "2024-12-10T09:00:01+08:00", "BAD_PASSWORD", "APP", "iPhone15,2")
    assert acct.not_login["no_match"] == 2
    assert acct.malformed == 1 and acct.samples[0]["line"] == 6 and acct.samples[0]["field"] == "time"
    assert "regex per mapping trading-app-regex.yaml" in acct.samples[0]["reason"]


def test_example_db_extract_csv_in_cp950(tmp_path):
    m = load_mapping(EXAMPLES / "db-extract-csv.yaml")
    p = tmp_path / "logins.csv"
    rows = [["登入時間", "客戶帳號", "來源IP", "登入結果", "失敗原因", "登入管道", "裝置代號"],
            ["2024/12/10 09:00:01", "A123456789", "61.216.3.4", "失敗", "密碼錯誤", "APP", "D-77"],
            ["2024/12/10 09:00:09", "A123456789", "61.216.3.4", "成功", "", "APP", "D-77"],
            ["2024/12/10 09:01:00", "=HYPERLINK(\"x\")", "203.0.113.5", "失敗", "帳號不存在\n（多行）", "WEB", ""],
            ["2024/12/10 09:02:00", "B1", "203.0.113.5", "不明", "", "WEB", ""]]
    with p.open("w", encoding="cp950", newline="") as f:
        csv.writer(f).writerows(rows)
    evs, acct = read(p, mapping=m)
    assert acct.encoding == "cp950"
    assert pairs(evs) == [("203.0.113.5", "=HYPERLINK(\"x\")", "failure"), ("61.216.3.4", "A123456789", "failure"),
                          ("61.216.3.4", "A123456789", "success")]
    assert evs[0]["reason"] == "密碼錯誤" and evs[2]["source_line"] == "4"  # the quoted field spans lines 4-5
    assert acct.malformed == 1 and acct.samples[0]["line"] == 6 and "neither success nor failure" in acct.samples[0]["reason"]


def test_example_api_gateway_jsonl(tmp_path):
    m = load_mapping(EXAMPLES / "api-gateway-jsonl.yaml")
    p = tmp_path / "gw.jsonl"
    recs = [
        {"ts": 1733792401123, "route": "/v2/auth/login", "client": {"ip": "61.216.3.4"}, "body": {"user": "A1"}, "status": 401},
        {"ts": 1733792402123, "route": "/v2/quotes", "client": {"ip": "61.216.3.4"}, "body": {}, "status": 200},
        {"ts": 1733792403123, "route": "/v2/auth/login", "headers": {"x-real-ip": "203.0.113.8"},
         "body": {"account": "A2"}, "status": 200},
        {"ts": "soon", "route": "/v2/auth/login", "client": {"ip": "61.216.3.4"}, "body": {"user": "A1"}, "status": 401},
    ]
    p.write_text("".join(json.dumps(r) + "\n" for r in recs), encoding="utf-8")
    evs, acct = read(p, mapping=m)
    assert pairs(evs) == [("203.0.113.8", "A2", "success"), ("61.216.3.4", "A1", "failure")]
    assert evs[0]["ts"] == "2024-12-10T09:00:01.123000+08:00" and evs[0]["channel"] == "api"
    assert acct.not_login["not_login_record"] == 1 and acct.samples[0]["line"] == 4


# ---------------------------------------------------------------- the same web logins in every access-log format
WEB = [  # (seconds, ip, user or None, method, path, status)
    (0, "61.216.3.4", "A123456789", "POST", "/api/v1/login", 401),
    (1, "61.216.3.4", "A123456789", "POST", "/api/v1/login", 302),
    (2, "61.216.3.4", "A123456789", "GET", "/api/v1/quote", 200),
    (3, "2001:db8::7", "B2", "POST", "/signin", 403),
    (4, "203.0.113.9", None, "POST", "/login", 401),          # no account: an access log cannot say whose
    (5, "203.0.113.9", "admin", "GET", "/admin/", 401),         # HTTP authentication refused
    (6, "203.0.113.9", "C3", "POST", "/wp-login.php", 500),     # neither success nor failure
]
W0 = datetime(2024, 12, 10, 1, 0, 0, tzinfo=UTC)
WEB_EXPECTED = [("2001:db8::7", "B2", "failure"), ("203.0.113.9", "admin", "failure"),
                ("61.216.3.4", "A123456789", "failure"), ("61.216.3.4", "A123456789", "success")]


def _iis(path: Path) -> None:
    lines = ["#Software: Microsoft Internet Information Services 10.0", "#Version: 1.0",
             "#Date: 2024-12-10 01:00:00",
             "#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) "
             "cs(Referer) sc-status sc-substatus sc-win32-status time-taken"]
    for s, ip, user, meth, p, st in WEB:
        t = W0 + timedelta(seconds=s)
        lines.append(f"{t:%Y-%m-%d %H:%M:%S} 10.0.0.5 {meth} {p} - 443 {user or '-'} {ip} "
                     f"Mozilla/5.0+(Windows+NT+10.0) - {st} 0 0 15")
    path.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")


def _combined(path: Path) -> None:
    lines = []
    for s, ip, user, meth, p, st in WEB:
        t = (W0 + timedelta(seconds=s)).astimezone(TPE)
        lines.append(f'{ip} - {user or "-"} [{t:%d/%b/%Y:%H:%M:%S %z}] "{meth} {p} HTTP/1.1" {st} 512 "-" "curl/8.5"')
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _webjson(path: Path) -> None:
    with path.open("w", encoding="utf-8") as f:
        for s, ip, user, meth, p, st in WEB:
            t = (W0 + timedelta(seconds=s)).astimezone(TPE)
            f.write(json.dumps({"time_iso8601": t.isoformat(), "remote_addr": ip, "remote_user": user or "",
                                "request": f"{meth} {p} HTTP/1.1", "status": st, "http_user_agent": "curl/8.5"}) + "\n")


@pytest.mark.parametrize(("fmt", "writer"), [("iis", _iis), ("combined", _combined), ("webjson", _webjson)])
def test_same_web_logins_in_every_access_log_format(tmp_path, fmt, writer):
    p = tmp_path / f"access.{fmt}"
    writer(p)
    assert detect(p) == fmt
    evs, acct = read(p)
    assert pairs(evs) == WEB_EXPECTED
    assert {datetime.fromisoformat(e["ts"]) for e in evs if e["account"] == "B2"} == {W0 + timedelta(seconds=3)}
    assert acct.not_login["login_without_account"] == 1 and acct.not_login["login_status_500"] == 1
    assert acct.not_login["not_login_record"] == 1 and acct.malformed == 0
    assert all(e["channel"] == "web" for e in evs)


def test_iis_mapping_overrides_login_and_results(tmp_path):
    m = load_mapping(EXAMPLES / "iis-trading-web.yaml")
    p = tmp_path / "u_ex241210.log"
    p.write_text(
        "#Software: Microsoft Internet Information Services 10.0\n#Version: 1.0\n"
        "#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) sc-status\n"
        "2024-12-10 01:00:00 10.0.0.5 POST /Trade/Login.aspx uid=A1 443 - 61.216.3.4 Mozilla/5.0 200\n"
        "2024-12-10 01:00:09 10.0.0.5 POST /Trade/Login.aspx uid=A1 443 - 61.216.3.4 Mozilla/5.0 302\n"
        "2024-12-10 01:00:10 10.0.0.5 GET /Trade/Login.aspx - 443 - 61.216.3.4 Mozilla/5.0 200\n", encoding="utf-8")
    evs, acct = read(p, mapping=m)
    assert [(e["account"], e["result"]) for e in evs] == [("A1", "failure"), ("A1", "success")]
    assert acct.not_login["not_login_record"] == 1 and acct.format == "mapping:iis"


# ---------------------------------------------------------------- mapping validation
@pytest.mark.parametrize(("text", "where"), [
    ("format: regex\nfields: {ts: t, account: a, ip: i, result: r}\n", "field (top): format regex needs 'pattern'"),
    ("format: regex\npattern: '(?P<t>x)'\nfields: {ts: t, account: a, ip: i, result: r}\n",
     "fields.account: the pattern has no group (?P<a>"),
    ("format: jsonl\nfields: {ts: t, ip: i, result: r}\n", "field fields.account: required"),
    ("format: jsonl\nfields: {ts: t, account: a, ip: i, result: r, user: u}\n", "field fields.user: not a canonical field"),
    ("format: jsonl\nfields: {ts: t, account: a, ip: i, result: r}\nresults: {success: []}\n",
     "field results: say which values mean success"),
    ("format: jsonl\nfields: {ts: t, account: a, ip: i, result: r}\nts_format: yesterday\n", "field ts_format: expected iso"),
    ("format: jsonl\nfields: {ts: t, account: a, ip: i, result: r}\ntimezone: Mars/Olympus\n", "unknown time zone"),
    ("format: csv\nheader: false\nfields: {ts: t, account: a, ip: i, result: r}\n", "needs 'columns'"),
    ("format: xml\nfields: {ts: t, account: a, ip: i, result: r}\n", "field format:"),
    ("format: jsonl\nfields: {ts: t, account: a, ip: i, result: r}\nlogin: {field: p, regex: '(['}\n",
     "not a valid regular expression"),
    ("format: jsonl\nfeilds: {}\n", "field feilds: not a mapping setting"),
    ("fields: [a\n", "line 2: not valid YAML"),
])
def test_mapping_errors_name_file_and_field(tmp_path, text, where):
    p = tmp_path / "map.yaml"
    p.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as exc:
        load_mapping(p)
    assert str(p) in str(exc.value) and where in str(exc.value)


def test_examples_in_docs_are_valid():
    names = sorted(q.name for q in EXAMPLES.glob("*.yaml"))
    assert len(names) == 4
    for n in names:
        assert load_mapping(EXAMPLES / n).fields


# ---------------------------------------------------------------- logins normalize
def test_normalize_csv_and_jsonl_with_sources(tmp_path):
    m = EXAMPLES / "db-extract-csv.yaml"
    p = tmp_path / "logins.csv"
    p.write_text("登入時間,客戶帳號,來源IP,登入結果,失敗原因,登入管道,裝置代號\n"
                 "2024/12/10 09:00:01,=cmd|' /C calc'!A0,61.216.3.4,失敗,密碼錯誤,APP,D-77\n"
                 "2024/12/10 09:00:09,A123456789,61.216.3.4,成功,,APP,D-77\n", encoding="utf-8-sig")
    out = tmp_path / "events.csv"
    r = CliRunner().invoke(app, ["logins", "normalize", str(p), "--mapping", str(m), "--out", str(out)])
    assert r.exit_code == 0, r.output
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert [(x["account"], x["result"], x["source_file"], x["source_line"]) for x in rows] == [
        ("'=cmd|' /C calc'!A0", "failure", str(p), "2"), ("A123456789", "success", str(p), "3")]
    assert rows[0]["ts"] == "2024-12-10T09:00:01+08:00"
    r = CliRunner().invoke(app, ["logins", "normalize", str(p), "--mapping", str(m), "--format", "jsonl",
                                 "--timezone", "UTC"])
    assert r.exit_code == 0
    evs = [json.loads(x) for x in r.stdout.splitlines()]
    assert evs[0]["account"] == "=cmd|' /C calc'!A0" and evs[0]["ts"] == "2024-12-10T09:00:01+00:00"
    assert evs[1]["source_line"] == "3"


def test_normalize_canonical_csv_names_lines_and_exits_partial_when_lost(tmp_path):
    p = tmp_path / "canon.csv"
    p.write_text("ts,account,ip,result\n2024-12-10T09:00:00,A1,1.2.3.4,failure\nbad,A1,1.2.3.4,failure\n"
                 "x,y,z,w\n2024-12-10T09:00:00,A1,1.2.3.4,maybe\n", encoding="utf-8")
    acc = tmp_path / "acc.json"
    r = CliRunner().invoke(app, ["logins", "normalize", str(p), "--accounting", str(acc)])
    assert r.exit_code == 3
    assert r.stdout.splitlines()[1].endswith(f"{p},2,")
    info = json.loads(acc.read_text())
    assert info["partial"] and info["accounting"][0]["malformed"] == 3 and info["accounting"][0]["status"] == "partial"
    r = CliRunner().invoke(app, ["logins", "normalize", str(tmp_path / "nothing*.log")])
    assert r.exit_code == 2 and "no file matches" in r.output
