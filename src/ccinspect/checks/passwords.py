"""Password length, complexity, rotation and lockout from Linux /etc trees and Windows secedit exports."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .evidence import parse_int, read_text
from .linuxconf import eval_length, eval_lockout, eval_rotation, read_etc
from .model import Check, EvidenceError, Fact

SECEDIT_KEYS = ("MinimumPasswordLength", "PasswordComplexity", "MaximumPasswordAge", "LockoutBadCount")


@dataclass
class Secedit:
    host: str
    file: str
    values: dict[str, tuple[int, int]]  # key -> (value, line)


def read_secedit(path: Path, shown: str) -> Secedit:
    """The [System Access] section of `secedit /export /cfg FILE` (UTF-16 LE as Windows writes it)."""
    section, values, seen = None, {}, False
    for n, raw in enumerate(read_text(path, shown).splitlines(), 1):
        s = raw.strip()
        if not s or s.startswith(";"):
            continue
        if s.startswith("["):
            if not s.endswith("]"):
                raise EvidenceError(shown, n, "(section)", f"unterminated section header {s!r}")
            section = s[1:-1].strip()
            seen = seen or section == "System Access"
            continue
        if section == "System Access":
            if "=" not in s:
                raise EvidenceError(shown, n, "(line)", f"expected 'Key = value', got {s!r}")
            k, v = (x.strip() for x in s.split("=", 1))
            if k in SECEDIT_KEYS:
                values[k] = (parse_int(v, shown, n, k), n)
    if not seen:
        raise EvidenceError(shown, 0, "[System Access]", "no [System Access] section: not a secedit /export file")
    return Secedit(path.stem, shown, values)


def _linux_hosts(ctx) -> dict[str, Path]:
    """linux/<host>/etc for each host that has any of the collected files."""
    out: dict[str, Path] = {}
    for role in ("login_defs", "pwquality", "faillock", "pam"):
        for p in ctx.files.get(role, []):
            parts = Path(ctx.rel(p)).parts  # linux, host, etc, ...
            out.setdefault(parts[1], ctx.root / parts[0] / parts[1] / "etc")
    return out


def _win_fact(w: Secedit, key: str, message: str) -> Fact:
    line = w.values[key][1] if key in w.values else None
    return Fact(f"{w.host}: {message}", file=w.file, line=line, subject=w.host)


def analyze(ctx) -> list[Check]:
    # each host and each secedit export on its own: one bad PAM file leaves the other hosts judged
    hosts = {h: s for h, etc in _linux_hosts(ctx).items() if (s := ctx.read(etc, read_etc, etc, h, ctx.rel))}
    wins = [w for p in ctx.files.get("secedit", []) if (w := ctx.read(p, read_secedit, p, ctx.rel(p)))]
    checks = []
    for rule, fn in (("length_complexity", eval_length), ("rotation", eval_rotation), ("lockout", eval_lockout)):
        if rule not in ctx.active:
            continue
        p = ctx.params(rule)
        lp = {**ctx.spec.rules["lockout"].params, **ctx.spec.rules["length_complexity"].params, **p}
        facts, seen, files = [], [], []
        for h, s in sorted(hosts.items()):
            relevant = {"length_complexity": s.pam is not None or s.pwquality is not None,
                        "rotation": s.login_defs is not None,
                        "lockout": s.pam is not None or s.faillock is not None}[rule]
            if not relevant:
                continue
            f, desc = fn(s, lp)
            facts += f
            seen.append(f"{h} ({desc})")
            files += s.files
        for w in wins:
            facts += _windows(rule, w, p)
            seen.append(f"{w.host} (secedit)")
            files.append(w.file)
        files += [e["file"] for e in ctx.errors]  # named as unusable by the runner
        checks.append(ctx.check(rule, facts, "met on " + "; ".join(seen),
                                "{n} host setting(s) fall short", files,
                                manual=None if seen else "no host supplies the settings this rule needs"))
    return checks


def _windows(rule: str, w: Secedit, p: dict) -> list[Fact]:
    v = {k: val for k, (val, _) in w.values.items()}
    facts = []
    if rule == "length_complexity":
        if v.get("MinimumPasswordLength", 0) < p["min_length"]:
            facts.append(_win_fact(w, "MinimumPasswordLength",
                                   f"MinimumPasswordLength {v.get('MinimumPasswordLength', 'not set')} "
                                   f"< {p['min_length']}"))
        if v.get("PasswordComplexity", 0) != 1:
            facts.append(_win_fact(w, "PasswordComplexity",
                                   f"PasswordComplexity {v.get('PasswordComplexity', 'not set')}: "
                                   "complexity (letters with digits or symbols) not enforced"))
    elif rule == "rotation":
        age = v.get("MaximumPasswordAge")
        if age is None or age <= 0 or age > p["max_age_days"]:
            shown = "never expires" if age is not None and age <= 0 else age if age is not None else "not set"
            facts.append(_win_fact(w, "MaximumPasswordAge",
                                   f"MaximumPasswordAge {shown}; at most {p['max_age_days']} days"))
    elif rule == "lockout":
        n = v.get("LockoutBadCount")
        if n is None or n <= 0 or n > p["max_failures"]:
            shown = "0 (never locks)" if n == 0 else n if n is not None else "not set"
            facts.append(_win_fact(w, "LockoutBadCount",
                                   f"LockoutBadCount {shown}; at most {p['max_failures']} failures"))
    return facts
