"""The OSCAL tier profiles resolve with compliance-trestle's profile resolver, run the way docs/catalog.md
tells a user (trestle init, import, href, author profile-resolve), for every tier (issue 20: the profiles
used to select the chapter groups as controls and trestle refused every one)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "catalog.md"
TRESTLE = str(Path(sys.executable).parent / "trestle")


def _doc_commands() -> list[str]:
    """The shell lines of the resolving example in docs/catalog.md, comments cut."""
    text = DOC.read_text(encoding="utf-8")
    block = text[text.index("To resolve a tier's profile"):]
    block = block[block.index("```sh") + 5:block.index("```", block.index("```sh") + 5)]
    return [re.sub(r"\s+#.*$", "", ln).strip() for ln in block.strip().splitlines()]


def _walk(controls):
    for c in controls or []:
        yield c["id"]
        yield from _walk(c.get("controls"))


@pytest.mark.parametrize("tier", [1, 2, 3, 4])
def test_every_tier_profile_resolves_as_the_docs_say(tmp_path, tier):
    lines = _doc_commands()
    assert lines[0].startswith("ccinspect catalog export --format oscal --out oscal/")
    env_bin = str(Path(sys.executable).parent)
    script = "\n".join(["set -e"] + [ln.replace("tier-1", f"tier-{tier}") for ln in lines])
    p = subprocess.run(["bash", "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=600,
                       env={"PATH": f"{env_bin}:/usr/bin:/bin", "HOME": str(tmp_path),
                            "PYTHONPATH": str(ROOT / "src")})
    assert p.returncode == 0, (p.stdout[-2000:], p.stderr[-2000:])
    profile = json.loads((tmp_path / "oscal" / f"profile-tier-{tier}-2020-12-11.json").read_text())["profile"]
    selected = profile["imports"][0]["include-controls"][0]["with-ids"]
    resolved = json.loads((tmp_path / "workspace" / "catalogs" / f"tier-{tier}-resolved" / "catalog.json")
                          .read_text())["catalog"]
    groups = resolved["groups"]
    got = [cid for g in groups for cid in _walk(g.get("controls"))]
    assert sorted(got) == sorted(selected) and len(got) == len(set(got))
    chapters = {g["id"] for g in groups}
    assert not chapters & set(selected)  # chapters are groups, never selected as controls
    catalog = json.loads((tmp_path / "oscal" / "catalog-mechanism-2020-12-11.json").read_text())["catalog"]
    assert chapters <= {g["id"] for g in catalog["groups"]} and len(chapters) >= 10
