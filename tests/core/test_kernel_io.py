"""The kernel's text-file detection, error type, exit codes and atomic writes."""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
import textwrap

import pytest

from ccinspect.core.errors import InputError, define
from ccinspect.core.exitcodes import ExitCode, epilog
from ccinspect.core.files import atomic_dir, atomic_write_text, recover_dir
from ccinspect.core.textfile import decode, detect_encoding, open_text, read_text

ZH = "帳號,姓名,最後登入\nA001,陳怡君,2024-06-30\n"


@pytest.mark.parametrize(
    ("data", "codec", "bom"),
    [
        (ZH.encode("utf-8"), "utf-8", False),
        (b"\xef\xbb\xbf" + ZH.encode("utf-8"), "utf-8-sig", True),
        (b"\xff\xfe" + ZH.encode("utf-16-le"), "utf-16-le", True),
        (b"\xfe\xff" + ZH.encode("utf-16-be"), "utf-16-be", True),
        (ZH.encode("utf-16-le"), "utf-16-le", False),
        (ZH.encode("cp950"), "cp950", False),
    ],
)
def test_detects_what_windows_and_excel_write(tmp_path, data, codec, bom):
    d = decode(data, name="x.csv")
    assert (d.encoding, d.bom) == (codec, bom)
    assert d.text.lstrip("\ufeff") == ZH
    p = tmp_path / "x.csv"
    p.write_bytes(data)
    assert read_text(p).text.lstrip("\ufeff") == ZH
    stream, enc = open_text(p)
    with stream:
        assert enc == codec
        assert "".join(stream).lstrip("\ufeff") == ZH


def test_gzip_is_read_through(tmp_path):
    p = tmp_path / "x.csv.gz"
    p.write_bytes(gzip.compress(ZH.encode("cp950")))
    assert read_text(p).text == ZH
    assert read_text(p).encoding == "cp950"


def test_decoding_error_names_encoding_line_and_byte():
    data = "第一行\n第二行\n".encode() + b"\x81\x20bad\n"
    with pytest.raises(InputError) as ei:
        decode(data, name="roster.csv", encoding="utf-8")
    e = ei.value
    assert (e.file, e.line) == ("roster.csv", 3)
    assert "utf-8" in str(e) and "0x81" in str(e)
    assert "utf-8" in e.text("zh-Hant") and "無法以" in e.text("zh-Hant")


def test_streaming_error_names_the_line(tmp_path):
    p = tmp_path / "log.txt"
    p.write_bytes(b"ok one\nok two\n" + b"a" * 70000 + b"\n\xff\xfe\xfd broken\n")
    stream, enc = open_text(p, encoding="utf-8")
    with stream, pytest.raises(InputError) as ei:
        for _ in stream:
            pass
    assert enc == "utf-8" and ei.value.line == 4


def test_binary_is_refused():
    with pytest.raises(InputError) as ei:
        decode(b"PK\x03\x04\x00\x00\x14\x00" * 20, name="a.xlsx")
    assert ei.value.message_id == "text.binary"
    with pytest.raises(ValueError):
        detect_encoding(b"\x00\x01\x02\x03\x00\x00\x07\x00")


def test_input_error_carries_place_and_translates():
    msg = define("test.capital", "capital must be above zero, got {value}", "資本額須大於零，收到 {value}")
    e = InputError(msg, file="broker.yaml", line=4, field="paid_in_capital", expected="NT$ > 0", value=0)
    assert str(e) == "broker.yaml:4: field 'paid_in_capital': capital must be above zero, got 0 (expected NT$ > 0)"
    assert e.text("zh-Hant").startswith("broker.yaml:4，欄位「paid_in_capital」：資本額須大於零")
    d = e.to_dict()
    assert d["message_id"] == "test.capital" and d["line"] == 4 and "record" not in d
    with pytest.raises(ValueError):
        define("test.capital", "other", "其他")
    assert InputError("plain words", record="row 7").text() == "record row 7: plain words"


def test_exit_codes():
    assert [int(c) for c in ExitCode] == [0, 1, 2, 3]
    assert ExitCode.worst(0, 1, 3, 1) is ExitCode.PARTIAL
    assert ExitCode.worst() is ExitCode.OK
    assert "3:" in epilog() and "partial" in epilog()


def test_atomic_write_and_dir(tmp_path):
    f = tmp_path / "a.json"
    atomic_write_text(f, "old")
    atomic_write_text(f, "new")
    assert f.read_text() == "new"
    assert [p.name for p in tmp_path.iterdir()] == ["a.json"]

    out = tmp_path / "report"
    with atomic_dir(out) as d:
        (d / "alerts.json").write_text("1")
        (d / "run.json").write_text("1")
    with pytest.raises(RuntimeError), atomic_dir(out) as d:
        (d / "alerts.json").write_text("2")
        raise RuntimeError("crash while writing")
    assert {p.name: p.read_text() for p in out.iterdir()} == {"alerts.json": "1", "run.json": "1"}
    with atomic_dir(out) as d:
        (d / "alerts.json").write_text("3")
    assert {p.name: p.read_text() for p in out.iterdir()} == {"alerts.json": "3"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json", "report"]
    assert oct(out.stat().st_mode & 0o777) != oct(0o700) or os.umask(0o22) == 0o077


def test_atomic_dir_under_kill(tmp_path):
    """A process killed while filling the folder leaves the previous folder whole."""
    out = tmp_path / "out"
    with atomic_dir(out) as d:
        (d / "a").write_text("old")
        (d / "b").write_text("old")
    code = textwrap.dedent(f"""
        import os, signal
        from pathlib import Path
        from ccinspect.core.files import atomic_dir
        with atomic_dir(Path({str(out)!r})) as d:
            (d / "a").write_text("new")
            os.kill(os.getpid(), signal.SIGKILL)
    """)
    p = subprocess.run([sys.executable, "-c", code], capture_output=True)
    assert p.returncode == -9
    recover_dir(out)
    assert {q.name: q.read_text() for q in out.iterdir()} == {"a": "old", "b": "old"}


def test_reader_can_count_a_bad_line_and_go_on(tmp_path):
    p = tmp_path / "log.txt"
    p.write_bytes("一\n".encode() + b"\xff bad\n" + "三\n".encode())
    lines, bad = [], []
    stream, _ = open_text(p, encoding="utf-8")
    with stream:
        while True:
            try:
                lines.append((stream.line + 1, next(stream)))
            except InputError as e:
                bad.append(e.line)
                stream.skip_bad_line()
            except StopIteration:
                break
    assert lines == [(1, "一\n"), (3, "三\n")] and bad == [2]
