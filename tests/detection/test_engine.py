"""Engine details on small hand-written inputs: allow-list blocks, shared addresses, resolved failures."""

from __future__ import annotations

from datetime import datetime, timedelta

from ccinspect.detection.adapters import Problems, expand, prepare
from ccinspect.detection.engine import Engine
from ccinspect.detection.rules import load_rules


def _scan(tmp_path, rows, roster=("C1", "C2"), allow=None):
    ev = tmp_path / "events.csv"
    ev.write_text("ts,account,ip,result\n" + "".join(f"{t},{a},{ip},{r}\n" for t, a, ip, r in rows))
    cust = tmp_path / "roster.csv"
    cust.write_text("account\n" + "".join(f"{a}\n" for a in roster))
    allow_file = None
    if allow is not None:
        allow_file = tmp_path / "allow.txt"
        allow_file.write_text("\n".join(allow) + "\n")
    problems = Problems()
    sources = prepare(expand([str(ev)]), tmp_path / "work", problems)
    return Engine(load_rules()).scan(sources, cust, allow=allow_file, problems=problems)


def _burst(account, ip, n=12, start=datetime(2024, 5, 2, 9, 0)):
    return [((start + timedelta(seconds=20 * k)).strftime("%Y-%m-%dT%H:%M:%S"), account, ip, "failure") for k in range(n)]


def test_allow_list_blocks_across_first_octets_and_ipv6(tmp_path):
    rows = (_burst("C1", "11.2.3.4") + _burst("C2", "10.9.9.9") + _burst("C1", "2001:db8::7")
            + _burst("C2", "12.0.0.1") + _burst("C1", "2001:db9::1"))
    res = _scan(tmp_path, rows, allow=["# monitors", "10.0.0.0/7", "2001:db8::/32"])
    bf_ips = {ip for a in res.alerts if a.kind == "brute_force" for ip in a.ips}
    # 10.0.0.0/7 covers 10.x and 11.x; 12.0.0.1 and the other /32 of IPv6 are outside.
    assert bf_ips == {"12.0.0.1", "2001:db9::1"}
    assert res.summary["allowlisted_addresses"] == 3
    assert res.summary["addresses"] == 5 and res.summary["failures"] == 60


def test_failures_resolved_by_the_same_pair_or_a_typo_raise_nothing(tmp_path):
    t = "2024-05-02T10:00:{:02d}"
    rows = []
    # Ten customers each mistype their password twice at home, then log in: no alert.
    for k in range(10):
        ip, acct = f"36.224.0.{k + 1}", f"A10000000{k}"
        rows += [(t.format(2 * j), acct, ip, "failure") for j in range(2)] + [(t.format(10), acct, ip, "success")]
    # One mistypes the id (one keystroke away) and then logs in with the right one: resolved as a typo.
    rows += [(t.format(1), "A100000019", "36.224.1.1", "failure"), (t.format(5), "A100000018", "36.224.1.1", "success")]
    # One address fails once each on twelve accounts that never log in: stuffing.
    rows += [(t.format(j), f"Z9{j:08d}", "185.220.1.1", "failure") for j in range(12)]
    roster = [f"A10000000{k}" for k in range(10)] + ["A100000018"]
    res = _scan(tmp_path, rows, roster=roster)
    alerted = {ip for a in res.alerts for ip in a.ips}
    assert alerted == {"185.220.1.1"}
    assert {a.kind for a in res.alerts} == {"credential_stuffing"}
    assert res.summary["accounts"] == 10 + 2 + 12 and res.summary["successes"] == 11
