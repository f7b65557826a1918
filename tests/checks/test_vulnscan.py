from tests.checks.conftest import AS_OF, run, write

GVM = """<?xml version="1.0" encoding="UTF-8"?>
<report id="r1" format_id="a994b278-1f62-11e1-96ac-406186ea4fc5" extension="xml">
  <report id="r1">
    <scan_start>{date}T01:00:12Z</scan_start>
    <results start="1" max="10">
{results}
    </results>
    <host><ip>10.0.0.1</ip></host>
    <host><ip>10.0.0.2</ip></host>
  </report>
</report>
"""
RESULT = """      <result id="x"><name>{name}</name><host>{host}<hostname>h</hostname></host><port>22/tcp</port>
        <nvt oid="{oid}"><name>{name}</name><cvss_base>{sev}</cvss_base></nvt>
        <threat>{threat}</threat><severity>{sev}</severity></result>"""

NESSUS = """<?xml version="1.0" ?>
<NessusClientData_v2><Report name="q">
<ReportHost name="10.0.0.1"><HostProperties><tag name="HOST_START">{start}</tag></HostProperties>
{items}
</ReportHost>
<ReportHost name="10.0.0.2"><HostProperties><tag name="HOST_START">{start}</tag></HostProperties>
</ReportHost></Report></NessusClientData_v2>
"""
ITEM = ('<ReportItem port="443" svc_name="www" protocol="tcp" severity="{sev}" pluginID="{pid}" '
        'pluginName="{name}" pluginFamily="General"><risk_factor>High</risk_factor></ReportItem>')


def _gvm(date, results=()):
    return GVM.format(date=date, results="\n".join(RESULT.format(**r) for r in results))


def test_fixed_and_rescanned_passes(ev):
    high = {"name": "OpenSSH RCE", "host": "10.0.0.1", "oid": "1.3.6.1.4.1.25623.1.0.1", "sev": "9.8",
            "threat": "High"}
    write(ev, "vulnscan/reports/a.xml", _gvm("2024-01-10", [high]))
    write(ev, "vulnscan/reports/b.nessus", NESSUS.format(start="Mon May 20 10:02:44 2024", items=""))
    checks, rec = run("vulnscan", ev)
    assert rec["status"] == "ran"
    assert checks["scan_interval"].status.value == "pass"
    hf = checks["high_findings"]
    assert hf.status.value == "pass" and hf.summary.startswith("1 high/critical finding(s) fixed and rescanned")


def test_open_high_without_assessment_fails_and_acceptance_passes(ev):
    write(ev, "vulnscan/reports/b.nessus", NESSUS.format(
        start="Mon May 20 10:02:44 2024", items=ITEM.format(sev=3, pid=42873, name="SWEET32")))
    checks, _ = run("vulnscan", ev)
    f = checks["high_findings"].facts
    assert len(f) == 1 and f[0].subject == "10.0.0.1" and "42873" in f[0].message and f[0].date == "2024-05-20"
    write(ev, "vulnscan/remediation.csv", "host,vuln_id,status,date,approved_by\n"
                                         "10.0.0.1,42873,accepted,2024-06-01,CISO\n")
    checks, _ = run("vulnscan", ev)
    assert checks["high_findings"].status.value == "pass"
    # Marked fixed, yet the latest scan (before the fix date) still shows it: fails twice over.
    write(ev, "vulnscan/remediation.csv", "host,vuln_id,status,date,approved_by\n"
                                         "10.0.0.1,42873,fixed,2024-06-01,\n")
    checks, _ = run("vulnscan", ev)
    msgs = [x.message for x in checks["high_findings"].facts]
    assert any("although marked fixed" in m for m in msgs) and any("not rescanned" in m for m in msgs)


def test_scan_interval_gaps_and_staleness(ev):
    write(ev, "vulnscan/reports/s.csv", "scan_date,host,vuln_id,name,severity\n"
                                       "2022-09-01,10.0.0.1,,,\n2023-08-01,10.0.0.1,,,\n"
                                       "2023-11-30,10.0.0.1,CVE-1,x,medium\n")
    checks, _ = run("vulnscan", ev)
    msgs = [f.message for f in checks["scan_interval"].facts]
    assert any("latest scan 2023-11-30 is more than 6 months before 2024-06-30" in m for m in msgs)
    assert any("between scans 2022-09-01 and 2023-08-01" in m for m in msgs)
    assert checks["high_findings"].status.value == "pass"  # a medium is not a high


def test_malformed_xml_names_the_line(ev):
    write(ev, "vulnscan/reports/a.xml", "<report>\n<report>\n<scan_start>2024-01-01</scan_start>\n</reprt>\n")
    checks, rec = run("vulnscan", ev)
    assert rec["error"]["file"] == "vulnscan/reports/a.xml" and rec["error"]["line"] == 4
    assert rec["error"]["field"] == "(xml)"
    assert {c.status.value for c in checks.values()} == {"error"}


def test_entity_expansion_is_refused(ev):
    bomb = ('<?xml version="1.0"?>\n<!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>\n'
            '<report><scan_start>&b;</scan_start></report>\n')
    write(ev, "vulnscan/reports/a.xml", bomb)
    _, rec = run("vulnscan", ev)
    assert rec["status"] == "error" and "refused" in rec["error"]["message"]


