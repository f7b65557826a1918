from tests.checks.conftest import run, write

DRILLS = ("date,kind,system,tolerable_interruption_min,target_rto_min,achieved_rto_min,"
          "target_rpo_min,achieved_rpo_min,result\n")
ASSETS = "asset_id,name,type,owner,classification,classification_reviewed,last_reviewed\n"


def test_bcp_pass(ev):
    write(ev, "bcp/drills.csv", DRILLS + "2024-03-01,bcp,orders,60,30,25,5,0,passed\n"
                                         "2024-04-01,ddos,lines,,,,,,passed\n")
    write(ev, "assets/inventory.csv", ASSETS + "S1,orders,system,IT,core,2024-01-01,2024-01-01\n"
                                               "S2,mail,system,IT,non-core,2024-01-01,2024-01-01\n")
    checks, _ = run("bcp", ev)
    assert {r: c.status.value for r, c in checks.items()} == {
        "tolerable_interruption": "pass", "drill_rto": "pass", "ddos_drill": "pass"}
    assert "assets/inventory.csv" in checks["drill_rto"].files


def test_bcp_failures(ev):
    write(ev, "bcp/drills.csv", DRILLS + "2024-03-01,bcp,orders,60,90,75,5,10,passed\n"
                                         "2023-01-01,bcp,hostlink,60,30,20,5,0,passed\n"
                                         "2023-04-01,ddos,lines,,,,,,passed\n")
    write(ev, "assets/inventory.csv", ASSETS + "S1,orders,system,IT,core,2024-01-01,2024-01-01\n"
                                               "S2,hostlink,system,IT,core,2024-01-01,2024-01-01\n"
                                               "S3,app,application,IT,core,2024-01-01,2024-01-01\n")
    checks, _ = run("bcp", ev)
    ti = {f.subject: f.message for f in checks["tolerable_interruption"].facts}
    assert "target RTO 90 min exceeds the tolerable interruption time 60" in ti["orders"]
    assert "no tolerable interruption time" in ti["app"]
    dr = [f.message for f in checks["drill_rto"].facts]
    assert any("orders: drill on 2024-03-01 achieved RTO 75 min > tolerable interruption time 60" in m for m in dr)
    assert any("achieved RPO 10 min > target RPO 5" in m for m in dr)
    assert any(m.startswith("hostlink: no BCP drill since 2023-06-30") for m in dr)
    assert "no DDoS drill since 2023-06-30; last 2023-04-01" in checks["ddos_drill"].facts[0].message


def test_bcp_malformed(ev):
    write(ev, "bcp/drills.csv", DRILLS + "2024-03-01,bcp,orders,60,30,,5,0,passed\n")
    _, rec = run("bcp", ev)
    assert (rec["error"]["file"], rec["error"]["line"], rec["error"]["field"]) == (
        "bcp/drills.csv", 2, "achieved_rto_min")


def test_assets(ev):
    write(ev, "assets/inventory.csv", ASSETS + "S1,orders,system,IT,core,2024-01-01,2024-01-01\n"
                                               "H1,fw,network,IT,,,2024-01-01\n")
    checks, _ = run("assets", ev)
    assert {c.status.value for c in checks.values()} == {"pass"}
    write(ev, "assets/inventory.csv", ASSETS + "S1,orders,system,,core,2023-05-01,2023-05-01\n"
                                               "S2,crm,application,IT,,,2024-01-01\n")
    checks, _ = run("assets", ev)
    assert [f.subject for f in checks["owners"].facts] == ["S1"]
    assert [f.subject for f in checks["maintained"].facts] == ["S1"]
    cls = {f.subject: f.message for f in checks["classification"].facts}
    assert "last reviewed 2023-05-01" in cls["S1"] and "not classified" in cls["S2"]
    write(ev, "assets/inventory.csv", ASSETS + "S1,orders,system,IT,critical,2024-01-01,2024-01-01\n")
    _, rec = run("assets", ev)
    assert (rec["error"]["line"], rec["error"]["field"]) == (2, "classification")


IOT = "device_id,type,inventory_updated,default_password_changed,firmware_updated,compensating_control\n"


def test_iot(ev):
    write(ev, "iot/inventory.csv", IOT + "C1,camera,2024-02-01,yes,2024-01-01,\n"
                                         "D1,door,2024-02-01,yes,2022-01-01,isolated VLAN\n")
    checks, _ = run("iot", ev)
    assert {c.status.value for c in checks.values()} == {"pass"}
    write(ev, "iot/inventory.csv", IOT + "C1,camera,2023-05-01,no,2022-01-01,\n")
    checks, _ = run("iot", ev)
    msgs = [f.message for f in checks["inventory_and_passwords"].facts]
    assert any("last updated 2023-05-01" in m for m in msgs) and any("password not changed" in m for m in msgs)
    assert checks["firmware_updates"].facts[0].subject == "C1"
    write(ev, "iot/inventory.csv", IOT + "C1,camera,2024-02-01,perhaps,2024-01-01,\n")
    _, rec = run("iot", ev)
    assert (rec["error"]["line"], rec["error"]["field"]) == (2, "default_password_changed")
