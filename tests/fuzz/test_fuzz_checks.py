"""Evidence analyzers' file parsers through the runner: a malformed file errors only its analyzer,
with file, line and field (EvidenceError), and never as a crash (a Python exception with a trace)."""

from __future__ import annotations

import csv
import io

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.checks.conftest import run
from tests.fuzz.conftest import scratch

cell = st.one_of(
    st.sampled_from(["", "yes", "no", "enabled", "disabled", "core", "pentest", "health_check", "bcp", "ddos",
                     "passed", "failed", "professional", "awareness", "security", "high", "7.5", "-3", "1e999",
                     "nan", "2024-05-31", "113/05/31", "2024-02-30", "2024-05-31T10:00:00", "民國9年1月1日", "fixed",
                     "accepted", "in_progress", "audit", "firewall", "0x10", "12"]),
    st.dates().map(str), st.floats().map(str), st.text(max_size=15),
)
CSV_FILES = {
    "accounts": {"accounts/sys.csv": ["user", "name", "role", "privileged", "status", "created", "last_login",
                                      "owner_employee_id", "system"],
                 "hr/leavers.csv": ["employee_id", "leave_date"],
                 "approvals/privileged_accounts.csv": ["system", "user", "approved_by", "approved_on"]},
    "auditlogs": {"auditlogs/samples/a.csv": ["user", "time", "ip"],
                  "auditlogs/inventory.csv": ["system", "kind", "file", "first_date", "last_date", "system_since"]},
    "firewall": {"firewall/rule_reviews.csv": ["firewall", "review_date", "reviewer", "approved_by"],
                 "auditlogs/inventory.csv": ["system", "kind"]},
    "training": {"hr/staff.csv": ["employee_id", "name", "role", "start_date", "end_date", "uses_systems"],
                 "training/records.csv": ["employee_id", "course", "kind", "date", "hours", "assessment"],
                 "training/certificates.csv": ["employee_id", "certificate", "issued", "expires"]},
    "vulnscan": {"vulnscan/reports/s.csv": ["scan_date", "host", "vuln_id", "severity", "name"],
                 "vulnscan/remediation.csv": ["host", "vuln_id", "status", "date", "approved_by"]},
    "security_tests": {"vulnscan/security_tests.csv": ["kind", "date", "provider", "scope", "open_high",
                                                       "remediation_due"]},
    "bcp": {"bcp/drills.csv": ["date", "kind", "system", "result", "tolerable_interruption_min", "target_rto_min",
                               "achieved_rto_min", "target_rpo_min", "achieved_rpo_min"],
            "assets/inventory.csv": ["asset_id", "name", "type", "owner", "classification", "last_reviewed"]},
    "assets": {"assets/inventory.csv": ["asset_id", "name", "type", "owner", "classification", "last_reviewed",
                                        "classification_reviewed"]},
    "iot": {"iot/inventory.csv": ["device_id", "type", "inventory_updated", "default_password_changed",
                                  "firmware_updated", "compensating_control"]},
}


def _csv(cols: list[str], rows: list[list[str]], drop: int | None) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow([c for i, c in enumerate(cols) if i != drop])
    for r in rows:
        w.writerow(r)
    return buf.getvalue().encode("utf-8")


@st.composite
def csv_file(draw, cols: list[str]) -> bytes:
    if draw(st.integers(0, 9)) == 0:
        return draw(st.binary(max_size=200))
    drop = draw(st.one_of(st.none(), st.integers(0, len(cols) - 1))) if draw(st.integers(0, 4)) == 0 else None
    n = len(cols) - (drop is not None)
    rows = draw(st.lists(st.one_of(st.lists(cell, min_size=n, max_size=n), st.lists(cell, max_size=n + 2)),
                         max_size=6))
    return _csv(cols, rows, drop)


def _assert_clean(checks, rec, aid: str) -> None:
    assert rec["status"] in ("ran", "partial", "error", "skipped"), rec
    for err in rec.get("errors") or ([rec["error"]] if rec.get("error") else []):
        assert "trace" not in err, f"{aid} crashed: {err}"
        assert {"file", "line", "field", "message"} <= set(err) and err["file"] and err["field"], err
        assert set(err) <= {"file", "line", "field", "message", "message_id", "message_zh", "expected"}, err
    for c in checks.values():
        assert c.analyzer == aid


@pytest.mark.parametrize("aid", sorted(CSV_FILES))
@given(data=st.data())
def test_csv_evidence_errors_name_file_line_field(aid, data):
    with scratch() as root:
        for rel, cols in CSV_FILES[aid].items():
            if data.draw(st.integers(0, 5)) == 0 and len(CSV_FILES[aid]) > 1:
                continue  # a file missing: its rules turn manual
            p = root / rel
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(data.draw(csv_file(cols), label=rel))
        checks, rec = run(aid, root)
        _assert_clean(checks, rec, aid)


conf_value = st.one_of(st.integers(-10, 100).map(str), st.sampled_from(["", "0x1f", "08", "-", "yes", "9" * 30]),
                       st.text(st.characters(blacklist_characters="\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"),
                               max_size=12))
login_defs = st.lists(st.builds(lambda k, v: f"{k} {v}", st.sampled_from(
    ["PASS_MAX_DAYS", "PASS_MIN_DAYS", "PASS_MIN_LEN", "UMASK", "#", "ENCRYPT_METHOD"]), conf_value), max_size=6)
