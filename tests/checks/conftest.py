import datetime as dt
from pathlib import Path

import pytest

from ccinspect.checks.rules import load_rules
from ccinspect.checks.runner import Context, active_rules, match_files, registry, run_analyzer

AS_OF = dt.date(2024, 6, 30)


def write(root: Path, rel: str, text: str | bytes) -> Path:
    p = root / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        p.write_bytes(text)
    else:
        p.write_text(text, encoding="utf-8")
    return p


def run(aid: str, root: Path, as_of: dt.date = AS_OF, tier: int = 3, rules=None):
    """Run one analyzer over a folder: (checks by rule, the run record)."""
    table = rules or load_rules()
    spec = table.analyzers[aid]
    files = {} if spec.live else match_files(root, spec)
    ctx = Context(aid, spec, root, files, active_rules(spec, files), as_of, tier, [])
    checks, rec = run_analyzer(aid, registry()[aid], ctx)
    return {c.rule: c for c in checks}, rec


@pytest.fixture
def ev(tmp_path):
    return tmp_path / "evidence"
