from tests.checks.conftest import run, write

GOOD_AUTH = """auth requisite pam_faillock.so preauth
auth [success=1 default=ignore] pam_unix.so nullok
auth [default=die] pam_faillock.so authfail
auth requisite pam_deny.so
"""
GOOD_PASSWORD = """password requisite pam_pwquality.so retry=3
password [success=1 default=ignore] pam_unix.so obscure use_authtok yescrypt
"""


def _linux(ev, host="h1", login_defs="PASS_MAX_DAYS\t90\n", pwq="minlen = 8\nminclass = 2\n",
           faillock="deny = 3\n", auth=GOOD_AUTH, password=GOOD_PASSWORD):
    base = f"linux/{host}/etc"
    write(ev, f"{base}/login.defs", login_defs)
    if pwq is not None:
        write(ev, f"{base}/security/pwquality.conf", pwq)
    if faillock is not None:
        write(ev, f"{base}/security/faillock.conf", faillock)
    if auth is not None:
        write(ev, f"{base}/pam.d/common-auth", auth)
        write(ev, f"{base}/pam.d/common-password", password)
        write(ev, f"{base}/pam.d/sshd", "@include common-auth\n@include common-password\n")


def _inf(values: dict[str, int], section=True) -> bytes:
    body = "[Unicode]\r\nUnicode=yes\r\n" + ("[System Access]\r\n" if section else "")
    body += "".join(f"{k} = {v}\r\n" for k, v in values.items())
    body += '[Version]\r\nsignature="$CHICAGO$"\r\nRevision=1\r\n'
    return body.encode("utf-16")  # BOM + UTF-16 LE, as secedit /export writes


GOOD_WIN = {"MinimumPasswordLength": 8, "PasswordComplexity": 1, "MaximumPasswordAge": 90, "LockoutBadCount": 3}


def test_linux_and_windows_pass(ev):
    _linux(ev)
    write(ev, "windows/dc1.inf", _inf(GOOD_WIN))
    checks, _ = run("passwords", ev)
    assert {r: c.status.value for r, c in checks.items()} == {
        "length_complexity": "pass", "rotation": "pass", "lockout": "pass"}
    assert "h1" in checks["rotation"].summary and "dc1" in checks["rotation"].summary
    assert "windows/dc1.inf" in checks["lockout"].files


def test_linux_failures_name_the_setting(ev):
    _linux(ev, login_defs="# no aging\nUMASK 022\n", pwq="minlen = 5\n", faillock="deny = 0\n")
    checks, _ = run("passwords", ev)
    rot = checks["rotation"]
    assert rot.status.value == "fail" and "PASS_MAX_DAYS 99999" in rot.facts[0].message
    length = checks["length_complexity"]
    msgs = [f.message for f in length.facts]
    assert any("effective minimum password length 5 < 6" in m for m in msgs)
    assert any("character class" in m for m in msgs)  # minclass default 0
    assert length.facts[0].file == "linux/h1/etc/security/pwquality.conf" and length.facts[0].line == 1
    lock = checks["lockout"]
    assert lock.status.value == "fail" and "never locks" in lock.facts[0].message


def test_pam_arguments_override_conf_and_missing_modules_fail(ev):
    # pwquality.conf is fine, but the PAM line lowers minlen; and no pam_faillock at all.
    _linux(ev, auth="auth [success=1 default=ignore] pam_unix.so nullok\nauth requisite pam_deny.so\n",
           password="password requisite pam_pwquality.so minlen=4 minclass=3\n")
    checks, _ = run("passwords", ev)
    f = checks["length_complexity"].facts
    assert len(f) == 1 and f[0].file == "linux/h1/etc/pam.d/common-password" and "4 < 6" in f[0].message
    assert "no pam_faillock" in checks["lockout"].facts[0].message


def test_no_quality_module_means_no_complexity(ev):
    _linux(ev, password="password [success=1 default=ignore] pam_unix.so obscure yescrypt\n")
    checks, _ = run("passwords", ev)
    assert checks["length_complexity"].status.value == "fail"
    assert any("no password quality module" in f.message for f in checks["length_complexity"].facts)


def test_windows_failures(ev):
    write(ev, "windows/ws.inf", _inf({"MinimumPasswordLength": 4, "PasswordComplexity": 0,
                                      "MaximumPasswordAge": -1, "LockoutBadCount": 0}))
    checks, _ = run("passwords", ev)
    assert all(c.status.value == "fail" for c in checks.values())
    assert "never expires" in checks["rotation"].facts[0].message
    assert "never locks" in checks["lockout"].facts[0].message
    assert checks["lockout"].facts[0].line == 7  # LockoutBadCount's line in the INF


def test_malformed_pwquality_value(ev):
    _linux(ev, pwq="minclass = 2\nminlen = eight\n")
    checks, rec = run("passwords", ev)
    assert rec["error"]["file"] == "linux/h1/etc/security/pwquality.conf"
    assert (rec["error"]["line"], rec["error"]["field"]) == (2, "minlen")
    assert {c.status.value for c in checks.values()} == {"error"}


def test_malformed_inf_and_pam(ev):
    write(ev, "windows/bad.inf", _inf(GOOD_WIN, section=False))
    _, rec = run("passwords", ev)
    assert rec["error"]["field"] == "[System Access]" and rec["error"]["file"] == "windows/bad.inf"
    (ev / "windows/bad.inf").unlink()
    _linux(ev, auth="auth requisite\n")
    _, rec = run("passwords", ev)
    assert rec["error"]["file"] == "linux/h1/etc/pam.d/common-auth" and rec["error"]["line"] == 1


def test_one_bad_pam_file_leaves_the_other_hosts_judged(ev):
    write(ev, "linux/web01/etc/login.defs", "PASS_MAX_DAYS 90\n")
    write(ev, "linux/db01/etc/login.defs", "PASS_MAX_DAYS 365\n")
    write(ev, "linux/db01/etc/pam.d/common-auth", "auth [success=1 pam_unix.so\n")  # unclosed control
    checks, rec = run("passwords", ev)
    assert rec["status"] == "partial"
    assert rec["errors"][0]["file"] == "linux/db01/etc/pam.d/common-auth"
    rot = checks["rotation"]
    assert rot.status.value == "partial" and "web01" in rot.summary
    assert rot.unusable[0]["field"] == "control"
