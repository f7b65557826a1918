"""OpenSSH's login messages in every envelope syslog and journald write them in.

Envelopes (detected per file from its first lines, then per line when one does not fit):
BSD syslog with or without host name (also with an RFC 3164 `<PRI>` and journalctl `-o short` /
`short-precise`), rsyslog's high-precision RFC 3339 time stamps (also journalctl `short-iso`,
`short-iso-precise`), journalctl `short-full` (`Tue 2024-12-10 06:55:46 CST host …`), RFC 5424
(`<38>1 2024-12-10T06:55:46+08:00 host sshd 24200 - - …`) and Solaris' `[ID 800047 auth.info]`
message prefix. journalctl `-o json` has its own reader (`journaljson`), same messages.

Programs `sshd`, `sshd-session` (OpenSSH 9.8+), `sshd-auth` (10.0) and `sshd(pam_unix)`.
Counted (see docs/logins.md for the table):
- `Failed <method> for [invalid user] X from A port N ssh2[: KEY SHA256:…]`: a failure;
  `Accepted …`: a success; `message repeated N times: [ … ]`: N times the inner message.
- Attempts that left no `Failed` line count once per connection: `Invalid user X from A`, `User X from
  A not allowed …`, `Connection closed by|Disconnected from authenticating|invalid user X A port N
  [preauth]`, `Disconnecting authenticating user X A port N: Too many authentication failures`,
  `error: maximum authentication attempts exceeded for X from A port N`. A connection is known by
  (host, address, port) and by (host, pid); one `Failed`/`Accepted` line of it covers all of these.
- PAM-only failures (`pam_unix(sshd:auth): authentication failure; … rhost=A user=X`, the old
  `sshd(pam_unix)[pid]: authentication failure; …`, `PAM N more authentication failures`, `error: PAM:
  Authentication failure for X from A`) count once per attempt when that sshd process wrote no
  `Failed password`/`keyboard-interactive` line for it: per (host, pid), max(pam_unix failures +
  "N more", `error: PAM` lines) minus the process' `Failed` lines.
User and address are taken by position: the address is the last `from A port N` before sshd's fixed
trailer, so a user name that itself contains `from 6.6.6.6 port 22` stays in the user name.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from . import FileAccount, ReadContext, Reader, check_ip, lines_of, register
from .clock import MONTHS, Clock, YearWalker

_PROG = r"(?P<prog>[^\s\[:]+)(?:\[(?P<pid>\d+)\])?"
_HMS = r"(?P<time>(?:[01]\d|2[0-3]):[0-5]\d:[0-6]\d)(?P<frac>\.\d{1,9})?"
ENVELOPES: dict[str, re.Pattern] = {
    # BSD / RFC 3164 (optional <PRI>), journalctl -o short / short-precise; host optional
    "bsd": re.compile(
        r"^(?:<\d{1,3}>)?(?P<mon>Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) {1,2}(?P<day>\d{1,2}) "
        + _HMS + r"(?: (?P<year>\d{4}))? (?:(?P<host>[^\s\[]+) )?" + _PROG + r": ?(?P<msg>.*)$", re.S),
    # rsyslog RSYSLOG_FileFormat (RFC 3339), journalctl -o short-iso / short-iso-precise
    "iso": re.compile(
        r"^(?:<\d{1,3}>)?(?P<iso>\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:[.,]\d{1,9})?(?:[Zz]|[+-]\d\d:?\d\d)?) "
        r"(?:(?P<host>[^\s\[]+) )?" + _PROG + r": ?(?P<msg>.*)$", re.S),
    # journalctl -o short-full: weekday, date, time, zone abbreviation
    "full": re.compile(
        r"^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) (?P<date>\d{4}-\d\d-\d\d) " + _HMS
        + r" (?P<zone>[A-Za-z][A-Za-z0-9+-]{0,9}) (?P<host>[^\s\[]+) " + _PROG + r": ?(?P<msg>.*)$", re.S),
    # RFC 5424: <PRI>1 TIMESTAMP HOST APP PROCID MSGID SD MSG
    "rfc5424": re.compile(
        r"^<\d{1,3}>1 (?P<iso>\S+) (?P<host>\S+) (?P<prog>\S+) (?P<pid>\S+) \S+ (?:-|(?:\[(?:[^\]\\]|\\.)*\])+)"
        r"(?: \ufeff?(?P<msg>.*))?$", re.S),
}
ENVELOPE_LABELS = "BSD syslog, RFC 3339 (rsyslog/short-iso), journalctl short-full, RFC 5424"
# A syslog line whose program tag has no usual shape ("syslogd 1.4.1: restart."): another program's line.
_LOOSE = re.compile(r"^(?:<\d{1,3}>)?(?:[A-Z][a-z]{2} {1,2}\d{1,2} \d\d:\d\d:\d\d|\d{4}-\d\d-\d\dT\S+) \S+ (?!sshd)[^:]*: ")
_JOURNAL_MARK = re.compile(r"^-- (?:Logs begin|Journal begins|Journal ends|No entries|Boot |Reboot|Subject:)")
_SOLARIS = re.compile(r"^\[ID \d+ [\w.]+\] ")

_ADDR = r" from (?P<ip>\S+?)(?: port (?P<port>\d+))?"
_KEY = r"(?: ssh2)?(?:: \S+ \S+.*)?"  # the key trailer: "RSA SHA256:…", "RSA 39:33:…", "ED25519-CERT …"
_FAILED = re.compile(r"^Failed (?P<method>\S+) for (?:(?P<invalid>invalid user) )?(?P<user>.*)" + _ADDR + _KEY + r"$", re.S)
_ACCEPTED = re.compile(r"^Accepted (?P<method>\S+) for (?P<user>\S+)" + _ADDR + _KEY + r"$", re.S)
_INVALID = re.compile(r"^(?:Invalid|Illegal) user (?P<user>.*)" + _ADDR + r"$", re.S)
_NOT_ALLOWED = re.compile(r"^User (?P<user>.*)" + _ADDR + r" not allowed because .*$", re.S)
_CLOSED = re.compile(r"^(?:Connection closed by|Disconnected from) (?P<kind>authenticating|invalid) user (?P<user>.*) "
                     r"(?P<ip>\S+) port (?P<port>\d+)(?: \[preauth\])?$", re.S)
_DISCONNECTING = re.compile(r"^Disconnecting (?P<kind>authenticating|invalid) user (?P<user>.*) (?P<ip>\S+) port "
                            r"(?P<port>\d+): (?P<why>Too many authentication failures)(?: \[preauth\])?$", re.S)
_MAXTRIES = re.compile(r"^error: maximum authentication attempts exceeded for (?:(?P<invalid>invalid user) )?(?P<user>.*)"
                       + _ADDR + r"(?: ssh2)?(?: \[preauth\])?$", re.S)
_PAM_UNIX = re.compile(r"^(?:pam_unix\(sshd:auth\): )?authentication failure; logname=\S* uid=\S* euid=\S* tty=\S* "
                       r"ruser=\S* rhost=(?P<rhost>\S*)\s*(?:user=(?P<user>.*))?$", re.S)
_PAM_MORE = re.compile(r"^PAM (?P<n>\d+) more authentication failures?; .*?rhost=(?P<rhost>\S*)\s*(?:user=(?P<user>.*))?$",
                       re.S)
_PAM_ERROR = re.compile(r"^error: PAM: Authentication failure for (?:(?:illegal|invalid) user )?(?P<user>.*) from "
                        r"(?P<rhost>\S+)$", re.S)
_REPEATED = re.compile(r"^message repeated (?P<n>\d+) times: \[ ?(?P<msg>.*?) ?\]$", re.S)
# First words of the messages above: anything else from sshd is "not a login event".
_FIRST = {"Failed": _FAILED, "Accepted": _ACCEPTED, "Invalid": _INVALID, "Illegal": _INVALID, "User": _NOT_ALLOWED,
          "Connection": _CLOSED, "Disconnected": _CLOSED, "Disconnecting": _DISCONNECTING,
          "pam_unix(sshd:auth):": _PAM_UNIX, "authentication": _PAM_UNIX, "PAM": _PAM_MORE}
_PW_METHODS = ("password", "keyboard-interactive", "keyboard-interactive/pam")
# The hot line in one match: BSD syslog with host, an sshd program with pid, Failed or Accepted. Built from
# the same parts as the envelope and message patterns, so it accepts exactly what the general path would.
_FAST = re.compile(
    r"^(?:<\d{1,3}>)?(?P<mon>Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) {1,2}(?P<day>\d{1,2}) " + _HMS
    + r" (?P<host>[^\s\[]+) (?P<prog>sshd[^\s\[:]*)\[(?P<pid>\d+)\]: ?"
    r"(?:(?P<acc>Accepted) (?P<amethod>\S+) for (?P<auser>\S+)|Failed (?P<method>\S+) for (?:(?P<invalid>invalid user) )?"
    r"(?P<user>.*))" + _ADDR + _KEY + r"$", re.S)


def is_sshd(prog: str) -> bool:
    return prog.startswith("sshd")


class Sessions:
    """Connections of one file: attempts that left no `Failed` line, and PAM-only failures."""

    def __init__(self):
        self.covered: set[tuple] = set()       # connection keys with a Failed/Accepted line
        self.signals: list[tuple] = []         # (keys, line, ts, future, user, ip, reason)
        self.pam: dict[tuple, list] = {}       # (host, pid) -> [unix, errpam, unix refs, errpam refs]
        self.pw_failed: dict[tuple, int] = {}  # (host, pid) -> Failed password/keyboard-interactive lines

    @staticmethod
    def keys(host: str, pid: str | None, ip: str | None, port: str | None) -> tuple:
        out = []
        if ip and port:
            out.append(("c", host, ip, port))
        if pid:
            out.append(("p", host, pid))
        return tuple(out)

    def flush(self, acct: FileAccount) -> Iterator[dict]:
        # pam_unix names no user for an unknown account: the connection's "Invalid user X" does
        named = {k: sig[4] for sig in self.signals for k in sig[0] if k[0] == "p"}
        for (host, pid), (unix, errpam, unix_refs, err_refs) in self.pam.items():
            # pam_unix and "error: PAM" lines of one attempt are the same attempt: the first line names it
            refs = unix_refs if unix >= errpam else err_refs
            k = max(unix, errpam) - self.pw_failed.get((host, pid), 0)
            if k <= 0:
                continue
            self.covered.add(("p", host, pid))
            for line, n_at_line, ts, fut, user, rhost in refs[-k:]:
                acct.promote("pam_failure")
                ip = check_ip(rhost)
                if ip is None:
                    acct.bad(line, "rhost", f"sshd PAM failure: rhost {rhost[:60]!r} is not an IP address "
                                            "(sshd with UseDNS logs host names)")
                    continue
                yield acct.event({"ts": ts, "account": user or named.get(("p", host, pid), "(unknown)"), "ip": ip, "result": "failure",
                                  "reason": "pam_failure", "channel": "ssh", "_future": fut}, line, n_at_line)
        for keys, line, ts, fut, user, ip, reason in self.signals:
            if any(k in self.covered for k in keys):
                continue
            self.covered.update(keys)
            acct.promote("sshd_attempt")
            yield acct.event({"ts": ts, "account": user, "ip": ip, "result": "failure", "reason": reason,
                              "channel": "ssh", "_future": fut}, line)


def _user(raw: str) -> str:
    return raw.strip(" ")


def message(msg: str, host: str, pid: str | None, ts: str, fut: bool, line: int, acct: FileAccount,
            sess: Sessions, n: int = 1) -> Iterator[dict]:
    """The events of one sshd message (already inside its envelope)."""
    sol = _SOLARIS.match(msg)
    if sol:
        msg = msg[sol.end():]
    first = msg.split(" ", 1)[0]
    if first == "message":
        m = _REPEATED.match(msg)
        if not m:
            acct.skip("sshd_other")
            return
        # "repeated N times": the inner message happened N more times; it was counted once already.
        yield from message(m["msg"], host, pid, ts, fut, line, acct, sess, int(m["n"]))
        return
    if first == "error:":
        rx = _MAXTRIES if msg.startswith("error: maximum") else _PAM_ERROR if msg.startswith("error: PAM: Auth") else None
    else:
        rx = _FIRST.get(first)
    if rx is None:
        acct.skip("sshd_other")
        return
    m = rx.match(msg)
    if m is None:
        if first in ("Failed", "Accepted", "Invalid", "Illegal") or rx is _MAXTRIES or (
                rx is _PAM_UNIX and "authentication failure;" in msg[:40]):
            acct.bad(line, "message", f"sshd {first!r} message without its user and 'from ADDRESS [port N]': {msg[:80]!r}")
        else:
            acct.skip("sshd_other")
        return
    if rx is _FAILED or rx is _ACCEPTED:
        ip = check_ip(m["ip"])
        if ip is None:
            acct.bad(line, "ip", f"sshd {first} line: not an IP address: {m['ip'][:60]!r}")
            return
        user = _user(m["user"])
        if not user:
            acct.bad(line, "account", f"sshd {first} line: empty user name")
            return
        sess.covered.update(sess.keys(host, pid, ip, m["port"]))
        ok = rx is _ACCEPTED
        if not ok and m["method"] in _PW_METHODS and pid:
            sess.pw_failed[(host, pid)] = sess.pw_failed.get((host, pid), 0) + n
        reason = None if ok else ("invalid_user" if m["invalid"] else f"bad_{m['method']}")
        for k in range(1, n + 1):
            yield acct.event({"ts": ts, "account": user, "ip": ip, "result": "success" if ok else "failure",
                              "reason": reason, "channel": "ssh", "_future": fut}, line, k)
        return
    if rx is _PAM_UNIX or rx is _PAM_MORE or rx is _PAM_ERROR:
        acct.skip("pam_failure", n)  # counted as an event later only when sshd wrote no Failed line for it
        key = (host, pid or "?")
        rec = sess.pam.setdefault(key, [0, 0, [], []])
        cnt = int(m["n"]) * n if rx is _PAM_MORE else n
        i = 1 if rx is _PAM_ERROR else 0
        rec[i] += cnt
        user = _user(m["user"] or "")
        refs = rec[2 + i]
        for k in range(1, cnt + 1):
            refs.append((line, k, ts, fut, user, m["rhost"]))
        del refs[:-64]  # the last ones are enough: k never exceeds the failures of one process
        return
    # Attempts that may have left no Failed line: one failure per connection, decided at the end.
    ip = check_ip(m["ip"])
    if ip is None:
        acct.bad(line, "ip", f"sshd {first} line: not an IP address: {m['ip'][:60]!r}")
        return
    acct.skip("sshd_attempt", n)
    gd = m.groupdict()
    invalid = rx in (_INVALID, _NOT_ALLOWED) or gd.get("kind") == "invalid" or bool(gd.get("invalid"))
    reason = "invalid_user" if invalid else ("too_many_failures" if rx in (_DISCONNECTING, _MAXTRIES)
                                              else "closed_before_auth")
    sess.signals.append((sess.keys(host, pid, ip, gd.get("port")), line, ts, fut, _user(m["user"]) or "(unknown)",
                         ip, reason))


def _sniff(lines: list[str]) -> bool:
    # One syslog line among the first is enough to try: a mostly unreadable file is then reported as such
    # (with the lines that failed), not as "unknown format".
    return any(any(rx.match(ln) for rx in ENVELOPES.values()) or _JOURNAL_MARK.match(ln) for ln in lines)


def _time(m: re.Match, kind: str, clock: Clock, years: YearWalker) -> tuple[str, bool]:
    """(ISO text, future) of an envelope's time stamp; ValueError when it is not a valid date."""
    if kind == "bsd":
        mon = MONTHS[m["mon"]]
        y = int(m["year"]) if m["year"] else years(mon)
        return clock.local(y, mon, int(m["day"]), m["time"], m["frac"] or "")
    if kind == "full":
        d = m["date"]
        if m["zone"] in ("UTC", "GMT", "Z"):
            got = clock.parse(f"{d}T{m['time']}{m['frac'] or ''}+00:00")
            if got is None:
                raise ValueError(d)
            return got
        # a zone abbreviation (CST, JST): the wall clock of --timezone
        return clock.local(int(d[:4]), int(d[5:7]), int(d[8:10]), m["time"], m["frac"] or "")
    got = clock.parse(m["iso"])
    if got is None:
        raise ValueError(m["iso"])
    return got


