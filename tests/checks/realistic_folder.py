"""A broker's evidence folder in the formats the tools really write, with deficiencies planted and the
rest clean: the scanner files are the real samples (tests/checks/data) with hosts, dates and findings
changed; AD exports, workbooks and logs are written as PowerShell, csvde, Excel and Windows write them.

`build(root)` writes the folder and returns EXPECTED: planted (rule, subject) facts, clean (rule, subject)
pairs that must not be flagged, and the damaged files that must be named."""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from pathlib import Path

from openpyxl import Workbook

DATA = Path(__file__).parent / "data"
AS_OF = dt.date(2024, 6, 30)


def _w(root: Path, rel: str, text: str | bytes, encoding: str = "utf-8", newline: str = "\n") -> Path:
    p = root / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        p.write_bytes(text)
    else:
        p.write_bytes(text.replace("\n", newline).encode(encoding))
    return p


def _ad_users(root: Path, planted: list, clean: list) -> None:
    rows = []

    def add(sam, enabled, last, created, emp, admin="", member="", name=None):
        rows.append(f'"{sam}","{name or sam}","{enabled}","{last}","1/2/2024 9:00:00 AM","False","",'
                    f'"{created}","{emp}","{admin}","{member}"')

    add("guest", "True", "6/1/2024 9:00:00 AM", "1/1/2015 9:00:00 AM", "")
    planted += [("accounts.default_names", "ad_users/guest")]
    add("u.dorm1", "True", "11/1/2023 9:00:00 AM", "1/1/2019 9:00:00 AM", "E1101")
    add("u.dorm2", "True", "", "1/1/2023 9:00:00 AM", "E1102")
    planted += [("accounts.dormant", "ad_users/u.dorm1"), ("accounts.dormant", "ad_users/u.dorm2")]
    add("u.left", "True", "6/20/2024 9:00:00 AM", "1/1/2019 9:00:00 AM", "E9001")
    planted += [("accounts.leavers", "ad_users/u.left")]
    add("adm.jack", "True", "6/28/2024 9:00:00 AM", "1/1/2019 9:00:00 AM", "E1103", "1",
        "CN=Domain Admins,CN=Users,DC=corp,DC=example,DC=com")
    planted += [("accounts.privileged_approval", "ad_users/adm.jack")]
    add("ops.shared", "True", "6/28/2024 9:00:00 AM", "1/1/2019 9:00:00 AM", "E1001、E1002", name="營運共用帳號")
    planted += [("accounts.shared", "ad_users/ops.shared")]
    add("adm.amy", "True", "6/27/2024 9:00:00 AM", "1/1/2019 9:00:00 AM", "E1104", "1",
        "CN=Domain Admins,CN=Users,DC=corp,DC=example,DC=com")
    for rule in ("privileged_approval", "dormant", "shared"):
        clean.append((f"accounts.{rule}", "ad_users/adm.amy"))
    # 12 clean staff, one 188 days unused: inside the 14-day lastLogonTimestamp tolerance
    add("u.lag", "True", "12/25/2023 9:00:00 AM", "1/1/2019 9:00:00 AM", "E1105")
    clean.append(("accounts.dormant", "ad_users/u.lag"))
    for i in range(11):
        sam = f"u.staff{i:02d}"
        add(sam, "True", f"6/{10 + i}/2024 8:30:00 AM", "3/1/2020 9:00:00 AM", f"E12{i:02d}")
        for rule in ("dormant", "shared", "default_names", "leavers"):
            clean.append((f"accounts.{rule}", f"ad_users/{sam}"))
    add("u.gone", "False", "1/1/2020 9:00:00 AM", "1/1/2015 9:00:00 AM", "E9002")  # left and disabled
    clean.append(("accounts.leavers", "ad_users/u.gone"))
    head = ('#TYPE Selected.Microsoft.ActiveDirectory.Management.ADUser\n"SamAccountName","Name","Enabled",'
            '"LastLogonDate","PasswordLastSet","PasswordNeverExpires","Manager","whenCreated","EmployeeID",'
            '"adminCount","MemberOf"\n')
    _w(root, "accounts/ad_users.csv", head + "\n".join(rows) + "\n", "ascii" if False else "utf-8-sig", "\r\n")


