"""History across daily runs (--state DIR): which address blocks and countries each account used.

Kept as Parquet files, replaced atomically after a run. Only successful logins that were not
part of an alert are learned, so an attacker's address never becomes "known" for an account.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import duckdb

TABLES = {
    "hist_account": "account VARCHAR, first_seen BIGINT, last_seen BIGINT, logins BIGINT",
    "hist_prefix": "account VARCHAR, prefix VARCHAR, first_seen BIGINT, last_seen BIGINT, logins BIGINT",
    "hist_country": "account VARCHAR, country VARCHAR, first_seen BIGINT, last_seen BIGINT, logins BIGINT",
    # Per past day and hour of day: suspect addresses outside campaigns, and logins (the baseline).
    "hist_hourly": "day VARCHAR, hour INTEGER, suspects DOUBLE, logins DOUBLE",
}


class State:
    def __init__(self, directory: str | Path | None):
        self.dir = Path(directory) if directory else None
        self.loaded_accounts = 0
        self.previous_runs = 0

    @property
    def enabled(self) -> bool:
        return self.dir is not None

    def load(self, con: duckdb.DuckDBPyConnection) -> None:
        """Create the hist_* tables, from the state directory when it has them."""
        if self.dir:
            self.dir.mkdir(parents=True, exist_ok=True)
        for name, cols in TABLES.items():
            f = self.dir / f"{name}.parquet" if self.dir else None
            if f and f.exists():
                con.execute(f"CREATE TEMP TABLE {name} AS SELECT * FROM read_parquet('{_q(f)}')")
            else:
                con.execute(f"CREATE TEMP TABLE {name} ({cols})")
        self.loaded_accounts = con.execute("SELECT count(*) FROM hist_account").fetchone()[0]
        runs = self.dir / "runs.jsonl" if self.dir else None
        self.previous_runs = sum(1 for _ in runs.open()) if runs and runs.exists() else 0

    def save(self, con: duckdb.DuckDBPyConnection, learned: str, run_info: dict, hourly: list | None = None) -> None:
        """Merge `learned` (account, prefix, country, n, t0, t1) into history and write it out."""
        if not self.dir:
            return
        merges = {
            "hist_account": ("account", "account"),
            "hist_prefix": ("account, prefix", "account, prefix"),
            "hist_country": ("account, country", "account, country"),
        }
        if hourly:
            _hourly(con, hourly, run_info.get("first") or "")
        for name, (keys, _) in merges.items():
            where = " WHERE country IS NOT NULL" if name == "hist_country" else ""
            con.execute(
                f"""CREATE OR REPLACE TEMP TABLE {name}_new AS
                SELECT {keys}, min(first_seen) AS first_seen, max(last_seen) AS last_seen, sum(logins)::BIGINT AS logins
                FROM (SELECT {keys}, first_seen, last_seen, logins FROM {name}
                      UNION ALL SELECT {keys}, t0, t1, n FROM {learned}{where})
                GROUP BY ALL"""
            )
            tmp = self.dir / f".{name}.parquet.tmp"
            con.execute(f"COPY {name}_new TO '{_q(tmp)}' (FORMAT parquet)")
            os.replace(tmp, self.dir / f"{name}.parquet")
        if hourly is not None:
            tmp = self.dir / ".hist_hourly.parquet.tmp"
            con.execute(f"COPY hist_hourly TO '{_q(tmp)}' (FORMAT parquet)")
            os.replace(tmp, self.dir / "hist_hourly.parquet")
        with (self.dir / "runs.jsonl").open("a", encoding="utf-8") as f:
            f.write(json.dumps(run_info, ensure_ascii=False) + "\n")


def _hourly(con: duckdb.DuckDBPyConnection, rows: list, day: str) -> None:
    """Replace the day's hourly baseline rows (a re-run of a day does not count it twice)."""
    con.execute("DELETE FROM hist_hourly WHERE day = ?", [day])
    if rows:
        con.execute("INSERT INTO hist_hourly SELECT ?, unnest(?::INTEGER[]), unnest(?::DOUBLE[]), unnest(?::DOUBLE[])",
                    [day, [r[0] for r in rows], [float(r[1]) for r in rows], [float(r[2]) for r in rows]])


def _q(p: Path) -> str:
    return str(p).replace("'", "''")
