"""Linux password, lockout and PAM settings, read from an /etc tree (collected evidence or the live host).

Shared by the passwords analyzer (evidence folders) and the host check (this machine)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .evidence import iter_kv, parse_int, read_text
from .model import EvidenceError, Fact

CREDITS = ("dcredit", "ucredit", "lcredit", "ocredit")
INT_KEYS_PWQ = {"minlen", "minclass", "maxrepeat", "maxclassrepeat", "difok", "retry", *CREDITS}
INT_KEYS_FAILLOCK = {"deny", "unlock_time", "fail_interval", "root_unlock_time"}
INT_KEYS_LOGIN_DEFS = {"PASS_MAX_DAYS", "PASS_MIN_DAYS", "PASS_WARN_AGE", "PASS_MIN_LEN"}


@dataclass
class Setting:
    value: int | str
    file: str
    line: int


@dataclass
class PamLine:
    kind: str  # auth, account, password, session
    control: str
    module: str
    args: dict[str, str]
    file: str
    line: int


@dataclass
class LinuxSettings:
    host: str
    login_defs: dict[str, Setting] | None = None
    pwquality: dict[str, Setting] | None = None
    faillock: dict[str, Setting] | None = None
    pam: dict[str, list[PamLine]] | None = None  # file name -> lines
    files: list[Path] = field(default_factory=list)


def _conf(path: Path, shown: str, sep: str | None, int_keys: set[str]) -> dict[str, Setting]:
    out: dict[str, Setting] = {}
    for line, key, value in iter_kv(read_text(path, shown), sep):
        if key in int_keys:
            if value == "":
                raise EvidenceError(shown, line, key, "has no value; expected an integer")
            out[key] = Setting(parse_int(value, shown, line, key), shown, line)
        else:
            out[key] = Setting(value, shown, line)
    return out


def _pam(path: Path, shown: str) -> list[PamLine]:
    lines = []
    for n, raw in enumerate(read_text(path, shown).splitlines(), 1):
        s = raw.split("#", 1)[0].strip()
        if not s:
            continue
        if s.startswith("@include"):
            parts = s.split()
            lines.append(PamLine("include", "@include", parts[1] if len(parts) > 1 else "", {}, shown, n))
            continue
        # Bracketed controls such as [default=die success=ok] contain spaces.
        if "[" in s.split(None, 1)[-1][:1]:
            kind, rest = s.split(None, 1)
            end = rest.find("]")
            if end < 0:
                raise EvidenceError(shown, n, "control", "unclosed '[' in the control field")
            control, rest = rest[: end + 1], rest[end + 1:].split()
        else:
            parts = s.split()
            if len(parts) < 3:
                raise EvidenceError(shown, n, "module", f"expected 'type control module [args]', got {s!r}")
            kind, control, rest = parts[0], parts[1], parts[2:]
        kind = kind.lstrip("-")
        if kind not in {"auth", "account", "password", "session"}:
            raise EvidenceError(shown, n, "type", f"{kind!r} is not auth, account, password or session")
        if not rest:
            raise EvidenceError(shown, n, "module", "no module named")
        module = Path(rest[0]).name
        args = {}
        for a in rest[1:]:
            k, _, v = a.partition("=")
            args[k] = v
        lines.append(PamLine(kind, control, module, args, shown, n))
    return lines


def read_etc(etc: Path, host: str, shown) -> LinuxSettings:
    """Parse the files present under an /etc tree; `shown(path)` gives the name used in messages."""
    s = LinuxSettings(host)
    p = etc / "login.defs"
    if p.is_file():
        s.login_defs = _conf(p, shown(p), None, INT_KEYS_LOGIN_DEFS)
        s.files.append(p)
    p = etc / "security" / "pwquality.conf"
    if p.is_file():
        s.pwquality = _conf(p, shown(p), "=", INT_KEYS_PWQ)
        s.files.append(p)
    p = etc / "security" / "faillock.conf"
    if p.is_file():
        s.faillock = _conf(p, shown(p), "=", INT_KEYS_FAILLOCK)
        s.files.append(p)
    d = etc / "pam.d"
    if d.is_dir():
        s.pam = {}
        for f in sorted(d.iterdir()):
            if f.is_file() and not f.name.startswith("."):
                s.pam[f.name] = _pam(f, shown(f))
                s.files.append(f)
    return s


def _stack(s: LinuxSettings, names: list[str], kind: str) -> list[PamLine]:
    """Lines of one type in the named PAM files, following @include and include/substack."""
    out: list[PamLine] = []
    seen: set[str] = set()

    def walk(name: str) -> None:
        if name in seen or not s.pam or name not in s.pam:
            return
        seen.add(name)
        for ln in s.pam[name]:
            if ln.kind == "include":
                walk(ln.module)
            elif ln.kind == kind and ln.control in ("include", "substack"):
                walk(ln.module)
            elif ln.kind == kind:
                out.append(ln)

    for n in names:
        walk(n)
    return out


def _int_arg(ln: PamLine, key: str) -> int:
    return parse_int(ln.args[key], ln.file, ln.line, key)


def eval_length(s: LinuxSettings, p: dict) -> tuple[list[Fact], str]:
    """Facts (failures) and a one-line description of the effective policy."""
    facts: list[Fact] = []
    lines = _stack(s, p.get("pam_password_files", ["common-password", "system-auth", "password-auth", "passwd"]),
                   "password") if s.pam is not None else []
    quality = next((ln for ln in lines if ln.module in ("pam_pwquality.so", "pam_cracklib.so")), None)
    where: tuple[str, int]
    if s.pam is not None and quality is None:
        unix = next((ln for ln in lines if ln.module == "pam_unix.so"), None)
        minlen = _int_arg(unix, "minlen") if unix and "minlen" in unix.args else p["pam_unix_default_minlen"]
        where = (unix.file, unix.line) if unix else (next(iter(s.files)).as_posix() if s.files else s.host, 0)
        desc = f"no pam_pwquality/pam_cracklib in the password stack; pam_unix minlen {minlen}, no complexity"
        if minlen < p["min_length"]:
            facts.append(Fact(f"{s.host}: minimum password length {minlen} < {p['min_length']}",
                              file=where[0], line=where[1] or None, subject=s.host))
        facts.append(Fact(f"{s.host}: no password quality module (pam_pwquality) in the password stack, "
                          "so letters with digits or symbols are not enforced",
                          file=where[0], line=where[1] or None, subject=s.host))
        return facts, desc
    vals = dict(p["pwquality_defaults"])
    origin = {k: "default" for k in vals}
    if s.pwquality:
        for k in vals:
            if k in s.pwquality:
                vals[k], origin[k] = s.pwquality[k].value, f"{s.pwquality[k].file}:{s.pwquality[k].line}"
    if quality is not None:
        for k in vals:
            if k in quality.args:
                vals[k], origin[k] = _int_arg(quality, k), f"{quality.file}:{quality.line}"
    positive = sum(max(int(vals[c]), 0) for c in CREDITS)
    effective = int(vals["minlen"]) - positive  # positive credits let shorter mixed passwords through
    classes = max(int(vals["minclass"]), sum(1 for c in CREDITS if int(vals[c]) < 0))
    desc = (f"minlen {vals['minlen']} ({origin['minlen']}), effective minimum {effective}, "
            f"required classes {classes}")
    if s.pam is None:
        desc += " (PAM files not supplied: pam_pwquality assumed active)"
    if effective < p["min_length"]:
        f, _, ln = origin["minlen"].rpartition(":")
        facts.append(Fact(f"{s.host}: effective minimum password length {effective} < {p['min_length']}",
                          file=f or None, line=int(ln) if ln.isdigit() else None, subject=s.host))
    if classes < p["min_classes"]:
        f, _, ln = origin["minclass"].rpartition(":")
        facts.append(Fact(f"{s.host}: passwords need only {classes} character class(es); "
                          f"at least {p['min_classes']} (letters with digits or symbols) required",
                          file=f or None, line=int(ln) if ln.isdigit() else None, subject=s.host))
    return facts, desc


def eval_rotation(s: LinuxSettings, p: dict) -> tuple[list[Fact], str]:
    st = (s.login_defs or {}).get("PASS_MAX_DAYS")
    days = int(st.value) if st else int(p["login_defs_default_max_days"])
    desc = f"PASS_MAX_DAYS {days}" + ("" if st else " (not set: default)")
    if days > int(p["max_age_days"]) or days < 0:
        return [Fact(f"{s.host}: PASS_MAX_DAYS {days} > {p['max_age_days']}", file=st.file if st else None,
                     line=st.line if st else None, subject=s.host)], desc
    return [], desc


def eval_lockout(s: LinuxSettings, p: dict) -> tuple[list[Fact], str]:
    lines = _stack(s, p["pam_auth_files"], "auth") if s.pam is not None else []
    mod = next((ln for ln in lines if ln.module in ("pam_faillock.so", "pam_tally2.so")), None)
    if s.pam is not None and mod is None:
        return [Fact(f"{s.host}: no pam_faillock (or pam_tally2) in the auth stack "
                     f"({', '.join(n for n in p['pam_auth_files'] if n in (s.pam or {})) or 'no auth files'}): "
                     "accounts never lock", subject=s.host,
                     file=next((ln.file for ln in lines), None))], "no lockout module"
    # Every pam_faillock line (preauth, authfail) applies its own deny; the loosest one decides.
    conf = (s.faillock or {}).get("deny")
    base = (int(conf.value), (conf.file, conf.line)) if conf else (int(p["faillock_default_deny"]), (None, None))
    mods = [ln for ln in lines if ln.module in ("pam_faillock.so", "pam_tally2.so")] or [None]
    candidates = [(_int_arg(m, "deny"), (m.file, m.line)) if m is not None and "deny" in m.args else base
                  for m in mods]
    deny, where = max(candidates, key=lambda c: (c[0] <= 0, c[0]))
    desc = f"deny {deny}" + (f" ({where[0]}:{where[1]})" if where[0] else " (default)")
    if s.pam is None:
        desc += " (PAM files not supplied: pam_faillock assumed active)"
    if deny <= 0 or deny > int(p["max_failures"]):
        what = "never locks (deny=0)" if deny <= 0 else f"locks after {deny} failures"
        return [Fact(f"{s.host}: {what}; at most {p['max_failures']} allowed", file=where[0], line=where[1],
                     subject=s.host)], desc
    return [], desc
