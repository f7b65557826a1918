"""The detection engine: SQL rules in DuckDB over canonical login events.

One streaming scan of the inputs aggregates events into `agg`: failures per (account, address,
minute) and successes per (account, address). Every rule then runs on that aggregate, which is
a small fraction of the events, so files larger than memory work (DuckDB spills to disk).
"""

from __future__ import annotations

import csv
import ipaddress
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb

from ccinspect.core.results import alert_order

from .adapters import REQUIRED, RESULTS, InputError, Problems, Source, check_ip, open_text, parse_ts
from .evidence import attach_evidence
from .rules import RuleSet
from .state import State
from .verdicts import VerdictBook

TAIPEI = ZoneInfo("Asia/Taipei")
# What an address can look like (IPv4 dotted quad or IPv6); anything else is malformed.
IP_SHAPE = r"\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}|[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*"
ATTACK_KINDS = ("brute_force", "credential_stuffing", "password_spraying", "stuffing_campaign", "non_customer")


def iso(ms: int | float | None) -> str | None:
    if ms is None:
        return None
    return datetime.fromtimestamp(ms / 1000, TAIPEI).isoformat()


def _clauses(ref_ids: list[str]) -> dict[str, str]:
    """The regulation's own text of the clauses a fact serves, from the catalog (data, not code)."""
    from ccinspect.catalog.loader import load_catalog  # noqa: PLC0415 - loaded only when a fact is reported

    mech = load_catalog().version("mechanism")
    out = {}
    for ref in ref_ids:
        req = mech.get(ref)
        if req is None:
            raise InputError(f"rules: three_strikes names {ref}, which is not in the catalog")
        out[ref] = req.text
    return out


def _q(p: Path | str) -> str:
    return str(p).replace("'", "''")


def _insert(con, table: str, *columns: list, types: tuple[str, ...] = ("VARCHAR",)) -> None:
    """Insert Python lists as rows in one statement (executemany runs one statement per row)."""
    cols = ", ".join(f"unnest(${i + 1}::{t}[])" for i, t in enumerate(types))
    con.execute(f"INSERT INTO {table} SELECT {cols}", list(columns))


@dataclass
class Alert:
    kind: str
    severity: str
    rule: str
    thresholds: dict
    ref_ids: list[str]
    ips: list[str]
    accounts: list[str]
    counts: dict
    first: str | None
    last: str | None
    detail: str = ""
    id: str = ""
    context: list[dict] = field(default_factory=list)  # e.g. Windows 4648 events of its accounts
    confidence: str = ""  # high | medium | low
    confidence_reason: str = ""
    evidence: list[dict] = field(default_factory=list)  # first events behind it: file, line, ts, account, ip, result
    evidence_total: int = 0  # events matched (evidence holds the first few)
    verdict: dict | None = None  # an earlier analyst verdict that matches this alert

    def as_dict(self) -> dict:
        # Shallow: the values are plain lists and dicts (asdict's deep copy cost 0.04 s per run).
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass
class Notification:
    account: str
    reason: str
    kind: str
    ips: list[str]
    first: str | None
    confidence: str = ""
    confidence_reason: str = ""
    alerts: list[str] = field(default_factory=list)  # every alert naming the customer in the incident window
    rule: str = ""
    thresholds: dict = field(default_factory=dict)
    counts: dict = field(default_factory=dict)
    evidence: list[dict] = field(default_factory=list)
    last: str | None = None

    def as_dict(self) -> dict:
        # Shallow: the values are plain lists and dicts (asdict's deep copy cost 0.04 s per run).
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass
class ScanResult:
    alerts: list[Alert]
    notifications: list[Notification]
    summary: dict
    problems: Problems
    charts: dict = field(default_factory=dict)
    facts: list[dict] = field(default_factory=list)  # inspection facts about the systems (three strikes)
    withheld: list[Notification] = field(default_factory=list)  # below the broker's notify confidence

    def attack_ips(self) -> set[str]:
        return {ip for a in self.alerts if a.kind in ATTACK_KINDS + ("account_takeover",) for ip in a.ips}


def load_allow(path: str | Path | None) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """Addresses and CIDR blocks, one a line, `#` comments."""
    if not path:
        return []
    nets = []
    p = Path(path)
    try:
        lines = p.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise InputError(f"{p}: cannot read allow list: {exc}") from exc
    for n, line in enumerate(lines, 1):
        entry = line.split("#", 1)[0].strip()
        if not entry:
            continue
        try:
            nets.append(ipaddress.ip_network(entry, strict=False))
        except ValueError as exc:
            raise InputError(f"{p}: line {n}: not an address or CIDR block: {entry!r}") from exc
    return nets


def csv_readers(sources: list[Source]) -> list[tuple[tuple[str, ...], str]]:
    """The DuckDB `read_csv(...)` calls that read the canonical CSV inputs (one per column layout).

    Everything is read as text: bad values become NULL (counted and located later) instead of
    aborting the scan; wrong column counts go to DuckDB's reject tables. bench/logins.py times
    `count(*)` over the same calls as its floor.
    """
    groups: dict[tuple, list[Source]] = {}
    for s in sources:
        groups.setdefault((tuple(s.columns), s.compression), []).append(s)
    out = []
    for (cols, comp), srcs in groups.items():
        spec = ", ".join(f"'{c.replace(chr(39), chr(39) * 2)}': 'VARCHAR'" for c in cols)
        files = "[" + ", ".join(f"'{_q(s.path)}'" for s in srcs) + "]"
        out.append((cols, f"""read_csv({files}, header=true, auto_detect=false, delim=',', quote='"', escape='"',
                              columns={{{spec}}}, compression='{comp}', store_rejects=true)"""))
    return out


