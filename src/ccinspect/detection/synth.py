"""Realistic login traffic with planted attacks, shared by the tests and bench/logins.py.

Benign traffic is generated in DuckDB SQL (so 50M events take seconds, not hours); attacks are
generated in Python and merged. Everything is a deterministic function of `seed`.

Population: customers log in from a home address, from mobile carriers' NAT gateways (shared by
thousands) and from office gateways (shared by hundreds). Some mistype their password, some give
up, some mistype their ID; a short outage makes many logins fail and then succeed; a few customers
travel abroad. Planted attacks: brute force (fast and slow), single-address credential stuffing,
a residential-proxy campaign (many addresses, few accounts each), password spraying and
low-and-slow stuffing; some attackers get in (takeovers).
"""

from __future__ import annotations

import csv
import ipaddress
import json
import random
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import duckdb

TAIPEI = timezone(timedelta(hours=8))  # Taiwan has kept UTC+8 without DST since 1980

# Residential ranges of Taiwanese ISPs (home addresses of customers).
_HOME_V4 = ["36.224.0.0/11", "114.24.0.0/14", "1.160.0.0/12", "118.160.0.0/13"]
# Mobile carriers' CGNAT egress: few addresses, thousands of customers each.
_NAT_V4 = ["39.8.0.0/24", "49.216.0.0/24", "27.247.0.0/24"]
_NAT_PER_RANGE = 20
_OFFICE_V4 = "210.61.0.0/16"
_MONITORS = ["10.20.0.5", "10.20.0.6"]
_MONITOR_ACCOUNT = "SVCMON01"
_TRAVEL = {"JP": "126.0.0.0/10", "US": "73.0.0.0/10"}
# Attackers: hosting/VPN for single-address attacks, residential proxies for the campaign.
_ATTACK_DC = ["185.220.0.0/16", "45.134.0.0/16", "103.75.0.0/16"]
_ATTACK_PROXY = ["177.0.0.0/10", "111.240.0.0/12", "220.128.0.0/12", "91.192.0.0/12"]
_ATTACK_UA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/120.0"

_PERM = 48271  # coprime with 10**8: account digits are a bijection of the index


def account_id(i: int) -> str:
    """A national-ID-shaped login id (letter, 1/2, eight digits), unique per index."""
    return f"{chr(65 + (i * 7) % 26)}{1 + (i // 26) % 2}{(i * _PERM + 12345) % 100_000_000:08d}"


_ACCOUNT_SQL = (
    "chr((65 + ({i} * 7) % 26)::INTEGER) || (1 + ({i} // 26) % 2)::VARCHAR || "
    "lpad((({i} * {p} + 12345) % 100000000)::VARCHAR, 8, '0')"
)


def _acct_sql(expr: str) -> str:
    return _ACCOUNT_SQL.format(i=f"({expr})", p=_PERM)


def _ip_sql(expr: str) -> str:
    # integer -> dotted quad
    e = f"({expr})"
    return (
        f"(({e} >> 24) & 255)::VARCHAR || '.' || (({e} >> 16) & 255)::VARCHAR || '.' || "
        f"(({e} >> 8) & 255)::VARCHAR || '.' || ({e} & 255)::VARCHAR"
    )


def _net(cidr: str) -> tuple[int, int]:
    n = ipaddress.ip_network(cidr)
    return int(n.network_address), n.num_addresses


@dataclass
class Truth:
    """What was planted, for scoring detections."""

    attacker_ips: dict[str, list[str]] = field(default_factory=dict)  # kind -> addresses
    takeover_accounts: list[str] = field(default_factory=list)
    nat_ips: list[str] = field(default_factory=list)
    office_ips: list[str] = field(default_factory=list)
    monitor_ips: list[str] = field(default_factory=list)
    traveller_accounts: list[str] = field(default_factory=list)
    customers: int = 0
    events: int = 0

    def all_attackers(self) -> set[str]:
        return {ip for ips in self.attacker_ips.values() for ip in ips}


@dataclass
class Dataset:
    events: Path
    roster: Path
    allow: Path
    truth: Truth


def _nat_ips() -> list[str]:
    out = []
    for cidr in _NAT_V4:
        base, _ = _net(cidr)
        out += [str(ipaddress.IPv4Address(base + 1 + k)) for k in range(_NAT_PER_RANGE)]
    return out


