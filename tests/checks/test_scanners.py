"""Scanner readers on real reports written by the scanners (tests/checks/data/scanners, see its README)."""

import datetime as dt
from pathlib import Path

import pytest
from tests.checks.conftest import run, write

from ccinspect.checks.model import EvidenceError
from ccinspect.checks.scanners import read_nmap, read_scan_report

DATA = Path(__file__).parent / "data" / "scanners"


def read(name, entered=None):
    return read_scan_report(DATA / name, name, entered)


def one(name, entered=None):
    scans = read(name, entered)
    assert len(scans) == 1, [s.date for s in scans]
    return scans[0]


def test_greenbone_xml_and_csv_agree():
    x, c = one("openvas_report_detail_v2.xml"), one("openvas_report_detail_v2.csv")
    assert x.scanner == c.scanner == "greenbone"
    assert x.hosts == c.hosts == {"10.99.99.99"}
    assert [(f.vuln_id, f.level, f.severity) for f in x.findings] == \
        [(f.vuln_id, f.level, f.severity) for f in c.findings] == [("1.3.6.1.4.1.25623.1.0.836484", "high", 9.8)]
    assert x.date == dt.date(2025, 8, 22)  # 15:01 CEST is 21:01 in Taipei, same day
    s = one("openvas_one_vuln.xml")
    assert s.date == dt.date(2023, 9, 28) and s.findings[0].level == "high"
    assert one("openvas_no_vuln.xml").findings == []


def test_greenbone_detection_block_is_no_finding(tmp_path):
    """gvmd with details=1 nests <detection><result> (the product detection relied on) inside a result."""
    text = (DATA / "openvas_report_detail_v2.xml").read_text(encoding="utf-8")
    detection = ('<detection><result id="3a2e0474-df40-42a7-baeb-bc52212abeac"><details><detail><name>product'
                 '</name><value>cpe:/o:microsoft:windows</value></detail><detail><name>source_oid</name><value>'
                 '1.3.6.1.4.1.25623.1.0.103621</value></detail></details></result></detection>')
    assert text.count("<nvt oid=") == 1
    text = text.replace("<nvt oid=", detection + "<nvt oid=", 1)
    p = tmp_path / "gmp.xml"
    p.write_text(text, encoding="utf-8")
    s = read_scan_report(p, "gmp.xml")[0]
    assert [f.vuln_id for f in s.findings] == ["1.3.6.1.4.1.25623.1.0.836484"]


def test_nessus_v2_dates_in_taipei_and_one_finding_per_plugin():
    s = one("nessus_many_vuln.nessus")
    assert s.scanner == "nessus" and len(s.hosts) == 1
    # 7 ReportItems, one plugin reported on two ports: 6 findings
    raw = (DATA / "nessus_many_vuln.nessus").read_text(encoding="utf-8").count("<ReportItem ")
    assert raw == 7 and len(s.findings) == 6
    assert s.date == dt.date(2013, 6, 25)  # HOST_START "Tue Jun 25 10:32:42 2013", no offset: local


def test_nessus_timestamp_wins_and_is_taipei(tmp_path):
    # 2024-05-19 23:30 UTC is 07:30 on 2024-05-20 in Taipei
    epoch = int(dt.datetime(2024, 5, 19, 23, 30, tzinfo=dt.UTC).timestamp())
    p = tmp_path / "t.nessus"
    p.write_text('<NessusClientData_v2><Report><ReportHost name="web1"><HostProperties>'
                 f'<tag name="HOST_START">Sun May 19 23:30:00 2024</tag><tag name="HOST_START_TIMESTAMP">{epoch}</tag>'
                 '</HostProperties></ReportHost></Report></NessusClientData_v2>', encoding="utf-8")
    assert read_scan_report(p, "t.nessus")[0].date == dt.date(2024, 5, 20)


def test_tenable_was_iso_host_start_with_fraction_and_offset():
    s = one("nessus_was_one_vuln.nessus")
    assert s.date == dt.date(2021, 3, 12)  # 2021-03-12T12:34:30.12031+00:00 → 20:34 in Taipei
    assert [(f.vuln_id, f.level) for f in s.findings] == [("98104", "high")]


def test_nessus_csv_needs_an_entered_date():
    with pytest.raises(EvidenceError) as e:
        read("nessus_was_one_vuln.csv")
    assert e.value.field == "(scan date)" and "enter the date" in e.value.message
    s = one("nessus_was_one_vuln.csv", dt.date(2021, 3, 12))
    assert s.scanner == "nessus" and [(f.host, f.vuln_id, f.level) for f in s.findings] == \
        [("google.com", "98104", "high")]


def test_tenable_sc_csv():
    s = one("tenable_sc_issue_9612.csv")
    assert s.scanner == "tenable.sc" and s.date == dt.date(2024, 2, 20)  # Feb 19 21:01 UTC → Feb 20 in Taipei
    assert {f.level for f in s.findings} == {"critical"} and s.findings[0].severity == 10.0
    many = read("tenable_sc_many_vuln.csv")
    assert {s.scanner for s in many} == {"tenable.sc"} and sum(len(s.findings) for s in many) == 4


def test_tenable_io_csv():
    scans = read("tenable_io_many_vuln.csv")
    assert {s.scanner for s in scans} == {"tenable.io"}
    assert {s.date for s in scans} == {dt.date(2023, 6, 8)}
    assert sum(len(s.findings) for s in scans) == 9