class Engine:
    def __init__(
        self,
        rules: RuleSet,
        *,
        memory_limit: str = "1500MB",
        threads: int | None = None,
        temp_dir: str | Path | None = None,
        on_progress: Callable[[str, float], None] | None = None,
    ):
        self.rules = rules
        self.memory_limit = memory_limit
        self.threads = threads
        self.temp_dir = temp_dir
        # Polling DuckDB's progress costs time on long scans: only done when someone listens.
        self.progress_enabled = on_progress is not None
        self.on_progress = on_progress or (lambda stage, pct: None)

    # ---------------------------------------------------------------- setup
    def _connect(self, tmp: Path) -> duckdb.DuckDBPyConnection:
        con = duckdb.connect(":memory:")
        con.execute(f"SET TimeZone='{self.rules.timezone}'")
        con.execute("SET enable_progress_bar=false")
        con.execute(f"SET memory_limit='{self.memory_limit}'")
        con.execute(f"SET temp_directory='{_q(tmp)}'")
        con.execute("SET preserve_insertion_order=false")
        # A throwaway in-memory database: an automatic checkpoint only compresses tables about to
        # be dropped (0.2 s at 1M events).
        con.execute("SET checkpoint_threshold='1TB'")
        if self.threads:
            con.execute(f"SET threads={int(self.threads)}")
        return con

    def _load_customers(self, con, path: str | Path) -> int:
        p = Path(path)
        if not p.is_file():
            raise InputError(f"{p}: no such roster file")
        with open_text(p) as f:
            header = [c.strip() for c in next(csv.reader([f.readline()]), [])]
        if "account" not in header:
            raise InputError(f"{p}: line 1: roster needs an 'account' column (has: {','.join(header)})")
        con.execute(
            f"""CREATE TEMP TABLE cust AS SELECT DISTINCT trim(account) AS account
                FROM read_csv('{_q(p)}', header=true, all_varchar=true, auto_detect=false,
                              columns={{{', '.join(f"'{c}': 'VARCHAR'" for c in header)}}}, delim=',', quote='"')
                WHERE account IS NOT NULL AND trim(account) <> ''"""
        )
        return con.execute("SELECT count(*) FROM cust").fetchone()[0]

    def _ts_ms_sql(self) -> str:
        """Epoch milliseconds of the `ts` text; NULL when it is not a time (reported as malformed)."""
        tz = ZoneInfo(self.rules.timezone)
        # Fast path for the common 'YYYY-MM-DDTHH:MM:SS' without offset: a fixed-offset zone
        # (Asia/Taipei has had no DST since 1980) lets a naive parse be shifted by a constant.
        off = tz.utcoffset(datetime(2000, 1, 1))
        fixed = all(tz.utcoffset(datetime(y, m, 1)) == off for y in (1990, 2010, 2030) for m in (1, 7))
        # ISO dates only: DuckDB also casts 'epoch' and '2024-5-1', which the adapters call malformed.
        slow = r"CASE WHEN regexp_matches(ts, '^\d{4}-\d\d-\d\d(?:[T ]|$)') THEN epoch_ms(TRY_CAST(ts AS TIMESTAMPTZ)) END"
        if not fixed:
            return slow
        shift = int(off.total_seconds() * 1000)
        return f"CASE WHEN length(ts) = 19 THEN epoch_ms(TRY_CAST(ts AS TIMESTAMP)) - {shift} ELSE {slow} END"

    def _scan_sql(self, sources: list[Source]) -> str:
        parts = []
        for cols, reader in csv_readers(sources):
            country = "country" if "country" in cols else "NULL::VARCHAR"
            parts.append(f"SELECT {self._ts_ms_sql()} AS ts_ms, account, ip, result, {country} AS country FROM {reader}")
        return " UNION ALL ".join(parts)

    def _run(self, con, sql: str, stage: str) -> None:
        """Run a statement, reporting DuckDB's own progress for the long scan."""
        if not self.progress_enabled:
            con.execute(sql)
            return
        done = threading.Event()

        def poll() -> None:
            while not done.wait(0.25):
                try:
                    pct = con.query_progress()
                except Exception:  # noqa: BLE001 - progress is best effort
                    return
                if pct >= 0:
                    self.on_progress(stage, pct)

        t = threading.Thread(target=poll, daemon=True)
        t.start()
        try:
            con.execute(sql)
        finally:
            done.set()
            t.join()
        self.on_progress(stage, 100.0)

    # ---------------------------------------------------------------- scan
    def scan(
        self,
        sources: list[Source],
        customers: str | Path,
        *,
        allow: str | Path | None = None,
        state: State | None = None,
        problems: Problems | None = None,
        verdicts: VerdictBook | None = None,
    ) -> ScanResult:
        problems = problems or Problems()
        state = state or State(None)
        self.verdicts = verdicts or VerdictBook.load(state.dir)
        t_start = time.perf_counter()
        with tempfile.TemporaryDirectory(prefix="ccinspect-", dir=self.temp_dir) as tmp:
            con = self._connect(Path(tmp))
            try:
                return self._scan(con, sources, customers, allow, state, problems, t_start)
            finally:
                con.close()

    def _scan(self, con, sources, customers, allow, state, problems, t_start) -> ScanResult:
        R = self.rules.rules
        shared_min = self.rules.shared_address.min_success_accounts
        n_cust = self._load_customers(con, customers)
        state.load(con)
        self._has_history = state.loaded_accounts > 0
        self._hourly = None
        self.on_progress("scan", 0.0)
        # The one pass over the inputs. A row whose result or time is not valid gets failed = NULL:
        # it is counted as malformed and dropped below. Country only feeds the history rules.
        country = "max(country)" if state.enabled else "NULL::VARCHAR"
        self._run(
            con,
            f"""CREATE TEMP TABLE agg AS
            SELECT account, ip,
                   CASE WHEN ts_ms IS NULL THEN NULL WHEN result = 'failure' THEN true WHEN result = 'success' THEN false END AS failed,
                   CASE WHEN result = 'failure' THEN ts_ms // 60000 END AS minute,
                   count(*)::BIGINT AS n, min(ts_ms) AS t0, max(ts_ms) AS t1, {country} AS country
            FROM ({self._scan_sql(sources)})
            GROUP BY ALL""",
            "scan",
        )
        t_scan = time.perf_counter()
        # Rows with an empty field, or a result or time that is not valid, have their own groups.
        n_null = con.execute(
            "SELECT coalesce(sum(n), 0)::BIGINT FROM agg WHERE failed IS NULL OR account IS NULL OR ip IS NULL"
        ).fetchone()[0]
        if n_null:
            con.execute("DELETE FROM agg WHERE failed IS NULL OR account IS NULL OR ip IS NULL")
        # Addresses: totals and impossible addresses.
        con.execute(
            rf"""CREATE TEMP TABLE ipstat AS
            SELECT ip, coalesce(fails, 0)::BIGINT AS fails, coalesce(succ, 0)::BIGINT AS succ, succ_accounts, t0, t1,
                   NOT regexp_full_match(ip, '{IP_SHAPE}') AS bad
            FROM (SELECT ip, sum(n) FILTER (WHERE failed) AS fails, sum(n) FILTER (WHERE NOT failed) AS succ,
                         count(*) FILTER (WHERE NOT failed) AS succ_accounts, min(t0) AS t0, max(t1) AS t1
                  FROM agg GROUP BY ip)"""
        )
        self._collect_problems(con, sources, problems, n_null)
        self._ensure_udf(con)
        # The broker's allow list and the analysts' allow / test-traffic verdicts suppress alike.
        self._allowed(con, load_allow(allow) + self.verdicts.networks())
        con.execute(f"CREATE TEMP TABLE shared AS SELECT ip FROM ipstat WHERE succ_accounts >= {shared_min}")
        con.execute("CREATE TEMP TABLE f AS SELECT account, ip, minute, n, t0, t1 FROM agg WHERE failed")
        con.execute("CREATE TEMP VIEW s AS SELECT account, ip, n, t0, t1, country FROM agg WHERE NOT failed")
        # Failure pairs (allow-listed addresses left out).
        con.execute(
            """CREATE TEMP TABLE fp AS
            SELECT ip, account, sum(n)::BIGINT AS nf, min(minute) AS m0, max(minute) AS m1,
                   min(t0) AS t0, max(t1) AS t1
            FROM f WHERE ip NOT IN (SELECT ip FROM allowed) GROUP BY ip, account"""
        )
        # Accounts with enough failures to be brute-forced (the rule's smallest window threshold).
        lo = min(w.min_failures for w in R.brute_force.windows)
        con.execute(f"CREATE TEMP TABLE bf_cand AS SELECT account FROM f GROUP BY account HAVING sum(n) >= {lo}")
        # The successes the rules look at, in one pass over the aggregate: those of a failure pair
        # (`resolves`: the customer's own mistake), all those at non-shared addresses that failed
        # (typos, takeovers) and those of brute-force candidates. Carrier NAT successes of
        # accounts that never failed, most of the aggregate, are left out.
        con.execute(
            """CREATE TEMP TABLE sx AS
            SELECT a.account, a.ip, a.n, a.t0, a.t1, fp.account IS NOT NULL AS resolves
            FROM agg a LEFT JOIN fp ON fp.account = a.account AND fp.ip = a.ip
            WHERE NOT a.failed
              AND (fp.account IS NOT NULL
                   OR a.ip IN (SELECT ip FROM ipstat WHERE fails > 0 AND ip NOT IN (SELECT ip FROM shared))
                   OR a.account IN (SELECT account FROM bf_cand))"""
        )

        # Failure pairs not resolved by a success of the same pair, nor by a typo of an account
        # that then logged in from the same (non-shared) address.
        con.execute(
            """CREATE TEMP TABLE up0 AS
            SELECT fp.*, (c.account IS NOT NULL) AS customer
            FROM fp ANTI JOIN (SELECT ip, account FROM sx WHERE resolves) r ON r.ip = fp.ip AND r.account = fp.account
            LEFT JOIN cust c ON c.account = fp.account"""
        )
        d = self.rules.typo.max_edit_distance
        con.execute(
            f"""CREATE TEMP TABLE up AS
            WITH u AS (SELECT ip, account FROM up0 WHERE ip NOT IN (SELECT ip FROM shared)),
            typo AS (SELECT DISTINCT u.ip, u.account FROM u JOIN sx ON sx.ip = u.ip
                     WHERE damerau_levenshtein(u.account, sx.account) <= {d})
            SELECT * FROM up0 ANTI JOIN typo USING (ip, account)"""
        )
        self.on_progress("rules", 10.0)

        alerts: list[Alert] = []
        if R.brute_force.enabled:
            alerts += self._brute_force(con)
        self.on_progress("rules", 30.0)
        single = self._single_address(con) if R.credential_stuffing.enabled else []
        alerts += single
        con.execute("CREATE TEMP TABLE flagged (ip VARCHAR)")
        if single:
            _insert(con, "flagged", [ip for a in single for ip in a.ips])
        self.on_progress("rules", 50.0)
        campaigns = self._campaigns(con) if R.stuffing_campaign.enabled else []
        alerts += campaigns
        if campaigns:
            _insert(con, "flagged", [ip for a in campaigns for ip in a.ips])
        if R.non_customer.enabled:
            alerts += self._non_customer(con)
        self.on_progress("rules", 70.0)
        con.execute("CREATE TEMP TABLE attackers (ip VARCHAR)")
        attack_ips = sorted({ip for a in alerts for ip in a.ips})
        if attack_ips:
            _insert(con, "attackers", attack_ips)
        takeovers = self._takeover(con) if R.account_takeover.enabled else []
        alerts += takeovers
        new_src = self._new_source(con, state) if R.new_source.enabled and state.loaded_accounts else []
        alerts += new_src
        self.on_progress("rules", 90.0)

        alerts.sort(key=lambda a: alert_order(a.as_dict()))
        for i, a in enumerate(alerts, 1):
            a.id = f"A{i:05d}"
        self._confidence(con, alerts, state)
        self._mark_verdicts(alerts)
        attach_evidence(alerts, sources, self.rules.notifications.evidence_events)
        notes, withheld = self._notifications(alerts)
        facts = self._three_strikes(con, sources)
        summary = self._summary(con, sources, problems, alerts, notes, n_cust, state, t_start, t_scan)
        charts = self._charts(con, campaigns)
        if state.enabled:
            self._learn(con, state, summary)
        self.on_progress("rules", 100.0)
        summary["notifications_withheld"] = len(withheld)
        summary["three_strikes_systems"] = len(facts)
        summary["verdicts_known"] = len(self.verdicts.verdicts)
        summary["alerts_marked_false_positive"] = sum(a.verdict is not None for a in alerts)
        return ScanResult(alerts=alerts, notifications=notes, summary=summary, problems=problems, charts=charts,
                          facts=facts, withheld=withheld)

    # ---------------------------------------------------------------- input problems
    def _collect_problems(self, con, sources: list[Source], problems: Problems, n_null: int) -> None:
        rows = con.execute(
            """SELECT s.file_path, e.line, e.column_name, e.error_type, e.error_message
               FROM reject_errors e JOIN reject_scans s USING (scan_id, file_id)
               ORDER BY s.file_path, e.line, e.column_idx"""
        ).fetchall()
        seen = set()
        for file, line, col, etype, msg in rows:
            # DuckDB lists each missing column of a short line; count the line once.
            if (file, line) in seen:
                continue
            seen.add((file, line))
            problems.add(file, line, col or "-", f"{etype}: {msg}")
        # Nulls and impossible addresses are not cast errors: find their lines with a plain scan.
        n_badip = con.execute("SELECT coalesce(sum(fails + succ), 0)::BIGINT FROM ipstat WHERE bad").fetchone()[0]
        n_bad = n_null + n_badip
        if n_bad:
            bad_ips = {r[0] for r in con.execute("SELECT ip FROM ipstat WHERE bad").fetchall()}
            found = self._find_bad_lines(sources, bad_ips, problems, limit=problems.max_samples)
            if found < n_bad:  # lines beyond the sample are still counted
                problems.add("(all inputs)", "-", "-", f"{n_bad - found} more rows with empty or invalid fields", n_bad - found)
        if n_badip:
            con.execute("DELETE FROM agg WHERE ip IN (SELECT ip FROM ipstat WHERE bad)")
            con.execute("DELETE FROM ipstat WHERE bad")

    def _find_bad_lines(self, sources, bad_ips: set[str], problems: Problems, limit: int) -> int:
        found = 0
        for s in sources:
            if s.fmt != "csv":
                continue  # converted files were validated line by line already
            with open_text(s.path) as fh:
                reader = csv.reader(fh)
                header = next(reader, [])
                idx = {c: header.index(c) for c in REQUIRED}
                for rec in reader:
                    if found >= limit:
                        return found
                    line = reader.line_num
                    if len(rec) != len(header):
                        continue  # already reported by DuckDB
                    for c in REQUIRED:
                        v = rec[idx[c]].strip()
                        if not v:
                            problems.add(s.origin, line, c, f"empty {c}")
                            found += 1
                            break
                        msg = None
                        if c == "ip" and v in bad_ips and check_ip(v) is None:
                            msg = f"not an IP address: {v[:60]!r}"
                        elif c == "result" and v not in RESULTS:
                            msg = f"expected success or failure, got {v[:30]!r}"
                        elif c == "ts" and parse_ts(v) is None:
                            msg = f"not an ISO 8601 time: {v[:40]!r}"
                        if msg:
                            problems.add(s.origin, line, c, msg)
                            found += 1
                            break
        return found

    def _allowed(self, con, nets) -> None:
        con.execute("CREATE TEMP TABLE allowed (ip VARCHAR)")
        v4 = [(int(n.network_address), int(n.broadcast_address)) for n in nets if n.version == 4]
        v6 = [n for n in nets if n.version == 6]
        if v4:
            con.execute("CREATE TEMP TABLE allow4 (lo BIGINT, hi BIGINT)")
            _insert(con, "allow4", [lo for lo, _ in v4], [hi for _, hi in v4], types=("BIGINT", "BIGINT"))
            # Only addresses starting with a listed first octet are converted to numbers.
            octets = sorted({o for lo, hi in v4 for o in range(lo >> 24, (hi >> 24) + 1)})
            prefix = " OR ".join(f"starts_with(ip, '{o}.')" for o in octets)
            con.execute(
                rf"""INSERT INTO allowed
                SELECT DISTINCT i.ip FROM (
                  SELECT ip, (split_part(ip, '.', 1)::BIGINT << 24) + (split_part(ip, '.', 2)::BIGINT << 16)
                           + (split_part(ip, '.', 3)::BIGINT << 8) + split_part(ip, '.', 4)::BIGINT AS x
                  FROM ipstat WHERE ({prefix}) AND regexp_full_match(ip, '\d{{1,3}}\.\d{{1,3}}\.\d{{1,3}}\.\d{{1,3}}')) i
                JOIN allow4 a ON i.x BETWEEN a.lo AND a.hi"""
            )
        if v6:
            cands = [r[0] for r in con.execute("SELECT ip FROM ipstat WHERE contains(ip, ':')").fetchall()]
            hits = []
            for ip in cands:
                try:
                    a = ipaddress.ip_address(ip)
                except ValueError:
                    continue
                if any(a in n for n in v6):
                    hits.append((ip,))
            if hits:
                _insert(con, "allowed", [h for (h,) in hits])

    # ---------------------------------------------------------------- rules
    def _alert(self, name: str, **kw) -> Alert:
        r = self.rules.rule(name)
        kind = kw.pop("kind", name)
        return Alert(kind=kind, severity=kw.pop("severity", r.severity), rule=name, ref_ids=list(r.ref_ids), **kw)

    def _brute_force(self, con) -> list[Alert]:
        r = self.rules.rules.brute_force
        wins = r.windows
        lo = min(w.min_failures for w in wins)
        cols = ", ".join(
            f"sum(n) OVER (PARTITION BY account ORDER BY minute RANGE BETWEEN {w.minutes - 1} PRECEDING AND CURRENT ROW) AS w{i}"
            for i, w in enumerate(wins)
        )
        having = " OR ".join(f"max(w{i}) >= {w.min_failures}" for i, w in enumerate(wins))
        maxes = ", ".join(f"max(w{i})" for i in range(len(wins)))
        # A customer's own few failures from an address that then logged in (a lockout, an
        # outage) are not guessing: pairs resolved by a success count only from `lo` failures up.
        con.execute(
            f"""CREATE TEMP TABLE bf_f AS
            SELECT f.* FROM f
            WHERE f.account IN (SELECT account FROM bf_cand) AND f.ip NOT IN (SELECT ip FROM allowed)
              AND (f.ip, f.account) NOT IN (
                SELECT fp.ip, fp.account FROM fp JOIN sx ON sx.resolves AND sx.ip = fp.ip AND sx.account = fp.account
                WHERE fp.nf < {lo} AND fp.account IN (SELECT account FROM bf_cand))"""
        )
        hits = con.execute(
            f"""WITH am AS (
                  SELECT account, minute, sum(n) AS n FROM bf_f
                  WHERE account IN (SELECT account FROM bf_f GROUP BY account HAVING sum(n) >= {lo})
                  GROUP BY account, minute),
                w AS (SELECT account, minute, {cols} FROM am)
                SELECT account, {maxes} FROM w GROUP BY account HAVING {having} ORDER BY account"""
        ).fetchall()
        if not hits:
            return []
        con.execute("CREATE TEMP TABLE bf_hit (account VARCHAR)")
        _insert(con, "bf_hit", [h[0] for h in hits])
        per_ip = con.execute(
            """SELECT account, ip, sum(n)::BIGINT, min(t0), max(t1), ip IN (SELECT ip FROM shared) FROM bf_f
               WHERE account IN (SELECT account FROM bf_hit)
               GROUP BY account, ip ORDER BY account, 3 DESC"""
        ).fetchall()
        succ = dict(
            con.execute(
                "SELECT account, sum(n)::BIGINT FROM sx WHERE account IN (SELECT account FROM bf_hit) GROUP BY account"
            ).fetchall()
        )
        by_acct: dict[str, list] = {}
        for acct, ip, n, t0, t1, is_shared in per_ip:
            # A shared gateway is named only when it alone carries a window's worth of failures.
            if not is_shared or n >= lo:
                by_acct.setdefault(acct, []).append((ip, n, t0, t1))
        out = []
        for h in hits:
            acct, maxes_v = h[0], h[1:]
            rows = by_acct.get(acct, [])
            if not rows:
                continue
            named = [x for x in rows if x[1] >= r.min_failures_per_address] or rows
            fired = [w for w, m in zip(wins, maxes_v, strict=True) if m >= w.min_failures]
            total = sum(x[1] for x in rows)
            out.append(
                self._alert(
                    "brute_force",
                    thresholds={"windows": [w.model_dump() for w in wins], "fired": [w.model_dump() for w in fired],
                                "min_failures_per_address": r.min_failures_per_address},
                    ips=[x[0] for x in named],
                    accounts=[acct],
                    counts={"failures": total, "max_in_window": max(maxes_v), "addresses": len(rows),
                            "successes": succ.get(acct, 0)},
                    first=iso(min(x[2] for x in rows)),
                    last=iso(max(x[3] for x in rows)),
                    detail=f"{max(maxes_v)} failures on one account within {fired[0].minutes} min",
                )
            )
        return out

    def _single_address(self, con) -> list[Alert]:
        rs, rp = self.rules.rules.credential_stuffing, self.rules.rules.password_spraying
        wins = rs.windows
        lo = min(w.min_accounts for w in wins)
        cols = ", ".join(
            f"sum(c) OVER (PARTITION BY ip ORDER BY minute RANGE BETWEEN {w.minutes - 1} PRECEDING AND CURRENT ROW) AS w{i}"
            for i, w in enumerate(wins)
        )
        having = " OR ".join(f"max(w{i}) >= {w.min_accounts}" for i, w in enumerate(wins))
        maxes = ", ".join(f"max(w{i})" for i in range(len(wins)))
        hits = con.execute(
            f"""WITH cand AS (
                  SELECT u.ip FROM up u JOIN ipstat USING (ip)
                  GROUP BY u.ip, ipstat.fails, ipstat.succ
                  HAVING count(*) >= {lo} AND ipstat.fails / (ipstat.fails + ipstat.succ) >= {rs.min_failure_ratio}),
                im AS (SELECT ip, m0 AS minute, count(*) AS c FROM up WHERE ip IN (SELECT ip FROM cand) GROUP BY ip, m0),
                w AS (SELECT ip, minute, {cols} FROM im)
                SELECT ip, {maxes} FROM w GROUP BY ip HAVING {having} ORDER BY ip"""
        ).fetchall()
        if not hits:
            return []
        con.execute("CREATE TEMP TABLE sa_hit (ip VARCHAR)")
        _insert(con, "sa_hit", [h[0] for h in hits])
        stats = {
            row[0]: row[1:]
            for row in con.execute(
                """SELECT u.ip, count(*), count(*) FILTER (WHERE customer), sum(nf)::BIGINT, min(u.t0), max(u.t1),
                          list(account ORDER BY account), any_value(i.succ), any_value(i.fails)
                   FROM up u JOIN ipstat i USING (ip) WHERE u.ip IN (SELECT ip FROM sa_hit) GROUP BY u.ip"""
            ).fetchall()
        }
        out = []
        for h in hits:
            ip, maxes_v = h[0], h[1:]
            n_acc, n_cust, nf, t0, t1, accts, succ, fails = stats[ip]
            share = n_cust / n_acc
            per_acct = nf / n_acc
            spraying = rp.enabled and share >= rp.min_customer_share and per_acct <= rp.max_attempts_per_account
            fired = [w for w, m in zip(wins, maxes_v, strict=True) if m >= w.min_accounts]
            name = "password_spraying" if spraying else "credential_stuffing"
            thresholds = {"windows": [w.model_dump() for w in wins], "fired": [w.model_dump() for w in fired],
                          "min_failure_ratio": rs.min_failure_ratio}
            if spraying:
                thresholds |= {"min_customer_share": rp.min_customer_share,
                               "max_attempts_per_account": rp.max_attempts_per_account}
            out.append(
                self._alert(
                    name,
                    thresholds=thresholds,
                    ips=[ip],
                    accounts=accts,
                    counts={"failures": nf, "accounts": n_acc, "customer_accounts": n_cust,
                            "max_accounts_in_window": max(maxes_v), "successes": succ,
                            "failure_ratio": round(fails / (fails + succ), 4)},
                    first=iso(t0),
                    last=iso(t1),
                    detail=(f"{max(maxes_v)} accounts failed from one address within {fired[0].minutes} min; "
                            f"{share:.0%} of them customers, {per_acct:.1f} attempts each"),
                )
            )
        return out

    def _campaigns(self, con) -> list[Alert]:
        r = self.rules.rules.stuffing_campaign
        W = r.window_minutes
        d2 = r.typo_distance
        # Near typos: a failure within `typo_distance` keystrokes of an account that logged in from
        # the same (non-shared) address is the customer's own, not a list entry.
        con.execute(
            f"""CREATE TEMP TABLE near AS
            SELECT DISTINCT u.ip, u.account FROM up u JOIN sx ON sx.ip = u.ip
            WHERE u.ip NOT IN (SELECT ip FROM shared) AND damerau_levenshtein(u.account, sx.account) <= {d2}"""
        )
        # With history: a lone failed account from an address block where the account that then
        # logged in has logged in before is an established customer's own slip (weak evidence).
        # Without history, whether that account is established is unknown: a lone failed account then a
        # success on another account from the same address stays weak evidence, never a member by itself.
        own = "count(*) = 1 AND ip IN (SELECT ip FROM sx)"
        if self._has_history:
            own = f"""ip IN (SELECT sx.ip FROM sx JOIN hist_prefix h
                               ON h.account = sx.account AND h.prefix = {self._prefix_sql('sx.ip')})
                      AND count(*) = 1"""
        con.execute(
            f"""CREATE TEMP TABLE suspects AS
            SELECT ip, min(m0) AS minute, count(*) AS accts, count(*) FILTER (WHERE NOT customer) AS noncust,
                   sum(nf)::BIGINT AS fails, min(t0) AS t0, max(t1) AS t1
            FROM (SELECT * FROM up ANTI JOIN near USING (ip, account))
            WHERE ip NOT IN (SELECT ip FROM shared) AND ip NOT IN (SELECT ip FROM flagged)
            GROUP BY ip
            HAVING (count(*) FILTER (WHERE NOT customer) >= {r.suspect.min_non_customer_accounts}
                    OR count(*) >= {r.suspect.min_accounts}) AND NOT ({own})"""
        )
        base = self._baseline(con)
        con.execute("CREATE OR REPLACE TEMP TABLE expect (hour INTEGER, e DOUBLE)")
        _insert(con, "expect", list(range(24)), [base["expected_per_hour"][h] for h in range(24)],
                types=("INTEGER", "DOUBLE"))
        # A window is a campaign when its suspect addresses depart from the baseline: at least
        # min_addresses, burst_factor times the expected count, and z deviations above it.
        con.execute(
            f"""CREATE TEMP TABLE camp_members AS
            WITH wc AS (
              SELECT minute, count(*) OVER (ORDER BY minute RANGE BETWEEN {W - 1} PRECEDING AND CURRENT ROW) AS c
              FROM suspects),
            we AS (SELECT wc.minute, wc.c, x.e * {W} / 60.0 AS e FROM wc
                   JOIN expect x ON x.hour = hour(to_timestamp(wc.minute * 60)::TIMESTAMPTZ)),
            ends AS (SELECT DISTINCT minute FROM we
                     WHERE c >= {r.min_addresses} AND c >= {r.burst_factor} * e AND c >= e + {r.burst_z} * sqrt(e)),
            m AS (SELECT DISTINCT s.* FROM suspects s JOIN ends e
                  ON s.minute > e.minute - {W} AND s.minute <= e.minute)
            SELECT *, sum(gap) OVER (ORDER BY minute, ip ROWS UNBOUNDED PRECEDING) AS campaign
            FROM (SELECT *, CASE WHEN minute - lag(minute) OVER (ORDER BY minute, ip) > {W} THEN 1 ELSE 0 END AS gap
                  FROM m)"""
        )
        self._base = base
        if r.include_new_address_singles and self._has_history:
            # With history, an address that only failed on accounts it was never used for, inside
            # a campaign's period, joins it: a customer's own give-up comes from a known address.
            con.execute(
                f"""INSERT INTO camp_members
                WITH span AS (SELECT campaign, min(minute) - {W} AS lo, max(minute) + {W} AS hi
                              FROM camp_members GROUP BY campaign),
                cand AS (
                  SELECT u.ip, min(u.m0) AS minute, count(*) AS accts, count(*) FILTER (WHERE NOT customer) AS noncust,
                         sum(nf)::BIGINT AS fails, min(u.t0) AS t0, max(u.t1) AS t1,
                         bool_and(h.account IS NULL) AS all_new
                  FROM up u
                  LEFT JOIN (SELECT account, prefix FROM hist_prefix) h
                    ON h.account = u.account AND h.prefix = {self._prefix_sql('u.ip')}
                  WHERE u.ip NOT IN (SELECT ip FROM shared) AND u.ip NOT IN (SELECT ip FROM flagged)
                    AND u.ip NOT IN (SELECT ip FROM camp_members) AND u.ip NOT IN (SELECT ip FROM ipstat WHERE succ > 0)
                    AND u.account IN (SELECT account FROM hist_account)
                  GROUP BY u.ip)
                SELECT c.ip, c.minute, c.accts, c.noncust, c.fails, c.t0, c.t1, 0 AS gap, s.campaign
                FROM cand c JOIN span s ON c.minute BETWEEN s.lo AND s.hi WHERE c.all_new"""
            )
        rows = con.execute(
            """SELECT campaign, list(ip ORDER BY ip), count(*), sum(accts)::BIGINT, sum(noncust)::BIGINT,
                      sum(fails)::BIGINT, min(t0), max(t1),
                      count(DISTINCT regexp_extract(ip, '^(\\d+\\.\\d+)\\.', 1))
               FROM camp_members GROUP BY campaign ORDER BY campaign"""
        ).fetchall()
        out = []
        for camp, ips, n_ip, n_acc, n_non, fails, t0, t1, nets in rows:
            peak, exp_w, shared_accts = con.execute(
                f"""WITH m AS (SELECT * FROM camp_members WHERE campaign = $1),
                    wc AS (SELECT minute, count(*) OVER (ORDER BY minute RANGE BETWEEN {W - 1} PRECEDING AND CURRENT ROW) AS c FROM m)
                    SELECT max(c), (SELECT max(x.e) * {W} / 60.0 FROM m JOIN expect x
                                     ON x.hour = hour(to_timestamp(m.minute * 60)::TIMESTAMPTZ)),
                           (SELECT count(*) FROM (SELECT account FROM up WHERE ip IN (SELECT ip FROM m)
                                                  GROUP BY account HAVING count(DISTINCT ip) >= 2))
                    FROM wc""", [camp]).fetchone()
            exp_w = float(exp_w or 0.0)
            ties = [f"burst: {peak} suspect addresses within {W} min against {exp_w:.1f} expected "
                    f"({base['source']})"]
            if shared_accts:
                ties.append(f"{shared_accts} account(s) tried from several of the addresses")
            if n_non / max(n_acc, 1) >= r.list_non_customer_share:
                ties.append(f"{n_non / max(n_acc, 1):.0%} of the accounts tried are not customers, as in a leaked list")
            accts = [
                a for (a,) in con.execute(
                    "SELECT DISTINCT account FROM up WHERE ip IN (SELECT ip FROM camp_members WHERE campaign = ?) ORDER BY 1",
                    [camp],
                ).fetchall()
            ]
            out.append(
                self._alert(
                    "stuffing_campaign",
                    thresholds={"window_minutes": W, "min_addresses": r.min_addresses,
                                "burst_factor": r.burst_factor, "burst_z": r.burst_z,
                                "typo_distance": r.typo_distance, "suspect": r.suspect.model_dump()},
                    ips=ips,
                    accounts=accts,
                    counts={"addresses": n_ip, "accounts": len(accts), "attempted_pairs": n_acc,
                            "non_customer_pairs": n_non, "failures": fails, "networks_16": nets,
                            "peak_addresses_in_window": peak, "expected_in_window": round(exp_w, 2),
                            "burst_ratio": round(peak / exp_w, 1) if exp_w else None,
                            "accounts_from_several_addresses": shared_accts, "baseline": base["source"],
                            "ties": ties},
                    first=iso(t0),
                    last=iso(t1),
                    detail=(f"{n_ip} addresses from {nets} /16 networks, each failing on few accounts "
                            f"({n_acc / n_ip:.1f} on average), {n_non / max(n_acc, 1):.0%} of them not customers"),
                )
            )
        return out

    def _baseline(self, con) -> dict:
        """Expected suspect addresses per hour of day: the ratio of suspects to logins in that hour,
        from --state history (median over past days) or, without history, the median over the day's
        busy hours (robust: a campaign fills a few hours, not half of them), times today's logins."""
        hours = dict(con.execute(
            "SELECT hour(to_timestamp(t0 / 1000)::TIMESTAMPTZ), sum(n)::BIGINT FROM agg GROUP BY 1").fetchall())
        sus = dict(con.execute(
            "SELECT hour(to_timestamp(minute * 60)::TIMESTAMPTZ), count(*) FROM suspects GROUP BY 1").fetchall())
        self._hourly = (hours, sus)
        hist = con.execute(
            """SELECT hour, median(suspects / logins), count(*) FROM hist_hourly WHERE logins > 0 GROUP BY hour"""
        ).fetchall()
        days = max((n for _, _, n in hist), default=0)
        min_days = self.rules.rules.stuffing_campaign.baseline_min_days
        if days >= min_days:
            ratio = {h: r for h, r, _ in hist}
            source = f"baseline by hour of day from {days} earlier day(s)"
        else:
            total = sum(hours.values()) or 1
            busy = [sus.get(h, 0) / n for h, n in hours.items() if n >= 0.02 * total]
            busy.sort()
            med = busy[len(busy) // 2] if busy else 0.0
            ratio = {h: med for h in range(24)}
            source = "baseline from this day's busy hours (median; no history yet)"
        return {"expected_per_hour": [float(ratio.get(h, 0.0)) * hours.get(h, 0) for h in range(24)], "source": source}

    def _non_customer(self, con) -> list[Alert]:
        r = self.rules.rules.non_customer
        W = r.window_minutes
        rows = con.execute(
            f"""WITH nc AS (SELECT * FROM up WHERE NOT customer AND ip NOT IN (SELECT ip FROM flagged)),
                cand AS (SELECT nc.ip FROM nc JOIN ipstat i USING (ip) GROUP BY nc.ip, i.fails, i.succ
                         HAVING count(*) >= {r.min_accounts} AND sum(nf) / (i.fails + i.succ) >= {r.min_share}),
                w AS (SELECT ip, count(*) OVER (PARTITION BY ip ORDER BY m0 RANGE BETWEEN {W - 1} PRECEDING AND CURRENT ROW) AS c
                      FROM nc WHERE ip IN (SELECT ip FROM cand)),
                hit AS (SELECT ip, max(c) AS c FROM w GROUP BY ip HAVING max(c) >= {r.min_accounts})
                SELECT nc.ip, any_value(hit.c), list(account ORDER BY account), sum(nf)::BIGINT, min(t0), max(t1)
                FROM nc JOIN hit USING (ip) GROUP BY nc.ip ORDER BY nc.ip"""
        ).fetchall()
        return [
            self._alert(
                "non_customer",
                thresholds={"window_minutes": W, "min_accounts": r.min_accounts, "min_share": r.min_share},
                ips=[ip],
                accounts=accts,
                counts={"accounts": len(accts), "max_in_window": c, "failures": nf},
                first=iso(t0),
                last=iso(t1),
                detail=f"{c} accounts that are not customers tried within {W} min",
            )
            for ip, c, accts, nf, t0, t1 in rows
        ]

    def _takeover(self, con) -> list[Alert]:
        rows = con.execute(
            """SELECT s.account, list(DISTINCT s.ip ORDER BY s.ip), sum(s.n)::BIGINT, min(s.t0), max(s.t1)
               FROM sx s JOIN attackers a ON a.ip = s.ip
               WHERE s.ip NOT IN (SELECT ip FROM allowed) AND s.ip NOT IN (SELECT ip FROM shared)
               GROUP BY s.account ORDER BY s.account"""
        ).fetchall()
        return [
            self._alert(
                "account_takeover",
                thresholds={},
                ips=ips,
                accounts=[acct],
                counts={"successes": n},
                first=iso(t0),
                last=iso(t1),
                detail="successful login from an address that attacked accounts",
            )
            for acct, ips, n, t0, t1 in rows
        ]

    def _prefix_sql(self, col: str = "ip") -> str:
        """The address block of an address, as a key ('v4:<high bits>' or 'v6:<network>')."""
        r = self.rules.rules.new_source
        v4 = " + ".join(f"(split_part({col}, '.', {k})::BIGINT << {24 - 8 * (k - 1)})" for k in range(1, 5))
        return (
            f"CASE WHEN regexp_full_match({col}, '\\d{{1,3}}\\.\\d{{1,3}}\\.\\d{{1,3}}\\.\\d{{1,3}}') "
            f"THEN 'v4:' || (({v4}) >> {32 - r.ipv4_prefix})::VARCHAR ELSE (SELECT v.prefix FROM v6map v WHERE v.ip = {col}) END"
        )

    def _ensure_udf(self, con) -> None:
        """v6map: IPv6 address -> its block key, computed in Python (few addresses; no numpy UDF)."""
        if getattr(self, "_v6_ready", None) is con:
            return
        bits = self.rules.rules.new_source.ipv6_prefix
        con.execute("CREATE OR REPLACE TEMP TABLE v6map (ip VARCHAR, prefix VARCHAR)")
        ips = [r[0] for r in con.execute("SELECT ip FROM ipstat WHERE contains(ip, ':')").fetchall()]
        rows = []
        for ip in ips:
            try:
                rows.append((ip, "v6:" + str(ipaddress.ip_network(f"{ip}/{bits}", strict=False).network_address)))
            except ValueError:
                rows.append((ip, "?:" + ip))
        if rows:
            _insert(con, "v6map", [r[0] for r in rows], [r[1] for r in rows], types=("VARCHAR", "VARCHAR"))
        self._v6_ready = con

    def _new_source(self, con, state: State) -> list[Alert]:
        self._ensure_udf(con)
        rows = con.execute(
            f"""WITH t AS (
                  SELECT s.account, s.ip, s.country, s.t0, {self._prefix_sql()} AS prefix,
                         s.ip IN (SELECT ip FROM shared) AS is_shared
                  FROM s SEMI JOIN hist_account h ON h.account = s.account
                  WHERE s.ip NOT IN (SELECT ip FROM allowed) AND s.ip NOT IN (SELECT ip FROM attackers)),
                nc AS (SELECT t.* FROM t ANTI JOIN hist_country h ON h.account = t.account AND h.country = t.country
                       WHERE t.country IS NOT NULL),
                np AS (SELECT t.* FROM t ANTI JOIN hist_prefix h ON h.account = t.account AND h.prefix = t.prefix
                       WHERE NOT t.is_shared)
                SELECT account, 'country' AS what, list(DISTINCT country), list(DISTINCT ip ORDER BY ip), min(t0),
                       account IN (SELECT account FROM up) AS after_failures
                FROM nc GROUP BY account
                UNION ALL
                SELECT account, 'address', [], list(DISTINCT ip ORDER BY ip), min(t0),
                       account IN (SELECT account FROM up)
                FROM np WHERE account NOT IN (SELECT account FROM nc) GROUP BY account
                ORDER BY 1"""
        ).fetchall()
        r = self.rules.rules.new_source
        out = []
        for acct, what, countries, ips, t0, after_failures in rows:
            detail = (f"first login from {', '.join(countries)}" if what == "country"
                      else "first login from this address block")
            out.append(
                self._alert(
                    "new_source",
                    thresholds={"ipv4_prefix": r.ipv4_prefix, "ipv6_prefix": r.ipv6_prefix, "new": what},
                    ips=ips,
                    accounts=[acct],
                    counts={"addresses": len(ips)},
                    first=iso(t0),
                    last=iso(t0),
                    detail=detail + (" after failed logins on the account" if after_failures else ""),
                )
            )
            notify = r.notify_new_country if what == "country" else r.notify_new_address
            out[-1].counts["notify"] = notify == "always" or (notify == "after_failures" and after_failures)
        return out

    def _confidence(self, con, alerts: list[Alert], state: State) -> None:
        """A confidence (high/medium/low) and its reason on every alert."""
        by_ip: dict[str, set[str]] = {}
        ids_by_ip: dict[str, list[str]] = {}
        for a in alerts:
            if a.kind in ATTACK_KINDS:
                for ip in a.ips:
                    by_ip.setdefault(ip, set()).add(a.kind)
                    ids_by_ip.setdefault(ip, []).append(a.id)
        tk = [a for a in alerts if a.kind == "account_takeover"]
        ipfail: dict[str, tuple[int, int]] = {}
        known: set[tuple[str, str]] = set()
        if tk:
            ips = sorted({ip for a in tk for ip in a.ips})
            # Accounts the address failed on, leaving out those a few keystrokes from an account that
            # logged in from it (the customer's own slips).
            d2 = self.rules.rules.stuffing_campaign.typo_distance
            ipfail = {ip: (nf, na) for ip, nf, na in con.execute(
                f"""SELECT ip, sum(nf)::BIGINT, count(DISTINCT account) FROM fp
                    WHERE ip IN (SELECT unnest($1::VARCHAR[]))
                      AND NOT EXISTS (SELECT 1 FROM sx WHERE sx.ip = fp.ip
                                      AND damerau_levenshtein(sx.account, fp.account) <= {d2})
                    GROUP BY ip""",
                [ips]).fetchall()}
            if self._has_history:
                known = set(con.execute(
                    f"""SELECT s.account, s.ip FROM sx s JOIN hist_prefix h
                          ON h.account = s.account AND h.prefix = {self._prefix_sql('s.ip')}
                        WHERE s.ip IN (SELECT unnest($1::VARCHAR[]))""", [ips]).fetchall())
        strong = ("brute_force", "credential_stuffing", "password_spraying", "non_customer")
        for a in alerts:
            if a.kind in strong:
                a.confidence, a.confidence_reason = "high", f"{a.detail} (thresholds crossed: {a.thresholds.get('fired') or a.thresholds})"
            elif a.kind == "stuffing_campaign":
                ties = a.counts.get("ties", [])
                a.confidence = "high" if len(ties) >= 2 else "medium"
                a.confidence_reason = ("evidence tying the addresses: " + "; ".join(ties)) if ties else "burst only"
            elif a.kind == "new_source":
                country = a.thresholds.get("new") == "country"
                a.confidence = "high" if country else ("medium" if "after failed" in a.detail else "low")
                a.confidence_reason = a.detail
            elif a.kind == "account_takeover":
                acct = a.accounts[0]
                kinds = sorted({k for ip in a.ips for k in by_ip.get(ip, ())})
                fails = [ipfail.get(ip, (0, 0)) for ip in a.ips]
                max_acc = max((na for _, na in fails), default=0)
                est = [ip for ip in a.ips if (acct, ip) in known]
                a.counts |= {"attacker_alerts": sorted({i for ip in a.ips for i in ids_by_ip.get(ip, ())}),
                             "attacker_alert_kinds": kinds, "failed_accounts_from_address": max_acc,
                             "address_known_for_account": bool(est)}
                if set(kinds) & set(strong):
                    a.confidence, a.confidence_reason = "high", (
                        f"success from an address alerted for {', '.join(k for k in kinds if k in strong)}")
                elif est and max_acc <= 1:
                    a.confidence, a.confidence_reason = "low", (
                        "a lone failure then a success on an established customer's account, from an address block "
                        "it used before: weak evidence, not a takeover on its own")
                elif max_acc >= 2:
                    a.confidence, a.confidence_reason = "high", (
                        f"the address failed on {max_acc} other accounts in a campaign, then logged in to this one")
                elif self._has_history and state.loaded_accounts:
                    a.confidence, a.confidence_reason = "high", (
                        "one failure in a campaign, then a success from an address block the account never used")
                else:
                    a.confidence, a.confidence_reason = "medium", (
                        "one failure in a campaign, then a success; no history to tell whether the address is the customer's own")
            else:
                a.confidence, a.confidence_reason = "medium", a.detail

    def _mark_verdicts(self, alerts: list[Alert]) -> None:
        """An alert an analyst called a false positive before is marked and kept from customers."""
        for a in alerts:
            v = self.verdicts.false_positive(a.kind, a.ips, a.accounts)
            if v:
                a.verdict = v.to_dict()
                a.confidence, a.confidence_reason = "low", (
                    f"{v.decided_by} judged alert {v.alert_id} on the same addresses/accounts a false positive "
                    f"on {v.decided_at}")

    def _notifications(self, alerts: list[Alert]) -> tuple[list[Notification], list[Notification]]:
        """One notification per customer per incident window, from every alert that names them."""
        cfg = self.rules.notifications
        rank = {"high": 3, "medium": 2, "low": 1, "": 0}
        floor = rank[cfg.min_confidence]
        win = cfg.incident_window_hours * 3600
        cands = []
        if self.rules.rules.account_takeover.notify:
            cands += [a for a in alerts if a.kind == "account_takeover"]
        cands += [a for a in alerts if a.kind == "new_source" and a.counts.get("notify")]
        per: dict[str, list[list[Alert]]] = {}
        for a in sorted(cands, key=lambda a: (a.accounts[0], a.first or "")):
            groups = per.setdefault(a.accounts[0], [])
            t = datetime.fromisoformat(a.first).timestamp() if a.first else 0
            if groups and t - datetime.fromisoformat(groups[-1][0].first).timestamp() < win:
                groups[-1].append(a)
            else:
                groups.append([a])
        notes, withheld = [], []
        for acct, groups in per.items():
            for g in groups:
                best = max(g, key=lambda a: (rank[a.confidence], a.kind == "account_takeover"))
                ips = sorted({ip for a in g for ip in a.ips})
                if best.kind == "account_takeover":
                    reason = f"login from {', '.join(best.ips[:3])}, an address that attacked other accounts: confirm it was you"
                else:
                    reason = f"{best.detail} ({', '.join(best.ips[:3])}): confirm it was you"
                n = Notification(
                    account=acct, kind=best.kind, ips=ips, first=min(a.first for a in g if a.first),
                    last=max(a.last or a.first for a in g if a.first), reason=reason,
                    confidence=best.confidence, confidence_reason=best.confidence_reason,
                    alerts=[a.id for a in g] + sorted({i for a in g for i in a.counts.get("attacker_alerts", [])}),
                    rule=best.rule, thresholds=best.thresholds, counts=best.counts,
                    evidence=[e for a in g for e in a.evidence][: cfg.evidence_events])
                (notes if rank[best.confidence] >= floor and best.verdict is None else withheld).append(n)
        key = lambda n: (n.kind != "account_takeover", n.account)  # noqa: E731
        return sorted(notes, key=key), sorted(withheld, key=key)

    def _three_strikes(self, con, sources: list[Source]) -> list[dict]:
        """More consecutive failures on one account than the control allows, per system (input file)."""
        ts = self.rules.three_strikes
        if ts is None or not ts.enabled:
            return []
        k = ts.max_consecutive_failures
        # Candidates from the aggregate (a superset): islands of failure minutes no more than max_gap
        # apart holding more than k failures. Only their events are read again, in order.
        con.execute(
            f"""CREATE TEMP TABLE ts_cand AS
            WITH am AS (SELECT account, minute, sum(n) AS n FROM f GROUP BY account, minute),
            g AS (SELECT *, CASE WHEN minute - lag(minute) OVER (PARTITION BY account ORDER BY minute) > {ts.max_gap_minutes + 1}
                                 THEN 1 ELSE 0 END AS brk FROM am),
            i AS (SELECT *, sum(brk) OVER (PARTITION BY account ORDER BY minute ROWS UNBOUNDED PRECEDING) AS island FROM g)
            SELECT DISTINCT account FROM i GROUP BY account, island HAVING sum(n) > {k}"""
        )
        if not con.execute("SELECT count(*) FROM ts_cand").fetchone()[0]:
            return []
        parts = []
        for cols, reader in csv_readers(sources):
            sf = "source_file" if "source_file" in cols else "NULL::VARCHAR"
            sl = "source_line" if "source_line" in cols else "NULL::VARCHAR"
            parts.append(f"SELECT {self._ts_ms_sql()} AS ts_ms, account, ip, result, {sf} AS sf, {sl} AS sl, filename AS fn "
                         f"FROM {reader.replace('store_rejects=true', 'filename=true')} WHERE account IN (SELECT account FROM ts_cand)")
        rows = con.execute(
            f"""WITH e AS ({' UNION ALL '.join(parts)}),
                g AS (SELECT *, coalesce(sf, fn) AS system,
                             ts_ms - lag(ts_ms) OVER (PARTITION BY coalesce(sf, fn), account ORDER BY ts_ms, sl) AS gap
                      FROM e WHERE ts_ms IS NOT NULL AND result IN ('success', 'failure')),
                -- A success, or a pause longer than max_gap_minutes (a new session), breaks the run.
                r AS (SELECT *, sum(CASE WHEN result = 'success' OR gap > {ts.max_gap_minutes * 60000} THEN 1 ELSE 0 END)
                               OVER (PARTITION BY system, account ORDER BY ts_ms, sl ROWS UNBOUNDED PRECEDING) AS run
                      FROM g),
                runs AS (SELECT system, account, run, count(*) AS n, min(ts_ms) AS t0, max(ts_ms) AS t1,
                                arg_min(coalesce(sl, ''), ts_ms) AS line0, list(DISTINCT ip ORDER BY ip)[:5] AS ips
                         FROM r WHERE result = 'failure' GROUP BY ALL HAVING count(*) > {k})
                SELECT system, count(DISTINCT account), count(*), max(n), sum(n)::BIGINT,
                       list({{'account': account, 'failures': n, 'first': t0, 'last': t1, 'line': line0, 'ips': ips}}
                            ORDER BY n DESC, account)[:10]
                FROM runs GROUP BY system ORDER BY system"""
        ).fetchall()
        origin = {str(s.path): str(s.origin) for s in sources}
        out = []
        for system, n_acc, n_runs, longest, fails, ex in rows:
            out.append({
                "kind": "three_strikes", "ref_ids": list(ts.ref_ids), "basis": _clauses(ts.ref_ids),
                "description": ts.description,
                "system": origin.get(system, system),
                "thresholds": {"max_consecutive_failures": k, "max_gap_minutes": ts.max_gap_minutes},
                "counts": {"accounts": n_acc, "runs_over_limit": n_runs, "longest_run": longest, "failures_in_runs": fails},
                "examples": [{**e, "first": iso(e["first"]), "last": iso(e["last"])} for e in ex],
                "finding": (f"{n_acc} account(s) with more than {k} consecutive failed logins (longest {longest}) "
                            "without the connection being cut: the control did not hold on this system"),
            })
        return out

    # ---------------------------------------------------------------- outputs
    def _summary(self, con, sources, problems, alerts, notes, n_cust, state, t_start, t_scan) -> dict:
        tot = con.execute(
            """SELECT coalesce(sum(fails + succ), 0)::BIGINT, coalesce(sum(fails), 0)::BIGINT,
                      (SELECT count(DISTINCT account) FROM agg), count(*), min(t0), max(t1) FROM ipstat"""
        ).fetchone()
        nc = con.execute(
            """SELECT coalesce(sum(f.n), 0)::BIGINT, count(DISTINCT f.account), count(DISTINCT f.ip)
               FROM f ANTI JOIN cust c ON c.account = f.account"""
        ).fetchone()
        by_kind: dict[str, int] = {}
        for a in alerts:
            by_kind[a.kind] = by_kind.get(a.kind, 0) + 1
        return {
            "events": tot[0] + problems.count,
            "valid_events": tot[0],
            "failures": tot[1],
            "successes": tot[0] - tot[1],
            "accounts": tot[2],
            "addresses": tot[3],
            "customers_in_roster": n_cust,
            "non_customer_failures": nc[0],
            "non_customer_accounts": nc[1],
            "non_customer_addresses": nc[2],
            "shared_addresses": con.execute("SELECT count(*) FROM shared").fetchone()[0],
            "allowlisted_addresses": con.execute("SELECT count(*) FROM allowed").fetchone()[0],
            "malformed": problems.count,
            "ignored_lines": sum(s.ignored for s in sources),
            "first": iso(tot[4]),
            "last": iso(tot[5]),
            "alerts": len(alerts),
            "alerts_by_kind": by_kind,
            "notifications": len(notes),
            "state_accounts_known": state.loaded_accounts,
            "seconds_scan": round(t_scan - t_start, 3),
            "seconds_total": round(time.perf_counter() - t_start, 3),
        }

    def _charts(self, con, campaigns: list[Alert]) -> dict:
        timeline = con.execute(
            """SELECT (minute // 10) * 600000 AS t, sum(n)::BIGINT,
                      coalesce(sum(n) FILTER (WHERE ip IN (SELECT ip FROM attackers)), 0)::BIGINT
               FROM f GROUP BY 1 ORDER BY 1"""
        ).fetchall()
        top = con.execute(
            """SELECT ip, fails, succ, ip IN (SELECT ip FROM attackers) FROM ipstat
               WHERE fails > 0 ORDER BY fails DESC, ip LIMIT 20"""
        ).fetchall()
        spread = []
        for i, _ in enumerate(campaigns):
            pts = con.execute(
                """SELECT (minute // 5) * 300000 AS t, count(*) AS n,
                          count(DISTINCT regexp_extract(ip, '^(\\d+\\.\\d+)\\.', 1)) AS nets
                   FROM camp_members WHERE campaign = (SELECT DISTINCT campaign FROM camp_members ORDER BY 1 LIMIT 1 OFFSET ?)
                   GROUP BY 1 ORDER BY 1""",
                [i],
            ).fetchall()
            spread.append({"alert": campaigns[i].id, "points": [(iso(t), n, nets) for t, n, nets in pts]})
        return {
            "failures_timeline": [(iso(t), n, a) for t, n, a in timeline],
            "top_addresses": [{"ip": ip, "failures": f, "successes": s, "alerted": bool(a)} for ip, f, s, a in top],
            "campaign_spread": spread,
        }

    def _learn(self, con, state: State, summary: dict) -> None:
        self._ensure_udf(con)
        con.execute(
            f"""CREATE TEMP TABLE learned AS
            SELECT account, {self._prefix_sql()} AS prefix, country, n, t0, t1
            FROM s WHERE ip NOT IN (SELECT ip FROM attackers)"""
        )
        hourly = None
        if getattr(self, "_hourly", None) is not None:
            hours, sus = self._hourly
            # Campaign members are attacks, not the ordinary rate: left out of the baseline.
            camp = dict(con.execute(
                "SELECT hour(to_timestamp(minute * 60)::TIMESTAMPTZ), count(*) FROM camp_members GROUP BY 1").fetchall())
            hourly = [(h, max(sus.get(h, 0) - camp.get(h, 0), 0), n) for h, n in sorted(hours.items())]
        state.save(con, "learned", {"first": summary["first"], "last": summary["last"],
                                    "events": summary["events"], "alerts": summary["alerts"],
                                    "rules_version": self.rules.version}, hourly)