kv_conf = lambda keys: st.lists(st.one_of(  # noqa: E731
    st.builds(lambda k, v: f"{k} = {v}", st.sampled_from(keys), conf_value), st.sampled_from(keys), conf_value),
    max_size=6)
pam_args = st.lists(st.builds(lambda k, v: f"{k}={v}" if v is not None else k,
                              st.sampled_from(["minlen", "deny", "dcredit", "retry", "preauth", "x"]),
                              st.one_of(st.none(), conf_value.map(lambda s: s.replace(" ", "")))), max_size=3)
pam = st.lists(st.one_of(
    st.builds(lambda t, c, m, a: " ".join([t, c, m, *a]), st.sampled_from(["auth", "password", "-auth", "bogus"]),
              st.sampled_from(["required", "requisite", "[default=die success=ok]", "[broken", "include"]),
              st.sampled_from(["pam_pwquality.so", "pam_unix.so", "pam_faillock.so", "common-password", ""]), pam_args),
    st.just("@include common-auth"), conf_value), max_size=6)
secedit = st.lists(st.one_of(
    st.sampled_from(["[Unicode]", "[System Access]", "[Broken", "[Event Audit]"]),
    st.builds(lambda k, v: f"{k} = {v}", st.sampled_from(["MinimumPasswordLength", "PasswordComplexity",
                                                          "MaximumPasswordAge", "LockoutBadCount", "Other"]),
              conf_value),
    conf_value), max_size=8)


@given(login_defs, kv_conf(["minlen", "minclass", "dcredit", "ucredit", "enforce_for_root"]),
       kv_conf(["deny", "unlock_time", "silent"]), pam, secedit, st.sampled_from(["utf-8", "utf-16", "latin-1"]),
       st.sets(st.integers(0, 4), max_size=4))
def test_password_settings_files(defs, pwq, fl, pamlines, inf, enc, missing):
    files = {"linux/h1/etc/login.defs": defs, "linux/h1/etc/security/pwquality.conf": pwq,
             "linux/h1/etc/security/faillock.conf": fl, "linux/h1/etc/pam.d/common-password": pamlines,
             "windows/dc1.inf": inf}
    with scratch() as root:
        for i, (rel, lines) in enumerate(files.items()):
            if i in missing:
                continue
            p = root / rel
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes("\n".join(lines).encode(enc, errors="replace"))
        _assert_clean(*run("passwords", root), "passwords")


xml_text = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=20)


def _esc(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace('"', "&quot;")


openvas = st.builds(
    lambda start, results: f"<report><report><scan_start>{_esc(start)}</scan_start><results>" + "".join(
        f'<result id="r"><host>{_esc(h)}</host><nvt oid="{_esc(o)}"/><severity>{_esc(s)}</severity>'
        f"<threat>{_esc(t)}</threat></result>" for h, o, s, t in results) + "</results></report></report>",
    st.one_of(st.sampled_from(["2024-05-01T10:00:00Z", "", "yesterday"]), xml_text),
    st.lists(st.tuples(st.one_of(st.just("10.0.0.1"), xml_text), st.one_of(st.just("1.3.6.1"), xml_text),
                       st.one_of(st.sampled_from(["9.8", "", "high"]), xml_text),
                       st.sampled_from(["High", "Log", "", "x"])), max_size=4))
nessus = st.builds(
    lambda hosts: "<NessusClientData_v2><Report>" + "".join(
        f'<ReportHost name="{_esc(n)}"><HostProperties><tag name="HOST_START">{_esc(t)}</tag></HostProperties>'
        f'<ReportItem severity="{_esc(s)}" pluginID="1"><cvss3_base_score>{_esc(c)}</cvss3_base_score></ReportItem>'
        "</ReportHost>" for n, t, s, c in hosts) + "</Report></NessusClientData_v2>",
    st.lists(st.tuples(st.one_of(st.just("web1"), xml_text),
                       st.one_of(st.sampled_from(["Wed May  1 10:00:00 2024", "1714557600", "99999999999999999"]),
                                 xml_text),
                       st.sampled_from(["0", "3", "4", "9", ""]), st.one_of(st.just("9.1"), xml_text)), max_size=3))
hostile = st.sampled_from([
    '<!DOCTYPE report [<!ENTITY x "y">]><report><scan_start>&x;</scan_start></report>',
    '<!DOCTYPE r [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;&a;">]><report>&b;</report>',
    '<!DOCTYPE r SYSTEM "http://127.0.0.1:9/x.dtd"><report/>',
    '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY e SYSTEM "file:///etc/passwd">]><report>&e;</report>',
])


@given(st.one_of(openvas, nessus, hostile, st.binary(max_size=200)), st.sampled_from([".xml", ".nessus"]))
def test_scanner_xml_reports(doc, ext):
    with scratch() as root:
        p = root / "vulnscan" / "reports" / f"scan{ext}"
        p.parent.mkdir(parents=True)
        p.write_bytes(doc if isinstance(doc, bytes) else doc.encode("utf-8"))
        checks, rec = run("vulnscan", root)
        _assert_clean(checks, rec, "vulnscan")
        if isinstance(doc, str) and "<!ENTITY" in doc:  # hostile XML is refused, never expanded
            assert rec["status"] == "error" and rec["error"]["field"] == "(xml)", rec
            assert "refused" in rec["error"]["message"] or "not well-formed" in rec["error"]["message"], rec
        elif isinstance(doc, str) and "<!DOCTYPE" in doc:  # a DOCTYPE alone (Qualys, Nmap) is read, never fetched
            assert rec["status"] == "error" and rec["error"]["field"] == "scan_start", rec
