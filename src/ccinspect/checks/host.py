"""The live host check: the Linux password, lockout and account rules applied to this machine's /etc.

Runs only with `ccinspect inspect --host`; `ctx.root` is the file-system root (a test passes a fake one)."""

from __future__ import annotations

import glob
from pathlib import Path

from .evidence import read_text
from .linuxconf import eval_length, eval_lockout, eval_rotation, read_etc
from .model import Check, Fact
from .rules import load_rules


def read_shadow(root: Path) -> tuple[list[dict] | None, str]:
    p = root / "etc" / "shadow"
    try:
        text = p.read_text(encoding="utf-8")
    except (PermissionError, FileNotFoundError) as exc:
        return None, f"{p}: {exc.strerror}"
    out = []
    for n, line in enumerate(text.splitlines(), 1):
        f = line.split(":")
        if len(f) < 5 or not f[0]:
            continue
        h = f[1]
        out.append({"user": f[0], "line": n, "empty": h == "",
                    "usable": h != "" and not h.startswith(("!", "*")),
                    "max": int(f[4]) if f[4].strip().isdigit() else None})
    return out, str(p)


def sshd_permit_root(root: Path) -> tuple[str, str | None, int | None]:
    """The effective PermitRootLogin (first value wins, as sshd reads it), with where it was set."""
    def walk(path: Path):
        try:
            text = read_text(path, str(path))
        except OSError:
            return None
        for n, raw in enumerate(text.splitlines(), 1):
            parts = raw.split("#", 1)[0].split(None, 1)
            if not parts:
                continue
            key = parts[0].lower()
            if key == "match":
                return None  # conditional blocks do not set the global default
            if key == "include" and len(parts) > 1:
                for pattern in parts[1].split():
                    pat = pattern if pattern.startswith("/") else f"/etc/ssh/{pattern}"
                    for inc in sorted(glob.glob(str(root / pat.lstrip("/")))):
                        hit = walk(Path(inc))
                        if hit:
                            return hit
            if key == "permitrootlogin" and len(parts) > 1:
                return parts[1].strip().lower(), str(path), n
        return None

    cfg = root / "etc" / "ssh" / "sshd_config"
    if not cfg.is_file():
        return "no sshd", None, None
    return walk(cfg) or ("prohibit-password", str(cfg), None)  # OpenSSH's default since 7.0


def analyze(ctx) -> list[Check]:
    root = Path(ctx.root)
    table = load_rules()
    pw = table.analyzers["passwords"].rules
    merged = {**pw["lockout"].params, **pw["length_complexity"].params}
    s = read_etc(root / "etc", "this host", str)
    files = [str(p) for p in s.files]
    checks = []

    f, desc = eval_length(s, {**merged, **ctx.params("length_complexity")})
    checks.append(ctx.check("length_complexity", f, f"met ({desc})", "{n} password-quality finding(s)", files))

    f, desc = eval_lockout(s, {**merged, **ctx.params("lockout")})
    checks.append(ctx.check("lockout", f, f"met ({desc})", "{n} lockout finding(s)", files))

    shadow, shadow_where = read_shadow(root)
    rp = {**pw["rotation"].params, **ctx.params("rotation")}
    f, desc = eval_rotation(s, rp)
    rot_files = list(files)
    if shadow is not None:
        rot_files.append(shadow_where)
        for a in shadow:
            if a["usable"] and (a["max"] is None or a["max"] > int(rp["max_age_days"])):
                f.append(Fact(f"{a['user']}: password never expires" if a["max"] in (None, 99999)
                              else f"{a['user']}: password maximum age {a['max']} days > {rp['max_age_days']}",
                              file=shadow_where, line=a["line"], subject=a["user"]))
    checks.append(ctx.check("rotation", f, f"met ({desc}; every usable password expires in time)",
                            "{n} password-age finding(s)", rot_files))

    names = {n.lower() for n in ctx.params("default_accounts")["names"]}
    facts = []
    da_files = []
    if shadow is not None:
        da_files.append(shadow_where)
        for a in shadow:
            if a["user"].lower() in names and (a["usable"] or a["empty"]):
                state = "an empty password" if a["empty"] else "a usable password"
                facts.append(Fact(f"default account '{a['user']}' has {state}", file=shadow_where, line=a["line"],
                                  subject=a["user"]))
    permit, where, line = sshd_permit_root(root)
    if where:
        da_files.append(where)
    if permit == "yes":
        facts.append(Fact("sshd permits root login with a password (PermitRootLogin yes)", file=where, line=line,
                          subject="sshd"))
    manual = None if shadow is not None else f"cannot read the shadow file ({shadow_where}); run as root"
    if manual and facts:
        manual = None
    ssh = "sshd not configured" if permit == "no sshd" else f"sshd PermitRootLogin {permit}"
    checks.append(ctx.check("default_accounts", facts,
                            f"no default-named account has a usable password; {ssh}",
                            "{n} default-account finding(s)", da_files, manual=manual))
    return checks
