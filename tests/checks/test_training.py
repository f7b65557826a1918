import datetime as dt

from tests.checks.conftest import run, write

STAFF = ("employee_id,name,role,start_date,end_date\n"
         "S1,Sec One,security,2018-01-01,\n"
         "S2,Sec New,security,2024-04-01,\n"       # joined within the year: not yet due
         "U1,User One,staff,2018-01-01,\n"
         "U2,User Gone,staff,2018-01-01,2024-03-01\n")  # left: not counted
REC = "employee_id,course,kind,date,hours,assessment\n"
CERT = "employee_id,certificate,issued,expires\n"


def test_training_pass(ev):
    write(ev, "hr/staff.csv", STAFF)
    write(ev, "training/records.csv", REC + "S1,IR,professional,2023-09-01,9,passed\n"
          "S1,Cloud,functional,2024-02-01,6,\nS1,Awareness,awareness,2024-03-01,3,\n"
          "U1,Awareness,awareness,2024-03-01,3,\n")
    write(ev, "training/certificates.csv", CERT + "S1,CISSP,2020-01-01,2026-01-01\nS2,Sec+,2024-05-01,\n")
    checks, _ = run("training", ev)
    assert {r: c.status.value for r, c in checks.items()} == {
        "security_staff_hours": "pass", "awareness_all_staff": "pass", "certificates": "pass"}
    assert checks["security_staff_hours"].ref_ids == ("CC-13000.3",)


def test_training_failures(ev):
    write(ev, "hr/staff.csv", STAFF)
    write(ev, "training/records.csv", REC + "S1,IR,professional,2023-09-01,14,failed\n"
          "S1,Old,professional,2023-06-01,10,passed\n"    # before the 12-month window
          "U1,Phishing,awareness,2024-03-01,2,\n")
    write(ev, "training/certificates.csv", CERT + "S1,CEH,2020-01-01,2024-06-29\n")
    checks, _ = run("training", ev)
    msgs = [f.message for f in checks["security_staff_hours"].facts]
    assert any("S1 Sec One: security staff with 14 h" in m for m in msgs)
    assert any("no passed assessment" in m for m in msgs)
    assert any("U1 User One: 2 h of security awareness" in m for m in msgs)
    assert not any("S2" in m or "U2" in m for m in msgs)
    assert [f.subject for f in checks["awareness_all_staff"].facts] == ["S1"]
    cert = checks["certificates"].facts
    assert sorted(f.subject for f in cert) == ["S1", "S2"]  # S1's expired the day before; S2 has none


def test_training_malformed_hours(ev):
    write(ev, "hr/staff.csv", STAFF)
    write(ev, "training/records.csv", REC + "S1,IR,professional,2023-09-01,lots,passed\n")
    checks, rec = run("training", ev)
    assert (rec["error"]["file"], rec["error"]["line"], rec["error"]["field"]) == (
        "training/records.csv", 2, "hours")
    assert checks["certificates"].status.value == "manual"  # no certificates file: not run, not errored
    assert checks["awareness_all_staff"].status.value == "error"


def test_training_records_in_xlsx_with_chinese_headers_and_a_csv_beside(ev):
    from openpyxl import Workbook

    write(ev, "hr/staff.csv", "employee_id,name,role,start_date\nS1,Sec One,security,2020-01-01\n"
                              "E1,Emp One,trader,2020-01-01\nE2,Emp Two,trader,2020-01-01\n")
    wb = Workbook()
    ws = wb.active
    ws.append(["員工編號", "課程名稱", "類別", "上課日期", "時數", "評量結果"])
    ws.append(["S1", "事件應變", "專業", dt.datetime(2024, 3, 1), 16, "通過"])
    ws.append(["E1", "資安宣導", "宣導", dt.datetime(2024, 2, 1), 3, None])
    (ev / "training").mkdir(parents=True, exist_ok=True)
    wb.save(ev / "training" / "records_2024.xlsx")
    write(ev, "training/records.csv", REC + "E2,Awareness,awareness,2024-01-10,3,\nS1,Awareness,awareness,2024-01-10,3,\n")
    checks, rec = run("training", ev)
    assert rec["status"] == "ran"
    assert checks["security_staff_hours"].status.value == "pass"
    assert checks["awareness_all_staff"].status.value == "pass"
    # a bad cell names the sheet row and the column
    ws.append(["E2", "x", "宣導", "someday", 3, None])
    wb.save(ev / "training" / "records_2024.xlsx")
    checks, rec = run("training", ev)
    assert rec["errors"][0] == {"file": "training/records_2024.xlsx", "line": 4, "field": "date",
                                "message": rec["errors"][0]["message"]}
    assert checks["awareness_all_staff"].status.value == "fail"  # judged on records.csv; E1 now lacks one
    assert checks["awareness_all_staff"].unusable[0]["file"] == "training/records_2024.xlsx"
