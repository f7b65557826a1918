"""The central text openers of the engines go through core.textfile: a profile, a continuity register, an
evidence file and a login log written in CP950 (Big5) or UTF-16, as Windows and Excel write them in Taiwan."""

from __future__ import annotations

import pytest

from ccinspect.applicability import ProfileError, load_profile
from ccinspect.checks.evidence import read_text
from ccinspect.continuity.store import read_yaml
from ccinspect.core.results import EvidenceError
from ccinspect.detection.adapters import head, open_text

ENCODINGS = ["utf-8", "utf-8-sig", "utf-16", "cp950"]


@pytest.mark.parametrize("enc", ENCODINGS)
def test_profile_in_any_windows_encoding(tmp_path, enc):
    p = tmp_path / "broker.yaml"
    p.write_bytes("name: 範例證券股份有限公司\ncapital: 25000000000\n".encode(enc))
    assert load_profile(p).name == "範例證券股份有限公司"


def test_profile_that_is_no_text_names_the_encoding(tmp_path):
    p = tmp_path / "broker.yaml"
    p.write_bytes(b"name: x\ncapital: 1\n\x80")
    with pytest.raises(ProfileError) as exc:
        load_profile(p)
    assert "line 3" in str(exc.value) and "cp950" in str(exc.value) and exc.value.line == 3


@pytest.mark.parametrize("enc", ENCODINGS)
def test_continuity_register_in_any_windows_encoding(tmp_path, enc):
    p = tmp_path / "continuity.yaml"
    p.write_bytes("systems:\n  - id: TRD-01\n    name: 下單系統\n    owner: 資訊部\n".encode(enc))
    reg = read_yaml(p)
    assert reg.systems[0].name == "下單系統"


@pytest.mark.parametrize("enc", ENCODINGS)
def test_evidence_text_in_any_windows_encoding(tmp_path, enc):
    p = tmp_path / "staff.csv"
    p.write_bytes("employee_id,name\nE1,王小明\n".encode(enc))
    assert read_text(p, "staff.csv").splitlines()[1] == "E1,王小明"


def test_undecodable_evidence_names_file_line_and_encoding(tmp_path):
    p = tmp_path / "staff.csv"
    p.write_bytes("employee_id,name\nE1,王小明\n".encode("cp950") + b"E2,\x80\x80\n")
    with pytest.raises(EvidenceError) as exc:
        read_text(p, "staff.csv")
    e = exc.value
    assert (e.file, e.line, e.field) == ("staff.csv", 3, "(encoding)") and e.message_id == "text.undecodable"
    assert "cp950" in str(e) and "cp950" in e.to_dict()["message_zh"]


@pytest.mark.parametrize("enc", ENCODINGS)
def test_login_log_stream_in_any_windows_encoding(tmp_path, enc):
    p = tmp_path / "day.csv"
    p.write_bytes("ts,account,ip,result,reason\n2024-06-27T09:00:00+08:00,C1,1.1.1.1,failure,密碼錯誤\n".encode(enc))
    assert head(p).lstrip("\ufeff").startswith("ts,account,ip,result")
    with open_text(p) as f:
        assert f.read().splitlines()[1].endswith("密碼錯誤")
