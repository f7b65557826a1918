"""The live host check over a fake root (the real machine is checked in test_inspect_cli)."""

from tests.checks.conftest import run, write

SHADOW_OK = ("root:!:19800:0:99999:7:::\n"
             "daemon:*:19800:0:99999:7:::\n"
             "alice:$y$j9T$abc$def:19800:1:90:7:::\n")


def _root(tmp_path, shadow=SHADOW_OK, sshd="PermitRootLogin no\n", max_days=90, deny=3):
    r = tmp_path / "root"
    write(r, "etc/login.defs", f"PASS_MAX_DAYS {max_days}\n")
    write(r, "etc/security/pwquality.conf", "minlen = 8\nminclass = 2\n")
    write(r, "etc/security/faillock.conf", f"deny = {deny}\n")
    write(r, "etc/pam.d/common-auth", "auth requisite pam_faillock.so preauth\nauth sufficient pam_unix.so\n"
                                      "auth [default=die] pam_faillock.so authfail\n")
    write(r, "etc/pam.d/common-password", "password requisite pam_pwquality.so retry=3\n")
    write(r, "etc/shadow", shadow)
    write(r, "etc/ssh/sshd_config", "Include /etc/ssh/sshd_config.d/*.conf\nPort 22\n")
    write(r, "etc/ssh/sshd_config.d/10-local.conf", sshd)
    return r


def test_host_pass(tmp_path):
    r = _root(tmp_path)
    checks, rec = run("host", r)
    assert rec["status"] == "ran"
    assert {k: c.status.value for k, c in checks.items()} == {
        "length_complexity": "pass", "lockout": "pass", "rotation": "pass", "default_accounts": "pass"}
    assert str(r / "etc/shadow") in checks["rotation"].files


def test_host_failures(tmp_path):
    shadow = "root:$6$salt$hash:19800:0:99999:7:::\nalice:$y$x$y:19800:1:180:7:::\nbob:$y$x$y:19800:1::7:::\n"
    r = _root(tmp_path, shadow=shadow, sshd="PermitRootLogin yes\n", max_days=99999, deny=10)
    checks, _ = run("host", r)
    rot = {f.subject: f.message for f in checks["rotation"].facts}
    assert "PASS_MAX_DAYS 99999" in rot["this host"]
    assert rot["root"] == "root: password never expires"
    assert "180 days" in rot["alice"] and "never expires" in rot["bob"]
    da = [f.message for f in checks["default_accounts"].facts]
    assert "default account 'root' has a usable password" in da
    assert any("PermitRootLogin yes" in m for m in da)
    assert checks["default_accounts"].facts[1].file == str(r / "etc/ssh/sshd_config.d/10-local.conf")
    assert "locks after 10 failures" in checks["lockout"].facts[0].message


def test_host_malformed_setting_errors_only_the_host(tmp_path):
    r = _root(tmp_path)
    write(r, "etc/login.defs", "PASS_MAX_DAYS ninety\n")
    checks, rec = run("host", r)
    assert rec["error"]["file"] == str(r / "etc/login.defs") and rec["error"]["field"] == "PASS_MAX_DAYS"
    assert {c.status.value for c in checks.values()} == {"error"}
