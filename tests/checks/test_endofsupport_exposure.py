"""End of support (inventory against the dated EOL table and the endangering-products list) and exposure
(real Nmap XML against the inventory's zones)."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

from tests.checks.conftest import run, write

AS_OF = dt.date(2025, 6, 30)
NMAP = Path(__file__).parent / "data" / "scanners"
INV = "asset_id,name,type,owner,classification,last_reviewed,ip,zone,allowed_ports,os,software,vendor,model,replacement_plan\n"


def test_end_of_support_and_listed_brands(ev):
    write(ev, "assets/inventory.csv", INV +
          "S1,orders,system,IT,core,2025-01-01,10.0.0.1,internal,,Windows Server 2012 R2 Standard,SQL Server 2019,,,\n"
          "S2,web,system,IT,core,2025-01-01,10.0.1.1,dmz,,CentOS Linux 7.9.2009,nginx 1.24,,,\n"
          "S3,report,system,IT,non-core,2025-01-01,10.0.0.3,internal,,Ubuntu 20.04 LTS,,,,2025Q4 升級至 24.04（簽呈 IT-2025-031）\n"
          "S4,desk,pc,IT,,2025-01-01,10.0.0.4,internal,,Windows 10 Pro 22H2,,,,\n"
          "S5,cam,device,總務,,2025-01-01,10.0.0.5,internal,,,,Hikvision,DS-2CD2143,\n"
          "S6,db,system,IT,core,2025-01-01,10.0.0.6,internal,,Oracle Linux 9,Oracle Database 11g R2; Tomcat 9,,,\n")
    checks, rec = run("end_of_support", ev, AS_OF)
    eos = checks["end_of_support"]
    assert eos.status.value == "fail"
    msgs = {f.subject: f.message for f in eos.facts}
    assert set(msgs) == {"S1", "S2", "S6"}  # S3 has a plan, S4 ends in October
    assert "Windows Server 2012 / 2012 R2, out of support since 2023-10-10" in msgs["S1"]
    assert "CentOS Linux 7" in msgs["S2"] and "2024-06-30" in msgs["S2"]
    assert "Oracle Database 11g" in msgs["S6"]
    assert "1 past end of support with a plan" in eos.summary
    assert "S4 Windows 10 (2025-10-14)" in eos.summary
    assert "eol.yaml compiled 2026-12-08" in eos.summary
    assert all(f.line for f in eos.facts)
    banned = checks["endangering_products"]
    assert [f.subject for f in banned.facts] == ["S5"] and "Hikvision" in banned.facts[0].message


def test_eol_table_updated_offline_from_the_evidence_folder(ev):
    write(ev, "assets/inventory.csv", INV + "S1,app,system,IT,core,2025-01-01,10.0.0.1,internal,,Windows Server 2016,,,,\n")
    checks, _ = run("end_of_support", ev, AS_OF)
    assert checks["end_of_support"].status.value == "pass"
    write(ev, "reference/eol.yaml", "compiled: 2025-06-01\nproducts:\n"
          "  - {product: Windows Server 2016, match: 'windows\\s*server\\s*2016', end_of_support: 2025-01-01}\n")
    checks, _ = run("end_of_support", ev, AS_OF)
    eos = checks["end_of_support"]
    assert eos.status.value == "fail" and "reference/eol.yaml compiled 2025-06-01" in eos.summary
    assert "reference/eol.yaml" in eos.files


def test_bad_reference_table_is_located(ev):
    write(ev, "assets/inventory.csv", INV + "S1,app,system,IT,core,2025-01-01,10.0.0.1,internal,,Windows 7,,,,\n")
    write(ev, "reference/eol.yaml", "compiled: 2025-06-01\nproducts:\n  - {product: X}\n")
    checks, rec = run("end_of_support", ev, AS_OF)
    assert checks["end_of_support"].status.value == "error"
    assert rec["error"]["file"] == "reference/eol.yaml"


def test_exposure_on_a_real_nmap_report(ev):
    ev.mkdir(parents=True)
    (ev / "exposure").mkdir()
    shutil.copy(NMAP / "nmap_multiple_port.xml", ev / "exposure" / "dmz.xml")
    shutil.copy(NMAP / "nmap_1port.xml", ev / "exposure" / "local.xml")
    write(ev, "assets/inventory.csv", INV +
          "S1,mail,system,IT,core,2025-01-01,198.38.82.159,dmz,25;80;443;465;587;993;995,,,,,\n")
    checks, _ = run("exposure", ev, AS_OF)
    clear = checks["dmz_cleartext"]
    assert clear.status.value == "fail"
    ports = sorted(f.message.split(": ")[1].split(" ")[0] for f in clear.facts)
    assert ports == ["110/tcp", "143/tcp", "21/tcp"]  # ftp, pop3, imap open on a DMZ host
    unexpected = {f.subject: f.message for f in checks["unexpected_ports"].facts}
    assert "21/tcp ftp" in unexpected["198.38.82.159"] and "3306/tcp mysql" in unexpected["198.38.82.159"]
    assert "443/tcp" not in unexpected["198.38.82.159"]
    assert "does not list" in unexpected["127.0.0.1"]  # scanned host missing from the inventory


def test_a_bad_nmap_report_does_not_hide_the_others(ev):
    ev.mkdir(parents=True)
    (ev / "exposure").mkdir()
    shutil.copy(NMAP / "nmap_multiple_port.xml", ev / "exposure" / "dmz.xml")
    write(ev, "exposure/broken.xml", "<nmaprun start='x'><host>")
    write(ev, "assets/inventory.csv", INV + "S1,mail,system,IT,core,2025-01-01,198.38.82.159,dmz,,,,,,\n")
    checks, rec = run("exposure", ev, AS_OF)
    c = checks["dmz_cleartext"]
    assert c.status.value == "fail"  # the readable report's findings stand
    assert len(c.facts) == 3
    assert [u["file"] for u in c.unusable] == ["exposure/broken.xml"]
    assert rec["status"] == "partial"
    assert rec["errors"][0]["file"] == "exposure/broken.xml"


def test_inventory_without_product_columns_is_manual_not_pass(ev):
    write(ev, "assets/inventory.csv", "asset_id,name,type,owner,classification,last_reviewed\n"
                                      "S1,orders,system,IT,core,2025-01-01\n")
    checks, _ = run("end_of_support", ev, AS_OF)
    assert checks["end_of_support"].status.value == "manual"
    assert checks["endangering_products"].status.value == "manual"