def _office_ips(customers: int) -> list[str]:
    """Office gateways: one per ~1000 customers, so each serves hundreds of them."""
    base, _ = _net(_OFFICE_V4)
    n = max(5, customers // 1000)
    return [str(ipaddress.IPv4Address(base + 256 * (k // 200) + 1 + k % 200)) for k in range(n)]


def _benign_sql(sessions: int, customers: int, seed: int, day: date, *, outage: bool, travel: bool,
                pseed: int, typo_rate: float = 0.0015) -> str:
    """One row per login event of ordinary customers (`pseed`: the population, `seed`: the day)."""
    homes = " ".join(
        f"WHEN {k} THEN {_net(c)[0]} + hash(c, {pseed}, 6) % {_net(c)[1] - 2} + 1"
        for k, c in enumerate(_HOME_V4)
    )
    nat = _nat_ips()
    nat_list = "[" + ",".join(f"'{ip}'" for ip in nat) + "]"
    office = _office_ips(customers)
    office_list = "[" + ",".join(f"'{ip}'" for ip in office) + "]"
    jp, jn = _net(_TRAVEL["JP"])
    us, un = _net(_TRAVEL["US"])
    d0 = f"TIMESTAMP '{day.isoformat()} 00:00:00'"
    # Diurnal profile as a piecewise-linear CDF: 60% of logins in trading hours 08:30-13:30.
    cdf = [(0.0, 0), (0.05, 7 * 3600), (0.15, 8.5 * 3600), (0.75, 13.5 * 3600), (0.85, 18 * 3600), (1.0, 86399)]
    pieces = " ".join(
        f"WHEN q < {b[0]} THEN {a[1]} + (q - {a[0]}) / {b[0] - a[0]} * {b[1] - a[1]}"
        for a, b in zip(cdf, cdf[1:], strict=False)
    )
    out_lo, out_hi = 10 * 3600 + 30 * 60, 10 * 3600 + 45 * 60
    outage_cond = f"(sec BETWEEN {out_lo} AND {out_hi})" if outage else "false"
    travel_cond = f"(hash(c, {pseed}, 20) % 1000 < 2)" if travel else "false"
    return f"""
    WITH s AS (
      SELECT s, c, u, src_r, sec, {travel_cond} AS travelling, {outage_cond} AS in_outage,
             u >= 330 AND hash(s, {seed}, 13) % 1000000 < {int(typo_rate * 1_000_000)} AS idtypo,
             hash(s, {seed}, 14) % 4 AS typo_kind
      FROM (
        SELECT s, (hash(s, {seed}, 1) % {customers})::BIGINT AS c, (hash(s, {seed}, 3) % 10000)::BIGINT AS u,
               (hash(s, {seed}, 2) % 100)::BIGINT AS src_r,
               (CASE {pieces} ELSE 86399 END)::BIGINT AS sec
        FROM (SELECT s, (s + (hash(s, {seed}, 9) % 1000) / 1000.0) / {sessions} AS q FROM range({sessions}) t(s))
      )
    ), p AS (
      SELECT *,
        CASE WHEN in_outage THEN 1 + u % 2
             WHEN u < 300 THEN 1 + u % 3          -- mistyped password, then success
             WHEN u < 330 THEN 1 + u % 3          -- gave up
             WHEN idtypo THEN 1                   -- mistyped the id once, then logged in
             ELSE 0 END AS k,
        NOT (u >= 300 AND u < 330 AND NOT in_outage) AS ok,
        CASE WHEN travelling THEN
               CASE WHEN c % 2 = 0 THEN {jp} + hash(c, {pseed}, 21) % {jn} ELSE {us} + hash(c, {pseed}, 21) % {un} END
             WHEN src_r < 50 OR (src_r >= 85 AND hash(c, {pseed}, 8) % 3 <> 0) THEN
               (CASE hash(c, {pseed}, 5) % {len(_HOME_V4)} {homes} END)
             ELSE NULL END AS ipn,
        CASE WHEN travelling THEN (CASE WHEN c % 2 = 0 THEN 'JP' ELSE 'US' END) ELSE 'TW' END AS country
      FROM s
    ), r AS (
      SELECT *, unnest(range((k + ok::INTEGER)::BIGINT)) AS j FROM p
    )
    SELECT
      {d0} + to_seconds(CASE
          WHEN j >= k THEN (CASE WHEN in_outage THEN {out_hi} + 30 + hash(s, {seed}, 11) % 600 ELSE sec END)
          WHEN in_outage THEN sec + j * 20
          ELSE sec - (k - j) * (8 + hash(s, {seed}, 12) % 20) END) AS ts,
      -- Mistyped ids: a wrong last digit, two digits swapped, two digits wrong, or another id
      -- altogether (an old account, a family member's): only the first two are one keystroke away.
      CASE WHEN j < k AND idtypo AND NOT in_outage THEN
             CASE typo_kind
               WHEN 0 THEN ({_acct_sql('c')})[:9] || ((({_acct_sql('c')})[10:]::INTEGER + 1) % 10)::VARCHAR
               WHEN 1 THEN ({_acct_sql('c')})[:4] || ({_acct_sql('c')})[6:6] || ({_acct_sql('c')})[5:5] || ({_acct_sql('c')})[7:]
               WHEN 2 THEN ({_acct_sql('c')})[:3] || ((({_acct_sql('c')})[4:4]::INTEGER + 3) % 10)::VARCHAR
                           || ({_acct_sql('c')})[5:8] || ((({_acct_sql('c')})[9:9]::INTEGER + 5) % 10)::VARCHAR
                           || ({_acct_sql('c')})[10:]
               ELSE {_acct_sql(f'80000000 + hash(s, {seed}, 15) % 10000000')} END
           ELSE {_acct_sql('c')} END AS account,
      CASE WHEN ipn IS NOT NULL THEN {_ip_sql('ipn')}
           WHEN src_r < 85 THEN {nat_list}[1 + (hash(s, {seed}, 7) % {len(nat)})::INTEGER]
           ELSE {office_list}[1 + (hash(c, {pseed}, 9) % {len(office)})::INTEGER] END AS ip,
      CASE WHEN j >= k THEN 'success' ELSE 'failure' END AS result,
      CASE WHEN j >= k THEN NULL WHEN in_outage THEN 'service_unavailable' ELSE 'bad_password' END AS reason,
      CASE WHEN src_r >= 50 AND src_r < 85 THEN 'app' ELSE 'web' END AS channel,
      country
    FROM r
    """


class _Attacks:
    """Planted attacks, written row by row (they are a small share of the traffic)."""

    def __init__(self, seed: int, day: date, customers: int, scale: float):
        self.rng = random.Random(seed * 7919 + 17)
        self.day0 = datetime(day.year, day.month, day.day, tzinfo=TAIPEI)
        self.customers = customers
        self.scale = scale
        self.rows: list[tuple] = []
        self.truth: dict[str, list[str]] = {}
        self.takeovers: list[str] = []
        self._used: set[str] = set()
        self._noncust = 60_000_000

    def ip(self, pools: list[str]) -> str:
        while True:
            base, size = _net(self.rng.choice(pools))
            ip = str(ipaddress.IPv4Address(base + self.rng.randrange(1, size - 1)))
            if ip not in self._used:
                self._used.add(ip)
                return ip

    def customer(self) -> str:
        return account_id(self.rng.randrange(self.customers))

    def non_customer(self) -> str:
        self._noncust += 1 + self.rng.randrange(50)
        return account_id(self._noncust)

    def combo(self, customer_share: float) -> str:
        return self.customer() if self.rng.random() < customer_share else self.non_customer()

    def add(self, kind: str, t: datetime, account: str, ip: str, ok: bool, country: str = "") -> None:
        self.rows.append((t.strftime("%Y-%m-%dT%H:%M:%S"), account, ip, "success" if ok else "failure",
                          "" if ok else "bad_password", "web", country))
        self.truth.setdefault(kind, [])
        if ip not in self.truth[kind]:
            self.truth[kind].append(ip)

    def at(self, seconds: float) -> datetime:
        return self.day0 + timedelta(seconds=min(max(seconds, 0), 86399))

    def n(self, base: int) -> int:
        return max(1, round(base * self.scale))

    def plant(self) -> None:
        r = self.rng
        # Fast brute force: one address, one account, tens to hundreds of tries in minutes.
        for k in range(self.n(4)):
            ip, acct, t0 = self.ip(_ATTACK_DC), self.customer(), r.uniform(3600, 80000)
            tries = r.randint(30, 200)
            for j in range(tries):
                self.add("brute_force", self.at(t0 + j * r.uniform(1, 4)), acct, ip, False)
            if k == 0:  # it finds the password
                self.add("brute_force", self.at(t0 + tries * 4 + 2), acct, ip, True)
                self.takeovers.append(acct)
        # Slow brute force: one try every 30-60 minutes all day.
        for _ in range(self.n(2)):
            ip, acct, t = self.ip(_ATTACK_DC), self.customer(), r.uniform(0, 1800)
            while t < 86000:
                self.add("brute_force_slow", self.at(t), acct, ip, False)
                t += r.uniform(1800, 3600)
        # Single-address credential stuffing: a leaked list, one try per account.
        for k in range(self.n(5)):
            ip, t0 = self.ip(_ATTACK_DC), r.uniform(0, 80000)
            for j in range(r.randint(200, 1500)):
                acct = self.combo(0.08)
                ok = k % 2 == 0 and j % 300 == 150
                acct = self.customer() if ok else acct
                self.add("credential_stuffing", self.at(t0 + j * r.uniform(0.5, 3)), acct, ip, ok)
                if ok:
                    self.takeovers.append(acct)
        # Residential-proxy campaign: hundreds of addresses, each with 1-4 accounts, in ~2 hours.
        t0 = r.uniform(20000, 70000)
        for k in range(self.n(600)):
            ip = self.ip(_ATTACK_PROXY)
            t = t0 + r.uniform(0, 7200)
            for _ in range(1 + min(3, int(r.expovariate(0.9)))):
                acct = self.combo(0.08)
                self.add("stuffing_campaign", self.at(t), acct, ip, False)
                t += r.uniform(5, 120)
            if k % 150 == 7:  # a valid pair in the list
                acct = self.customer()
                self.add("stuffing_campaign", self.at(t + 3), acct, ip, True)
                self.takeovers.append(acct)
        # Password spraying: real customer ids (enumerated), one or two common passwords each.
        for _ in range(self.n(3)):
            ip, t = self.ip(_ATTACK_DC), r.uniform(0, 30000)
            for _ in range(r.randint(60, 200)):
                acct = self.customer()
                for _ in range(r.choice((1, 1, 2))):
                    self.add("password_spraying", self.at(t), acct, ip, False)
                    t += r.uniform(20, 200)
        # Low-and-slow stuffing: one try every 10-40 minutes from one address, all day.
        for _ in range(self.n(3)):
            ip, t = self.ip(_ATTACK_PROXY), r.uniform(0, 1800)
            while t < 86000:
                self.add("low_and_slow", self.at(t), self.combo(0.1), ip, False)
                t += r.uniform(600, 2400)


def generate(
    out_dir: str | Path,
    n_events: int = 200_000,
    *,
    seed: int = 7,
    population_seed: int = 1,
    day: date = date(2024, 5, 2),
    attacks: bool = True,
    outage: bool = True,
    travel: bool = True,
    gzip: bool = False,
    customers: int | None = None,
    typo_rate: float = 0.0015,
) -> Dataset:
    """Write events.csv(.gz), roster.csv, allow.txt and truth.json under `out_dir`."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    n_cust = customers or max(2000, n_events // 8)
    sessions = max(1, int(n_events / 1.06))
    scale = min(max(n_events / 1_000_000, 0.25), 4.0)
    con = duckdb.connect()
    con.execute("SET TimeZone='Asia/Taipei'")
    con.execute("SET enable_progress_bar=false")
    con.execute("SET preserve_insertion_order=false")
    parts = [f"SELECT ts, account, ip, result, reason, channel, country FROM ({_benign_sql(sessions, n_cust, seed, day, outage=outage, travel=travel, pseed=population_seed, typo_rate=typo_rate)})"]
    # The broker's own monitors: a scripted login each minute, a wrong-password probe every 10 minutes.
    mon = []
    for m in range(1440):
        for ip in _MONITORS:
            t = datetime(day.year, day.month, day.day, tzinfo=TAIPEI) + timedelta(minutes=m, seconds=_MONITORS.index(ip) * 7)
            ts = t.strftime("%Y-%m-%dT%H:%M:%S")
            mon.append((ts, _MONITOR_ACCOUNT, ip, "success", "", "api", "TW"))
            if m % 10 == 0:
                mon.append((ts, _MONITOR_ACCOUNT, ip, "failure", "bad_password", "api", "TW"))
    atk = _Attacks(seed, day, n_cust, scale)
    if attacks:
        atk.plant()
    extra = out / "_extra.csv"
    with extra.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["ts", "account", "ip", "result", "reason", "channel", "country"])
        w.writerows(mon)
        w.writerows(atk.rows)
    parts.append(
        f"SELECT ts::TIMESTAMP AS ts, account, ip, result, reason, channel, country "
        f"FROM read_csv('{extra}', header=true, all_varchar=true)"
    )
    events = out / ("events.csv.gz" if gzip else "events.csv")
    con.execute(
        f"""COPY (SELECT strftime(ts, '%Y-%m-%dT%H:%M:%S') AS ts, account, ip, result, reason, channel,
                          NULLIF(country, '') AS country
                  FROM ({' UNION ALL '.join(parts)}) ORDER BY ts)
            TO '{events}' (HEADER, DELIMITER ','{", COMPRESSION gzip" if gzip else ""})"""
    )
    extra.unlink()
    total = con.execute(f"SELECT count(*) FROM read_csv('{events}', header=true, all_varchar=true)").fetchone()[0] if n_events <= 2_000_000 else None
    roster = out / "roster.csv"
    con.execute(
        f"""COPY (SELECT {_acct_sql('i')} AS account, 'customer' AS kind FROM range({n_cust}) t(i)
                  UNION ALL SELECT '{_MONITOR_ACCOUNT}', 'staff') TO '{roster}' (HEADER)"""
    )
    allow = out / "allow.txt"
    allow.write_text("# broker's synthetic-login monitors\n" + "".join(f"{ip}\n" for ip in _MONITORS))
    travellers = []
    if travel:
        travellers = [r[0] for r in con.execute(
            f"SELECT DISTINCT account FROM read_csv('{events}', header=true, all_varchar=true) "
            "WHERE country IN ('JP', 'US') AND result = 'success'").fetchall()] if n_events <= 2_000_000 else []
    truth = Truth(
        attacker_ips=atk.truth,
        takeover_accounts=atk.takeovers,
        nat_ips=_nat_ips(),
        office_ips=_office_ips(n_cust),
        monitor_ips=list(_MONITORS),
        traveller_accounts=travellers,
        customers=n_cust,
        events=total or 0,
    )
    (out / "truth.json").write_text(json.dumps(asdict(truth), indent=1))
    con.close()
    return Dataset(events=events, roster=roster, allow=allow, truth=truth)


def to_sshd_syslog(events: str | Path, roster: str | Path, out: str | Path, host: str = "core1") -> Path:
    """The same events as OpenSSH syslog lines (what fail2ban reads)."""
    out = Path(out)
    con = duckdb.connect()
    con.execute("SET TimeZone='Asia/Taipei'")
    con.execute("SET preserve_insertion_order=true")
    con.execute(
        f"""COPY (
          SELECT strftime(e.ts, '%b') || ' ' || lpad(day(e.ts)::VARCHAR, 2, ' ') || strftime(e.ts, ' %H:%M:%S')
                 || ' {host} sshd[' || (1000 + hash(e.account) % 60000)::VARCHAR || ']: '
                 || CASE WHEN e.result = 'success' THEN 'Accepted password for ' || e.account
                         WHEN r.account IS NULL THEN 'Failed password for invalid user ' || e.account
                         ELSE 'Failed password for ' || e.account END
                 || ' from ' || e.ip || ' port ' || (1024 + hash(e.ts, e.ip) % 60000)::VARCHAR || ' ssh2' AS line
          FROM read_csv('{events}', header=true, columns={{'ts': 'TIMESTAMP', 'account': 'VARCHAR', 'ip': 'VARCHAR',
                        'result': 'VARCHAR', 'reason': 'VARCHAR', 'channel': 'VARCHAR', 'country': 'VARCHAR'}}) e
          LEFT JOIN read_csv('{roster}', header=true) r USING (account)
        ) TO '{out}' (HEADER false, QUOTE '', ESCAPE '', DELIMITER '\x1f')"""
    )
    con.close()
    return out