def _csvde(root: Path, planted: list, clean: list) -> None:
    ft = lambda d: int((dt.datetime(d.year, d.month, d.day) - dt.datetime(1601, 1, 1)).total_seconds() * 10**7)  # noqa: E731
    rows = ['"CN=Stale Sam,OU=Branch,DC=corp,DC=example,DC=com",user,branch.stale,512,'
            f'{ft(dt.date(2023, 9, 1))},{ft(dt.date(2023, 9, 1))},20190301000000.0Z,,E1301']
    planted.append(("accounts.dormant", "branch_users/branch.stale"))
    for i in range(6):
        rows.append(f'"CN=Branch {i},OU=Branch,DC=corp,DC=example,DC=com",user,branch.u{i},66048,'
                    f'{ft(dt.date(2024, 6, 20))},{ft(dt.date(2024, 5, 1))},20200301000000.0Z,,E131{i}')
        clean.append(("accounts.dormant", f"branch_users/branch.u{i}"))
    _w(root, "accounts/branch_users.csv", "DN,objectClass,sAMAccountName,userAccountControl,lastLogonTimestamp,"
       "pwdLastSet,whenCreated,manager,employeeID\n" + "\n".join(rows) + "\n", newline="\r\n")


def _app_accounts(root: Path, planted: list, clean: list) -> None:
    rows = ["trader9,交易員九,trader,no,enabled,2019-01-01,2023-10-02,E1401"]
    planted.append(("accounts.dormant", "order_system/trader9"))
    for i in range(8):
        rows.append(f"trader{i},交易員{i},trader,no,enabled,2019-01-01,2024-06-2{i % 9},E140{i}")
        clean.append(("accounts.dormant", f"order_system/trader{i}"))
        clean.append(("accounts.shared", f"order_system/trader{i}"))
    text = "user,name,role,privileged,status,created,last_login,owner_employee_id\n" + "\n".join(rows) + "\n"
    _w(root, "accounts/order_system.csv", text, "cp950", "\r\n")  # Excel on Chinese Windows


def _nessus(hosts: dict[str, tuple[dt.datetime, list[tuple[str, int, str, str]]]]) -> str:
    out = ['<?xml version="1.0" ?>', "<NessusClientData_v2>", "<Policy><policyName>Basic Network Scan</policyName>"
           "</Policy>", '<Report name="quarterly" xmlns:cm="http://www.nessus.org/cm">']
    for host, (when, items) in hosts.items():
        out.append(f'<ReportHost name="{host}"><HostProperties>'
                   f'<tag name="HOST_END">{when:%a %b %d %H:%M:%S %Y}</tag>'
                   f'<tag name="host-ip">{host}</tag>'
                   f'<tag name="HOST_START_TIMESTAMP">{int(when.timestamp())}</tag>'
                   f'<tag name="HOST_START">{when.astimezone(dt.timezone(dt.timedelta(hours=8))):%a %b %d %H:%M:%S %Y}</tag>'
                   "</HostProperties>")
        for pid, sev, port, name in items:
            out.append(f'<ReportItem port="{port}" svc_name="www" protocol="tcp" severity="{sev}" pluginID="{pid}" '
                       f'pluginName="{name}" pluginFamily="Web Servers"><risk_factor>x</risk_factor></ReportItem>')
        out.append("</ReportHost>")
    out += ["</Report>", "</NessusClientData_v2>"]
    return "\n".join(out) + "\n"


def _greenbone(start: str, results: list[tuple[str, str, float, str]]) -> str:
    src = (DATA / "scanners" / "openvas_report_detail_v2.xml").read_text(encoding="utf-8")
    block = src[src.index("      <result id="):src.index("    </results>")]
    out = []
    for n, (host, oid, sev, threat) in enumerate(results):
        b = block.replace("10.99.99.99", host).replace("1.3.6.1.4.1.25623.1.0.836484", oid)
        b = re.sub(r"<severity>9\.8</severity>", f"<severity>{sev}</severity>", b)
        b = re.sub(r"<threat>High</threat>", f"<threat>{threat}</threat>", b)
        b = b.replace('result id="ec5f93ff', f'result id="{n:04d}93ff')
        out.append(b)
    src = src.replace(block, "".join(out))
    return re.sub(r"<scan_start>[^<]*</scan_start>", f"<scan_start>{start}</scan_start>", src)


