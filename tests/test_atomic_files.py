"""core.files: a file or folder is replaced whole or not at all (issue 20)."""

from __future__ import annotations

import os

import pytest

from ccinspect.core.files import atomic_dir, atomic_file, atomic_write_bytes, atomic_write_text


def test_atomic_write_replaces_and_leaves_no_temporary(tmp_path):
    p = tmp_path / "a" / "out.txt"
    p.parent.mkdir()
    atomic_write_text(p, "one")
    atomic_write_bytes(p, b"two")
    assert p.read_bytes() == b"two" and os.listdir(p.parent) == ["out.txt"]


def test_a_failed_write_leaves_the_old_file(tmp_path):
    p = tmp_path / "out.xlsx"
    p.write_text("old")
    with pytest.raises(RuntimeError), atomic_file(p) as tmp:
        tmp.write_text("half")
        raise RuntimeError("crash")
    assert p.read_text() == "old" and os.listdir(tmp_path) == ["out.xlsx"]


def test_atomic_dir_swaps_whole_folders_and_keeps_foreign_files(tmp_path):
    out = tmp_path / "out"
    with atomic_dir(out) as tmp:
        (tmp / "a.json").write_text("1")
        (tmp / "b.md").write_text("1")
    (out / "notes.txt").write_text("the user's")
    (out / "sub").mkdir()
    (out / "sub" / "x").write_text("kept")
    inode = (out / "notes.txt").stat().st_ino
    with pytest.raises(RuntimeError), atomic_dir(out) as tmp:
        (tmp / "a.json").write_text("2")
        raise RuntimeError("crash before b.md")
    assert (out / "a.json").read_text() == (out / "b.md").read_text() == "1"
    with atomic_dir(out, keep_others=True) as tmp:
        (tmp / "a.json").write_text("3")
        (tmp / "b.md").write_text("3")
    assert (out / "a.json").read_text() == (out / "b.md").read_text() == "3"
    assert (out / "notes.txt").read_text() == "the user's" and (out / "notes.txt").stat().st_ino == inode
    assert (out / "sub" / "x").read_text() == "kept"
    assert sorted(os.listdir(tmp_path)) == ["out"]  # no temporary or old folder left beside it
    with pytest.raises(NotADirectoryError), atomic_dir(out / "a.json"):
        pass
