"""Which focus point of the inspection this mechanism answers: data, read from notification.yaml."""

from __future__ import annotations

from pathlib import Path

import yaml

_DATA = yaml.safe_load((Path(__file__).with_name("notification.yaml")).read_text(encoding="utf-8"))
FOCUS_POINT: str = _DATA["focus_point"]
NO_LINKS_REF_IDS: list[str] = _DATA["no_links_ref_ids"]