def _vulnscan(root: Path, planted: list, clean: list, damaged: list) -> None:
    tw = dt.timezone(dt.timedelta(hours=8))
    may = dt.datetime(2024, 5, 20, 7, 30, tzinfo=tw)  # 07:30 in Taipei: the day before in UTC
    _w(root, "vulnscan/reports/nessus_2024-05.nessus", _nessus({
        "10.1.0.1": (may, [("1001", 4, "80", "Apache RCE"), ("1001", 4, "443", "Apache RCE"),
                            ("2001", 1, "22", "SSH banner")]),
        "10.1.0.2": (may, [("1002", 3, "443", "TLS weak")]),
        "10.1.0.3": (may, [("1003", 3, "3389", "RDP weak")]),
        "10.1.0.4": (may, [("2002", 2, "80", "Medium thing")]),
        "10.1.0.5": (may, []),
    }))
    planted += [("vulnscan.high_findings", "10.1.0.1"), ("vulnscan.high_findings", "10.1.0.3")]
    clean += [("vulnscan.high_findings", h) for h in ("10.1.0.2", "10.1.0.4", "10.1.0.5", "10.1.0.7", "10.1.0.8",
                                                    "10.1.0.9")]
    _w(root, "vulnscan/reports/greenbone_2024-06.xml", _greenbone("2024-06-03T02:00:00Z", [
        ("10.1.0.6", "1.3.6.1.4.1.25623.1.0.900001", 8.8, "High"),
        ("10.1.0.7", "1.3.6.1.4.1.25623.1.0.900002", 5.0, "Medium"),
        ("10.1.0.8", "1.3.6.1.4.1.25623.1.0.900003", 2.1, "Low")]))
    planted.append(("vulnscan.high_findings", "10.1.0.6"))
    sc = (DATA / "scanners" / "tenable_sc_issue_9612.csv").read_text(encoding="utf-8")
    header = sc.splitlines()[0]
    ncols = header.count('","') + 1
    cols = [c.strip('"') for c in header.split('","')]
    row = {c: "" for c in cols}
    row.update({"Plugin": "3001", "Plugin Name": "Info disclosure", "Severity": "Low", "IP Address": "10.1.0.9",
                "Protocol": "TCP", "Port": "443", "Last Observed": "Jun 10, 2024 10:00:00 UTC",
                "CVSS V3 Base Score": "3.1"})
    assert len(row) == ncols
    _w(root, "vulnscan/reports/tenable_sc_2024-06.csv",
       header + "\n" + ",".join(f'"{row[c]}"' for c in cols) + "\n", newline="\r\n")
    vm = (DATA / "scanners" / "qualys_vmdr_one_vuln_qid.csv").read_text(encoding="utf-8").splitlines()
    vm[4] = re.sub(r'"Feb 03, 2026 07:00 AM"', '"Sep 01, 2023 07:00 AM"', vm[4])
    vm[4] = vm[4].replace('"10.0.0.1"', '"10.1.0.10"').replace('"5","5"', '"2","2"')
    _w(root, "vulnscan/reports/qualys_vmdr_2023-09.csv", "\n".join(vm) + "\n")
    planted += [("vulnscan.scan_interval", "10.1.0.10"), ("vulnscan.scan_interval", "10.1.0.99")]
    clean += [("vulnscan.scan_interval", f"10.1.0.{i}") for i in range(1, 10)]
    _w(root, "vulnscan/remediation.csv", "host,vuln_id,status,date,approved_by\n"
       "10.1.0.2,1002,accepted,2024-05-25,資訊長 王大明\n10.1.0.3,1003,fixed,2024-04-01,\n")
    # damaged: a Greenbone export cut off mid-way
    g = _greenbone("2024-06-03T02:00:00Z", [("10.1.0.7", "1.3.6.1.4.1.25623.1.0.900009", 9.0, "High")])
    _w(root, "vulnscan/reports/greenbone_partial.xml", g[: len(g) // 2])
    damaged.append("vulnscan/reports/greenbone_partial.xml")
    inv = "asset_id,name,type,owner,classification,classification_reviewed,last_reviewed,location,ip\n"
    inv += "".join(f"H{i},host{i},server,資訊部 E0900,non-core,2024-01-15,2024-01-15,機房 A,10.1.0.{i}\n"
                   for i in list(range(1, 11)) + [99])
    _w(root, "assets/inventory.csv", inv)


def _hr_training(root: Path, planted: list, clean: list, damaged: list) -> None:
    staff = ["employee_id,name,role,start_date", "S1,資安甲,security,2019-01-01", "S2,資安乙,security,2019-01-01"]
    staff += [f"E{i},員工{i},trader,2019-01-01" for i in range(1, 11)]
    _w(root, "hr/staff.csv", "\n".join(staff) + "\n")
    _w(root, "hr/leavers.csv", "employee_id,name,leave_date\nE9001,離職甲,2024-05-01\nE9002,離職乙,2020-01-01\n")
    _w(root, "approvals/privileged_accounts.csv", "system,user,approved_by,approved_on\n"
       "ad_users,adm.amy,資訊長 王大明,2024-01-05\n")
    wb = Workbook()
    ws = wb.active
    ws.append(["員工編號", "課程名稱", "類別", "上課日期", "時數", "評量結果"])
    ws.append(["S1", "事件應變", "專業", dt.datetime(2024, 3, 1), 16, "通過"])
    ws.append(["S2", "數位鑑識", "專業", dt.datetime(2024, 3, 1), 10, "通過"])  # 10 h < 15 h
    for i in range(1, 11):
        if i != 5:
            ws.append([f"E{i}", "資安宣導", "宣導", dt.datetime(2024, 2, 1), 3, None])
    (root / "training").mkdir(parents=True, exist_ok=True)
    wb.save(root / "training" / "records_2024.xlsx")
    _w(root, "training/records_2023.csv", "employee_id,course,kind,date,hours,assessment\n"
       "S1,Awareness,awareness,2023-09-01,3,\nS2,Awareness,awareness,2023-09-01,3,\n")
    planted += [("training.security_staff_hours", "S2"), ("training.awareness_all_staff", "E5"),
                ("training.security_staff_hours", "E5"), ("training.certificates", "S2")]
    clean += [("training.security_staff_hours", "S1"), ("training.certificates", "S1")]
    clean += [("training.awareness_all_staff", f"E{i}") for i in range(1, 11) if i != 5]
    clean += [("training.awareness_all_staff", "S1"), ("training.awareness_all_staff", "S2")]
    _w(root, "training/certificates.csv", "employee_id,certificate,issued,expires\n"
       "S1,CISSP,2022-01-01,2025-01-01\nS2,CEH,2020-01-01,2023-01-01\n")


def _auditlogs(root: Path, planted: list, clean: list, damaged: list) -> None:
    evtx = (DATA / "auditlogs" / "Security_short_selected.evtx").read_bytes()
    _w(root, "auditlogs/samples/dc01.evtx", evtx)
    clean.append(("auditlogs.record_fields", "dc01"))
    _w(root, "auditlogs/samples/dc02.evtx", evtx[: len(evtx) // 2])
    damaged.append("auditlogs/samples/dc02.evtx")
    _w(root, "auditlogs/samples/order_system.jsonl",
       '{"user_id": "trader1", "timestamp": "2024-06-01T09:00:00+08:00", "source_ip": "10.2.0.5"}\n'
       '{"user_id": "trader2", "timestamp": "2024-06-01T09:01:00+08:00", "source_ip": ""}\n')
    planted.append(("auditlogs.record_fields", "order_system"))


def build(root: Path) -> dict:
    planted: list[tuple[str, str]] = []
    clean: list[tuple[str, str]] = []
    damaged: list[str] = []
    _ad_users(root, planted, clean)
    _csvde(root, planted, clean)
    _app_accounts(root, planted, clean)
    _vulnscan(root, planted, clean, damaged)
    _hr_training(root, planted, clean, damaged)
    _auditlogs(root, planted, clean, damaged)
    # damaged accounts file beside the good ones
    _w(root, "accounts/legacy_app.csv", "user,name,role,privileged,status,created,last_login,owner_employee_id\n"
       "old1,Old,trader,no,maybe,2019-01-01,2024-06-01,E1\n")
    damaged.append("accounts/legacy_app.csv")
    with zipfile.ZipFile(root / "vulnscan" / "reports" / "bundle.zip", "w") as z:
        z.writestr("../../etc/cron.d/evil", "* * * * * root sh\n")
    damaged.append("vulnscan/reports/bundle.zip")
    with zipfile.ZipFile(root / "old_evidence.zip", "w") as z:
        z.writestr("..\\..\\windows\\evil.bat", "echo\n")
    damaged.append("old_evidence.zip")
    _w(root, "notes/readme.txt", "collected by IT on 2024-06-28\n")
    return {"planted": planted, "clean": clean, "damaged": damaged, "unused": ["notes/readme.txt"]}
