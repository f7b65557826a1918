"""One exit-code table for every command: in each --help, and a scan that lost lines exits PARTIAL."""

from __future__ import annotations

from pathlib import Path

import typer
from typer.testing import CliRunner

from ccinspect.cli import app
from ccinspect.core.exitcodes import ExitCode

REPO = Path(__file__).resolve().parents[2]
runner = CliRunner()


def _paths(cmd, prefix: tuple[str, ...] = ()):
    yield prefix
    if hasattr(cmd, "commands"):  # typer vendors its own click
        for name, sub in cmd.commands.items():
            yield from _paths(sub, (*prefix, name))


def test_every_command_help_ends_with_the_exit_code_table():
    root = typer.main.get_command(app)
    paths = list(_paths(root))
    assert len(paths) > 30
    for path in paths:
        res = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "200"})
        assert res.exit_code == 0, path
        assert "Exit codes" in res.output and "3: " in res.output and "partial" in res.output, path
    doc = (REPO / "docs" / "cli.md").read_text(encoding="utf-8")
    assert all(f"| {int(c)} | {c.name} |" in doc for c in ExitCode)


def test_a_scan_that_lost_an_input_exits_partial(tmp_path):
    rows = ["ts,account,ip,result"] + [f"2024-06-27T09:{m:02d}:00+08:00,C{m},61.220.1.{m},success" for m in range(20)]
    good = tmp_path / "day.csv"
    good.write_text("\n".join(rows) + "\n", encoding="utf-8")
    roster = tmp_path / "customers.csv"
    roster.write_text("account\n" + "\n".join(f"C{m}" for m in range(20)) + "\n", encoding="utf-8")
    res = runner.invoke(app, ["logins", "scan", str(good), "--customers", str(roster), "-q", "--format", "json"])
    assert res.exit_code == ExitCode.OK, res.output
    damaged = tmp_path / "other.csv"  # every event line malformed: the file's events are lost
    damaged.write_text("ts,account,ip,result\n" + "".join(f"yesterday,C{m},nowhere,maybe\n" for m in range(20)),
                       encoding="utf-8")
    res = runner.invoke(app, ["logins", "scan", str(good), str(damaged), "--customers", str(roster), "-q",
                              "--format", "json"])
    assert res.exit_code == ExitCode.PARTIAL, res.output