def test_bad_nessus_severity_and_csv_cvss(ev):
    write(ev, "vulnscan/reports/b.nessus", NESSUS.format(
        start="Mon May 20 10:02:44 2024", items=ITEM.format(sev=7, pid=1, name="x")))
    _, rec = run("vulnscan", ev)
    assert rec["error"]["field"] == "ReportItem@severity"
    (ev / "vulnscan/reports/b.nessus").unlink()
    write(ev, "vulnscan/reports/s.csv", "scan_date,host,vuln_id,name,severity\n2024-05-01,h,V1,x,12\n")
    _, rec = run("vulnscan", ev)
    assert (rec["error"]["line"], rec["error"]["field"]) == (2, "severity")


TESTS = "kind,date,provider,scope,open_high,remediation_due\n"
ALL_AREAS = ("network_architecture;network_malicious_activity;endpoint_malicious_activity;"
             "server_malicious_activity;directory_server_settings;firewall_settings")


def test_pentest_and_health_check_by_tier(ev):
    write(ev, "vulnscan/security_tests.csv", TESTS + f"pentest,2023-03-01,X,web,0,\nhealth_check,2023-02-01,X,{ALL_AREAS},0,\n")
    checks, _ = run("security_tests", ev, tier=3)  # health check, tier 3: every two years
    assert checks["health_check"].status.value == "pass"
    # Penetration tests: the text says only 定期; ccinspect proposes yearly for every tier.
    assert checks["penetration_test"].status.value == "fail"
    checks, _ = run("security_tests", ev, tier=1)  # tier 1: every year
    assert checks["penetration_test"].status.value == "fail"
    assert "more than 12 months" in checks["health_check"].facts[0].message
    write(ev, "vulnscan/security_tests.csv", TESTS + "pentest,2024-03-01,X,web,3,\n"
                                                     "health_check,2024-02-01,X,network_architecture,0,\n")
    checks, _ = run("security_tests", ev, tier=1)
    assert "no remediation date" in checks["penetration_test"].facts[0].message
    assert "did not cover network_malicious_activity" in checks["health_check"].facts[0].message
    write(ev, "vulnscan/security_tests.csv", TESTS + "red_team,2024-03-01,X,web,0,\n")
    _, rec = run("security_tests", ev)
    assert (rec["error"]["line"], rec["error"]["field"]) == (2, "kind")


def test_fuzz_regression_nessus_time_and_dtd(tmp_path):
    from tests.checks.conftest import run, write

    write(tmp_path, "vulnscan/reports/a.nessus",
          '<NessusClientData_v2><Report><ReportHost name="web1"><HostProperties><tag name="HOST_START">'
          "99999999999999999</tag></HostProperties></ReportHost></Report></NessusClientData_v2>")
    _, rec = run("vulnscan", tmp_path)  # was OSError (Errno 75) from fromtimestamp: a crash
    assert rec["error"]["field"] == "HOST_START" and rec["error"]["file"] == "vulnscan/reports/a.nessus"
    # A DOCTYPE naming an external DTD is what Qualys writes: allowed, and the DTD is never fetched
    # (port 9 would refuse or hang); the report is then read and found to lack its date.
    write(tmp_path, "vulnscan/reports/a.nessus", '<!DOCTYPE r SYSTEM "http://127.0.0.1:9/x.dtd"><report/>')
    _, rec = run("vulnscan", tmp_path)
    assert rec["error"]["field"] == "scan_start"
    # An external entity is still refused.
    write(tmp_path, "vulnscan/reports/a.nessus",
          '<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><report><scan_start>&x;</scan_start></report>')
    _, rec = run("vulnscan", tmp_path)
    assert rec["error"]["field"] == "(xml)" and "refused" in rec["error"]["message"]


def test_assumed_pentest_interval_is_the_brokers_to_set(ev):
    from ccinspect.applicability import BrokerProfile
    from ccinspect.checks.rules import load_rules
    from ccinspect.checks.runner import Context, active_rules, match_files, registry, run_analyzer

    write(ev, "vulnscan/security_tests.csv", TESTS + "pentest,2023-03-01,X,web,0,\n")
    checks, _ = run("security_tests", ev, tier=2)
    pt = checks["penetration_test"]
    assert pt.status.value == "fail" and "assumption" in pt.facts[0].message
    spec = load_rules().analyzers["security_tests"]
    files = match_files(ev, spec)
    prof = BrokerProfile(capital=5_000_000_000, assumed_intervals={"security_tests.penetration_test": 24})
    ctx = Context("security_tests", spec, ev, files, active_rules(spec, files), AS_OF, 2, [], prof)
    got = {c.rule: c for c in run_analyzer("security_tests", registry()["security_tests"], ctx)[0]}
    assert got["penetration_test"].status.value == "pass"
    assert "broker's own interval" in got["penetration_test"].summary


def test_assumed_intervals_from_the_web_forms_lines():
    import pytest
    from pydantic import ValidationError

    from ccinspect.applicability import BrokerProfile

    p = BrokerProfile(capital=5_000_000_000, assumed_intervals="security_tests.penetration_test: 24\n\nbcp.drill_rto: 6")
    assert p.assumed_intervals == {"security_tests.penetration_test": 24, "bcp.drill_rto": 6}
    with pytest.raises(ValidationError, match="line 1"):
        BrokerProfile(capital=5_000_000_000, assumed_intervals="security_tests.penetration_test = two years")
