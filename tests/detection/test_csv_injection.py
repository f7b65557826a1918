"""A login log is attacker-written: account names typed at the login prompt end up in the scan's CSVs. They
are neutralised per OWASP (a leading apostrophe) and `csv_unescape` gives the exact names back (issue 20)."""

from __future__ import annotations

import csv
import json

from typer.testing import CliRunner

from ccinspect.cli import app
from ccinspect.core.safe_cells import TRIGGERS, csv_escape, csv_unescape

runner = CliRunner()
HOSTILE = ["=cmd|' /C calc'!A0", "+SUM(1,2)", "-2+3", "@evil", "\tTAB", "\rCR", "'=quoted", "plain"]


def test_escape_round_trips_and_neutralises_every_trigger():
    for v in HOSTILE + ["", "'", "''x", "a=b", "-"]:
        e = csv_escape(v)
        assert csv_unescape(e) == v
        assert not e or e[0] not in TRIGGERS
    assert csv_escape(-5) == -5 and csv_escape(None) is None  # numbers stay numbers


def test_login_scan_csvs_neutralise_account_names(tmp_path):
    log = tmp_path / "logins.csv"
    rows = ["ts,account,ip,result"]
    for n, acct in enumerate(HOSTILE * 3):  # one address failing on many accounts: credential stuffing
        rows.append(f"2024-05-02T10:{n // 60:02d}:{n % 60:02d}+08:00,\"{acct}\",203.0.113.9,failure")
    log.write_text("\n".join(rows) + "\n", encoding="utf-8")
    roster = tmp_path / "roster.csv"
    roster.write_text("account\nalice\n", encoding="utf-8")
    out = tmp_path / "out"
    r = runner.invoke(app, ["logins", "scan", str(log), "--customers", str(roster), "--out", str(out), "-q"])
    assert r.exit_code == 0, r.output
    alerts = json.loads((out / "alerts.json").read_text(encoding="utf-8"))["alerts"]
    assert alerts
    with open(out / "alerts.csv", encoding="utf-8", newline="") as fh:
        raw = list(csv.DictReader(fh))
    assert len(raw) == len(alerts)
    for row, alert in zip(raw, alerts, strict=True):
        for value in row.values():
            assert not value or value[0] not in TRIGGERS, value
        assert csv_unescape(row["accounts"]).split(";") == alert["accounts"]
    named = {a for alert in alerts for a in alert["accounts"]}
    assert {"=cmd|' /C calc'!A0", "@evil"} <= named
