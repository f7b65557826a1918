"""Web-server access logs of the customer-facing systems: IIS W3C extended, nginx/Apache combined, JSON.

Each line becomes a record whose raw fields keep their own names (`cs-username`, `remote_addr`, …) and
gain normalised ones: `_ts` (ISO 8601), `_ip`, `_user`, `_method`, `_path`, `_query`, `_status`, `_ua`.
The default mapping (`PRESET`) counts a `POST` to a login-looking path (`/login`, `/signin`, `/logon`,
`/auth`, `/session`, `/token`, `/wp-login.php`, …) as a login attempt: 2xx/301/302/303 success, 401/403
failure; and any request refused with 401 that names its user (HTTP authentication) as a failure; the
account is the authenticated user (`cs-username`, `remote_user`) or a `user`/`username`/`account`/`login`
/`userid` query parameter. A login request with no account is counted as "not a login event"
(`login_without_account`): an access log alone cannot say whose login it was; map the application's own
log for that. `--mapping` with `format: iis|combined|webjson` overrides `fields`, `login` and `results`.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, unquote_plus

from . import FileAccount, ReadContext, Reader, lines_of, register
from .clock import MONTHS
from .mapping import Const, Login, Mapping, Results, read_mapped

LOGIN_PATH = (r"(?i)/(?:[\w-]*[-_])?(?:login|logon|log-in|signin|sign-in|sign_in|auth|authenticate|session|sessions"
              r"|token|oauth/token)(?:\.\w{2,5})?/?$")
PRESET_FIELDS = {"ts": "_ts", "account": "_user", "ip": "_ip", "result": "_status", "user_agent": "_ua",
                 "channel": Const(value="web")}
# A login request: a POST to a login path, or any request refused with 401 that names its user (HTTP
# authentication). Successes count only on login paths: basic-auth clients send credentials every time.
PRESET_LOGIN = Login(field="_login", values=["1"])
PRESET_RESULTS = Results(success=["200", "201", "204", "301", "302", "303"], failure=["401", "403"])
_USER_PARAMS = ("user", "username", "userid", "user_id", "account", "login", "uid")


def preset(fmt: str) -> Mapping:
    return Mapping(format=fmt, fields=dict(PRESET_FIELDS), login=PRESET_LOGIN, results=PRESET_RESULTS)


def _user_from_query(query: str) -> str | None:
    if not query or query == "-":
        return None
    try:
        qs = parse_qs(query, keep_blank_values=False)
    except ValueError:
        return None
    for k in _USER_PARAMS:
        if qs.get(k):
            return qs[k][0]
    return None


def _split_target(target: str) -> tuple[str, str]:
    path, _, query = target.partition("?")
    return path, query


_LOGIN_RX = re.compile(LOGIN_PATH)


def _mark_login(rec: dict) -> dict:
    path, method, status = rec.get("_path"), rec.get("_method"), rec.get("_status")
    login = (str(method).upper() == "POST" and isinstance(path, str) and _LOGIN_RX.search(path) is not None) or (
        str(status) == "401" and rec.get("_user") not in (None, "", "-"))
    rec["_login"] = "1" if login else "0"
    return rec


# ---------------------------------------------------------------- IIS W3C extended
def _iis_sniff(lines: list[str]) -> bool:
    return any(ln.startswith("#Fields:") for ln in lines[:8]) and any(
        ln.startswith(("#Software:", "#Version:")) for ln in lines[:8])


def iis_records(path: Path, acct: FileAccount) -> Iterator[tuple[int, dict]]:
    names: list[str] | None = None
    for n, text in lines_of(path, acct):
        if text.startswith("#"):
            if text.startswith("#Fields:"):
                names = text[len("#Fields:"):].split()
            acct.skip("w3c_directive")
            continue
        if names is None:
            acct.bad(n, "line", "IIS W3C log: a record before any '#Fields:' directive")
            continue
        vals = text.split(" ")
        if len(vals) != len(names):
            acct.bad(n, "line", f"IIS W3C log: expected {len(names)} fields per '#Fields:', found {len(vals)}")
            continue
        rec = dict(zip(names, vals, strict=True))
        d, t = rec.get("date", ""), rec.get("time", "")
        # W3C extended logs are always in UTC
        rec["_ts"] = f"{d}T{t}Z" if d and t else None
        rec["_ip"] = rec.get("c-ip")
        query = rec.get("cs-uri-query", "")
        user = rec.get("cs-username")
        rec["_user"] = user if user and user != "-" else _user_from_query(query)
        rec["_method"] = rec.get("cs-method")
        rec["_path"] = rec.get("cs-uri-stem")
        rec["_query"] = query
        rec["_status"] = rec.get("sc-status")
        ua = rec.get("cs(User-Agent)")
        rec["_ua"] = ua.replace("+", " ") if ua and ua != "-" else None
        yield n, _mark_login(rec)


# ---------------------------------------------------------------- nginx / Apache combined (and common)
# What precedes the client address varies (a virtual host, an X-Forwarded-For list): the address is the
# last token before `ident user [time]`, the peer that connected (an X-Forwarded-For entry can be forged).
_COMBINED = re.compile(
    r'^(?P<prefix>.*?)(?P<remote_addr>[^\s,"]+) (?P<ident>\S+) (?P<remote_user>\S+) '
    r'\[(?P<time_local>[^\]]+)\] "(?P<request>(?:[^"\\]|\\.)*)" (?P<status>\d{3}) (?P<bytes>\S+)'
    r'(?: "(?P<referer>(?:[^"\\]|\\.)*)" "(?P<user_agent>(?:[^"\\]|\\.)*)")?')
_CLF_TIME = re.compile(r"^(\d{2})/([A-Z][a-z]{2})/(\d{4}):(\d\d:\d\d:\d\d) ([+-]\d\d)(\d\d)$")


@functools.lru_cache(maxsize=4096)
def clf_time(text: str) -> str | None:
    """`10/Dec/2024:06:55:46 +0800` as ISO 8601."""
    m = _CLF_TIME.match(text)
    if not m or m[2] not in MONTHS:
        return None
    return f"{m[3]}-{MONTHS[m[2]]:02d}-{m[1]}T{m[4]}{m[5]}:{m[6]}"


def _combined_sniff(lines: list[str]) -> bool:
    return any(_COMBINED.match(ln) for ln in lines)


def combined_records(path: Path, acct: FileAccount) -> Iterator[tuple[int, dict]]:
    for n, text in lines_of(path, acct):
        m = _COMBINED.match(text)
        if m is None:
            acct.bad(n, "line", f"not an access log line (nginx/Apache combined or common): {text[:80]!r}")
            continue
        rec = m.groupdict()
        parts = rec["request"].split(" ")
        method, target = (parts[0], parts[1]) if len(parts) >= 2 else ("", "")
        path_, query = _split_target(target)
        rec["_ts"] = clf_time(rec["time_local"])
        rec["_ip"] = rec["remote_addr"]
        user = rec["remote_user"]
        rec["_user"] = user if user != "-" else _user_from_query(query)
        rec["_method"] = method
        rec["_path"] = unquote_plus(path_)
        rec["_query"] = query
        rec["_status"] = rec["status"]
        rec["_ua"] = rec.get("user_agent") if rec.get("user_agent") not in (None, "-") else None
        yield n, _mark_login(rec)


# ---------------------------------------------------------------- JSON access logs (nginx escape=json, others)
_JSON_KEYS = {
    "_ts": ("time_iso8601", "@timestamp", "timestamp", "time", "time_local", "date"),
    "_ip": ("remote_addr", "client_ip", "clientip", "c-ip", "ip", "client"),
    "_user": ("remote_user", "user", "username", "cs-username"),
    "_status": ("status", "sc-status", "response", "status_code"),
    "_ua": ("http_user_agent", "user_agent", "agent", "cs(User-Agent)"),
    "_method": ("request_method", "method", "cs-method"),
    "_path": ("uri", "request_uri", "path", "url", "cs-uri-stem"),
}


def _webjson_sniff(lines: list[str]) -> bool:
    first = lines[0].lstrip("\ufeff ")
    if not first.startswith("{"):
        return False
    return ('"status"' in first or '"response"' in first) and any(
        f'"{k}"' in first for k in ("remote_addr", "request", "uri", "request_uri", "client_ip", "clientip"))


def webjson_records(records: Iterator[tuple[int, dict]]) -> Iterator[tuple[int, dict]]:
    for n, rec in records:
        out = dict(rec)
        for key, names in _JSON_KEYS.items():
            out[key] = next((rec[k] for k in names if rec.get(k) not in (None, "", "-")), None)
        if out["_method"] is None and isinstance(rec.get("request"), str):  # "POST /login HTTP/1.1"
            parts = rec["request"].split(" ")
            if len(parts) >= 2:
                out["_method"], out["_path"] = parts[0], out["_path"] or parts[1]
        query = ""
        if isinstance(out["_path"], str):
            out["_path"], query = _split_target(out["_path"])
        query = rec.get("args") or rec.get("query_string") or query
        if out["_user"] is None:
            out["_user"] = _user_from_query(str(query))
        ts = out["_ts"]
        if isinstance(ts, str) and "/" in ts[:6]:
            out["_ts"] = clf_time(ts)
        if out["_status"] is not None:
            out["_status"] = str(out["_status"])
        yield n, _mark_login(out)


def _preset_reader(fmt: str):
    def read(path: Path, acct: FileAccount, ctx: ReadContext) -> Iterator[dict]:
        m = ctx.mapping if ctx.mapping is not None and getattr(ctx.mapping, "format", None) == fmt else preset(fmt)
        return read_mapped(path, acct, ctx, m)

    return read


register(Reader("iis", "IIS W3C extended log", _preset_reader("iis"), _iis_sniff))
register(Reader("combined", "nginx/Apache combined access log", _preset_reader("combined"), _combined_sniff))
register(Reader("webjson", "JSON access log (nginx escape=json)", _preset_reader("webjson"), _webjson_sniff))