def read(path: Path, acct: FileAccount, ctx: ReadContext) -> Iterator[dict]:
    clock = Clock(ctx.tz, ctx.now)
    years = YearWalker(ctx.year, datetime.fromtimestamp(path.stat().st_mtime, ctx.tz))
    sess = Sessions()
    order = list(ENVELOPES.items())
    skip = acct.skip
    fast, event, covered, pw_failed, local = _FAST.match, acct.event, sess.covered, sess.pw_failed, clock.local
    for n, text in lines_of(path, acct):
        f = fast(text)
        if f is not None:
            ip = check_ip(f["ip"])
            ok = f["acc"] is not None
            user = (f["auser"] if ok else f["user"]).strip(" ")
            mon = MONTHS[f["mon"]]
            try:
                ts, fut = local(years(mon), mon, int(f["day"]), f["time"], f["frac"] or "")
            except ValueError:
                ip = None  # an impossible date: the general path below says so
            if ip is not None and user:
                host, pid = f["host"], f["pid"]
                if f["port"]:
                    covered.add(("c", host, ip, f["port"]))
                covered.add(("p", host, pid))
                if ok:
                    reason = None
                else:
                    method = f["method"]
                    if method in _PW_METHODS:
                        pw_failed[(host, pid)] = pw_failed.get((host, pid), 0) + 1
                    reason = "invalid_user" if f["invalid"] else f"bad_{method}"
                yield event({"ts": ts, "account": user, "ip": ip, "result": "success" if ok else "failure",
                             "reason": reason, "channel": "ssh", "_future": fut}, n)
                continue
        m, kind = None, ""
        for i, (k, rx) in enumerate(order):
            m = rx.match(text)
            if m:
                kind = k
                if i:  # the envelope this file uses goes first
                    order.insert(0, order.pop(i))
                break
        if m is None:
            if _JOURNAL_MARK.match(text):
                skip("journal_marker")
            elif _LOOSE.match(text) and "sshd" not in text:
                skip("other_program")
            else:
                acct.bad(n, "line", f"not a syslog line (tried {ENVELOPE_LABELS}): {text[:80]!r}")
            continue
        if not m["prog"].startswith("sshd"):
            skip("other_program")
            continue
        try:
            ts, fut = _time(m, kind, clock, years)
        except ValueError as exc:
            acct.bad(n, "ts", f"syslog time stamp is not a valid date: {exc}")
            continue
        pid = m["pid"]
        yield from message(m["msg"] or "", m["host"] or "", pid if pid != "-" else None, ts, fut, n, acct, sess)
    yield from sess.flush(acct)