def test_qualys_xml_with_doctype():
    s = one("qualys_scan_1.xml")
    assert s.scanner == "qualys" and s.hosts == {"10.1.10.1"} and s.date == dt.date(2019, 4, 2)
    assert [(f.vuln_id, f.level) for f in s.findings] == [("123168", "critical")]
    e = one("qualys_empty.xml")  # ASSET_DATA_REPORT with DOCTYPE, no findings
    assert e.findings == [] and e.date == dt.date(2021, 3, 25)


def test_qualys_csv_vm_pci_and_vmdr():
    vm = read("qualys_Qualys_Sample_Report.csv")
    assert {s.scanner for s in vm} == {"qualys"} and sum(len(s.findings) for s in vm) == 6
    assert {f.level for s in vm for f in s.findings} == {"critical"}  # Qualys severity 5
    pci = one("qualys_monthly_pci_issue6932.csv")
    assert pci.date == dt.date(2022, 9, 22) and pci.findings[0].level == "medium"
    vmdr = one("qualys_vmdr_one_vuln_qid.csv")  # three preamble lines above the header
    assert vmdr.hosts == {"10.0.0.1"} and vmdr.findings[0].vuln_id == "100269"
    many = read("qualys_vmdr_many_vulns_qid.csv")
    assert "2001:db8::1" in {h for s in many for h in s.hosts}  # an IPv6-only asset


def test_nexpose_xml():
    s = one("nexpose_dns.xml")
    assert s.scanner == "nexpose" and s.date == dt.date(2021, 2, 28)
    assert {f.level for f in s.findings} == {"info", "medium"} and len(s.findings) == 3


def test_nmap_xml_hosts_and_open_ports():
    n = read_nmap(DATA / "nmap_multiple_port.xml", "nmap.xml")
    assert n.date == dt.date(2016, 5, 17)
    assert [h.address for h in n.hosts] == ["198.38.82.159"]
    ports = [(p.port, p.service) for _, p in n.open_ports()]
    assert (21, "ftp") in ports and len(ports) >= 5
    with pytest.raises(EvidenceError, match="no vulnerability scan"):
        read("nmap_1port.xml")


def test_same_host_and_plugin_on_two_ports_counts_once_at_highest(ev):
    write(ev, "vulnscan/reports/s.csv", "scan_date,host,vuln_id,name,severity,port\n"
          "2024-05-01,h1,V1,x,5.0,80\n2024-05-01,h1,V1,x,9.1,443\n2024-05-01,h2,V1,x,7.5,443\n")
    checks, _ = run("vulnscan", ev)
    facts = checks["high_findings"].facts
    assert sorted(f.subject for f in facts) == ["h1", "h2"]
    assert "CVSS 9.1" in next(f.message for f in facts if f.subject == "h1")


def test_interval_per_host_and_inventory_hosts_never_scanned(ev):
    write(ev, "vulnscan/reports/a.csv", "scan_date,host,vuln_id,name,severity\n"
          "2023-10-01,web1,,,\n2023-10-01,db1,,,\n2024-03-01,web1,,,\n")
    write(ev, "assets/inventory.csv", "asset_id,name,type,owner,ip\nA1,web,server,E1,web1\nA2,db,server,E1,db1\n"
          "A3,mail,server,E1,mail1\n")
    checks, _ = run("vulnscan", ev)
    msgs = [f.message for f in checks["scan_interval"].facts]
    assert any(m.startswith("mail1: in the inventory but in no scan") for m in msgs)
    assert any(m.startswith("db1: latest scan 2023-10-01") for m in msgs)  # left out for 8 months
    assert not any(m.startswith("web1") for m in msgs)


def test_fixed_needs_a_later_scan_without_it(ev):
    write(ev, "vulnscan/reports/a.csv", "scan_date,host,vuln_id,name,severity\n"
          "2024-03-01,h1,V1,x,9.0\n2024-03-01,h2,V2,x,9.0\n2024-05-01,h1,,,\n")
    write(ev, "vulnscan/remediation.csv", "host,vuln_id,status,date,approved_by\n"
          "h1,V1,fixed,2024-04-01,\nh2,V2,fixed,2024-04-01,\n")
    checks, _ = run("vulnscan", ev)
    facts = checks["high_findings"].facts
    assert {f.subject for f in facts} == {"h2"} and any("not rescanned" in f.message for f in facts)


def test_one_bad_report_does_not_hide_the_others(ev):
    write(ev, "vulnscan/reports/good.csv", (DATA / "tenable_sc_issue_9612.csv").read_text(encoding="utf-8"))
    write(ev, "vulnscan/reports/bad.xml", "<report><results><result>")
    checks, rec = run("vulnscan", ev, as_of=dt.date(2024, 3, 1))
    assert rec["status"] == "partial" and rec["errors"][0]["file"] == "vulnscan/reports/bad.xml"
    hf = checks["high_findings"]
    assert hf.status.value == "fail" and hf.unusable[0]["file"] == "vulnscan/reports/bad.xml"
    assert len(hf.facts) == 2 and all("critical 73756" in f.message for f in hf.facts)


def test_unreadable_remediation_records_give_no_verdict_on_findings(ev):
    write(ev, "vulnscan/reports/good.csv", (DATA / "tenable_sc_issue_9612.csv").read_text(encoding="utf-8"))
    write(ev, "vulnscan/remediation.csv", "host,vuln_id,status,date\n2.3.4.5,73756,someday,2024-01-01\n")
    checks, rec = run("vulnscan", ev, as_of=dt.date(2024, 3, 1))
    hf = checks["high_findings"]
    assert hf.status.value == "error" and hf.facts == []  # not "no risk assessment" for every finding
    assert hf.unusable[0]["file"] == "vulnscan/remediation.csv"
    assert checks["scan_interval"].status.value == "pass"  # the reports were still read
