"""core.settings: the one reader of the environment, and its table in docs/settings.md."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from ccinspect.core import settings

REPO = Path(__file__).resolve().parents[2]
SRC = REPO / "src" / "ccinspect"


def test_docs_table_is_the_modules_table():
    assert settings.markdown_table() in (REPO / "docs" / "settings.md").read_text(encoding="utf-8")
    assert "docs/settings.md" in (REPO / "README.md").read_text(encoding="utf-8")


def _environ_reads(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            f = node.func
            if f.attr == "getenv" or (f.attr == "get" and isinstance(f.value, ast.Attribute) and f.value.attr == "environ"):
                yield node.lineno
        if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Attribute) and node.value.attr == "environ" \
                and isinstance(node.ctx, ast.Load):
            yield node.lineno


def test_no_module_but_core_settings_reads_the_environment():
    offenders = [f"{p.relative_to(REPO)}:{n}" for p in SRC.rglob("*.py") if p != SRC / "core" / "settings.py"
                 for n in _environ_reads(ast.parse(p.read_text(encoding="utf-8")))]
    assert offenders == []


def test_every_name_the_code_asks_for_is_documented():
    names = set()
    for p in SRC.rglob("*.py"):
        for node in ast.walk(ast.parse(p.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.startswith("CCINSPECT_") \
                    and node.value.isupper() and node.value.replace("_", "").isalnum():
                names.add(node.value)
    documented = {v.name for v in settings.VARIABLES}
    assert names - documented == set()
    with pytest.raises(KeyError):
        settings.env("CCINSPECT_UNDOCUMENTED")


def test_values(monkeypatch, tmp_path):
    monkeypatch.setenv("CCINSPECT_MAX_UPLOAD_MB", "x")
    with pytest.raises(settings.SettingError) as exc:
        settings.env_int("CCINSPECT_MAX_UPLOAD_MB", 20)
    assert exc.value.field == "CCINSPECT_MAX_UPLOAD_MB" and "不是整數" in exc.value.text("zh-Hant")
    monkeypatch.setenv("CCINSPECT_HTTPS", "yes")
    assert settings.env_bool("CCINSPECT_HTTPS") is True
    monkeypatch.setenv("CCINSPECT_LOG_LEVEL", "info")
    assert settings.log_level() == "INFO"


def test_the_secret_key_file_is_created_once_private(monkeypatch, tmp_path):
    for name in ("SECRET_KEY", "CCINSPECT_DEBUG", "CCINSPECT_HTTPS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CCINSPECT_VAR", str(tmp_path))
    settings.ensure_secret_key()
    key = (tmp_path / "secret_key").read_text()
    assert len(key) > 40 and (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600
    monkeypatch.delenv("SECRET_KEY")
    settings.ensure_secret_key()
    import os
    assert os.environ["SECRET_KEY"] == key
