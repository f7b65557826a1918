"""EVTX through python-evtx, on files written to the format by evtx_writer.py."""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from Evtx.Evtx import Evtx

from ccinspect.detection.adapters import Problems, detect, prepare
from ccinspect.detection.engine import Engine
from ccinspect.detection.rules import load_rules

sys.path.insert(0, str(Path(__file__).parent))
from evtx_writer import write_evtx  # noqa: E402


def _events():
    t0 = datetime(2024, 5, 2, 1, 0, tzinfo=UTC)  # 09:00 in Taipei
    ev = []
    for i in range(12):  # RDP password guessing on administrator
        ev.append((4625, t0 + timedelta(seconds=20 * i), {
            "TargetUserName": "administrator", "TargetDomainName": "BROKER", "Status": "0xc000006d",
            "SubStatus": "0xc000006a", "LogonType": "10", "WorkstationName": "kali", "IpAddress": "198.51.100.23",
            "IpPort": "0"}))
    ev.append((4624, t0 + timedelta(minutes=5), {
        "TargetUserName": "administrator", "TargetDomainName": "BROKER", "LogonType": "10",
        "WorkstationName": "kali", "IpAddress": "198.51.100.23", "IpPort": "50122"}))
    ev.append((4624, t0 + timedelta(minutes=6), {
        "TargetUserName": "jchen", "LogonType": "3", "WorkstationName": "WS-0412", "IpAddress": "10.8.1.44"}))
    ev.append((4624, t0 + timedelta(minutes=7), {"TargetUserName": "SYSTEM", "LogonType": "5", "IpAddress": "-"}))
    return ev


def test_evtx_file_is_valid_and_read(tmp_path):
    p = tmp_path / "Security.evtx"
    write_evtx(p, _events())
    with Evtx(str(p)) as log:
        fh = log.get_file_header()
        assert fh.verify() and all(c.verify() for c in fh.chunks())
    assert detect(p) == "evtx"
    problems = Problems()
    [src] = prepare([p], tmp_path / "w", problems)
    assert src.events == 14 and src.ignored == 1 and problems.count == 0
    roster = tmp_path / "staff.csv"
    roster.write_text("account,kind\nadministrator,staff\njchen,staff\n")
    res = Engine(load_rules()).scan([src], roster, problems=problems)
    kinds = {a.kind: a for a in res.alerts}
    assert kinds["brute_force"].ips == ["198.51.100.23"] and kinds["brute_force"].accounts == ["administrator"]
    assert kinds["brute_force"].first == "2024-05-02T09:00:00+08:00"
    assert kinds["account_takeover"].accounts == ["administrator"]
    assert [n.account for n in res.notifications] == ["administrator"]


def test_damaged_evtx_is_reported_not_fatal(tmp_path):
    p = tmp_path / "broken.evtx"
    write_evtx(p, _events())
    data = bytearray(p.read_bytes())
    data[0x1200:0x1400] = b"\xff" * 0x200  # smash the first records
    p.write_bytes(bytes(data))
    problems = Problems()
    [src] = prepare([p], tmp_path / "w", problems)
    assert problems.count >= 1 and problems.samples[0].file == str(p)
    assert src.events < 14