register(Reader("sshd", "OpenSSH syslog (BSD, RFC 3339, RFC 5424, journalctl short-*)", read, _sniff))


# ---------------------------------------------------------------- journalctl -o json
def _journal_sniff(lines: list[str]) -> bool:
    first = lines[0].lstrip()
    return first.startswith("{") and ('"__REALTIME_TIMESTAMP"' in first or '"__CURSOR"' in first)


def _journal_message(value) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(b, int) and 0 <= b < 256 for b in value):
        # journald writes non-UTF-8 or control-character messages as a byte array
        return bytes(value).decode("utf-8", "backslashreplace")
    return None


def read_journal(path: Path, acct: FileAccount, ctx: ReadContext) -> Iterator[dict]:
    clock = Clock(ctx.tz, ctx.now)
    sess = Sessions()
    for n, text in lines_of(path, acct):
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as exc:
            acct.bad(n, "json", f"not journalctl -o json: {exc.msg}")
            continue
        if not isinstance(obj, dict):
            acct.bad(n, "json", "not journalctl -o json: not a JSON object")
            continue
        prog = obj.get("SYSLOG_IDENTIFIER") or obj.get("_COMM") or ""
        if not isinstance(prog, str) or not is_sshd(prog):
            acct.skip("other_program")
            continue
        msg = _journal_message(obj.get("MESSAGE"))
        if msg is None:
            acct.bad(n, "MESSAGE", "journalctl -o json: MESSAGE is neither text nor a byte array")
            continue
        rt = obj.get("__REALTIME_TIMESTAMP")
        try:
            ts, fut = clock.epoch(int(rt) / 1_000_000)
        except (TypeError, ValueError, OverflowError, OSError):
            acct.bad(n, "__REALTIME_TIMESTAMP", f"journalctl -o json: not microseconds since 1970: {str(rt)[:30]!r}")
            continue
        pid = obj.get("_PID") or obj.get("SYSLOG_PID")
        yield from message(msg, str(obj.get("_HOSTNAME") or ""), str(pid) if pid else None, ts, fut, n, acct, sess)
    yield from sess.flush(acct)


register(Reader("journaljson", "journalctl -o json", read_journal, _journal_sniff))
