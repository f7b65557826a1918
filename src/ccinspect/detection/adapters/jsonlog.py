"""JSON Lines: canonical login events, or an access log read through a small mapping config.

Mapping config (YAML or JSON)::

    fields:                 # canonical field: dotted path in each JSON object
      ts: "@timestamp"
      account: user.name
      ip: source.ip
      result: event.outcome
      user_agent: user_agent.original
    results:                # raw value -> success/failure (compared as text, case-insensitive)
      success: [success, "200"]
      failure: [failure, "401", "403"]
    where:                  # optional: only lines whose field has one of these values are logins
      field: url.path
      values: [/api/login]
    ts_format: iso          # iso | epoch | epoch_ms | a strptime pattern
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import yaml

from . import CANONICAL, REQUIRED, InputError, Problems, open_text, validate_row

IDENTITY: dict = {"fields": {c: c for c in CANONICAL}, "ts_format": "iso"}


def load_mapping(path: str | Path) -> dict:
    p = Path(path)
    try:
        cfg = yaml.safe_load(p.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise InputError(f"{p}: cannot read mapping: {exc}") from exc
    if not isinstance(cfg, dict) or not isinstance(cfg.get("fields"), dict):
        raise InputError(f"{p}: mapping needs a 'fields' table (canonical field: JSON path)")
    missing = [c for c in REQUIRED if c not in cfg["fields"]]
    if missing:
        raise InputError(f"{p}: field fields.{missing[0]}: required mapping is missing")
    unknown = [c for c in cfg["fields"] if c not in CANONICAL]
    if unknown:
        raise InputError(f"{p}: field fields.{unknown[0]}: not a canonical field ({', '.join(CANONICAL)})")
    bad = next((c for c, v in cfg["fields"].items() if not isinstance(v, str) or not v), None)
    if bad:
        raise InputError(f"{p}: field fields.{bad}: expected a JSON path such as user.name")
    results = cfg.get("results")
    if results is not None and (not isinstance(results, dict) or set(results) - {"success", "failure"}
                                or any(not isinstance(v, str | int | float | list) for v in results.values())):
        raise InputError(f"{p}: field results: expected 'success:' and 'failure:' lists of raw values")
    where = cfg.get("where")
    if where is not None and not (isinstance(where, dict) and isinstance(where.get("field"), str)
                                  and isinstance(where.get("values"), list)):
        raise InputError(f"{p}: field where: expected 'field: JSON path' and 'values: [list]'")
    if not isinstance(cfg.get("ts_format", "iso"), str):
        raise InputError(f"{p}: field ts_format: expected iso, epoch, epoch_ms or a strptime pattern")
    return cfg


def _get(obj, path: str):
    if path in obj:  # keys that themselves contain dots
        return obj[path]
    cur = obj
    for part in path.split("."):
        if not isinstance(cur, dict) or part not in cur:
            return None
        cur = cur[part]
    return cur


def _ts(value, fmt: str) -> str | None:
    if value is None:
        return None
    try:
        if fmt == "epoch":
            return datetime.fromtimestamp(float(value), UTC).isoformat()
        if fmt == "epoch_ms":
            return datetime.fromtimestamp(float(value) / 1000, UTC).isoformat()
        if fmt != "iso":
            return datetime.strptime(str(value), fmt).isoformat()
    except (ValueError, OverflowError, OSError, TypeError):  # TypeError: a JSON object or list as epoch
        return None
    return str(value)


def rows(path: Path, mapping: dict, problems: Problems) -> Iterator[dict | None]:
    fields = mapping["fields"]
    results = {
        str(v).lower(): k
        for k, vals in (mapping.get("results") or {"success": ["success"], "failure": ["failure"]}).items()
        for v in (vals if isinstance(vals, list) else [vals])
    }
    where = mapping.get("where")
    fmt = mapping.get("ts_format", "iso")
    with open_text(path) as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                yield None
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                problems.add(path, n, "json", f"not JSON: {exc.msg}")
                continue
            if not isinstance(obj, dict):
                problems.add(path, n, "json", "not a JSON object")
                continue
            if where and str(_get(obj, where["field"])) not in {str(v) for v in where["values"]}:
                yield None
                continue
            row = {c: _get(obj, p) for c, p in fields.items()}
            raw_ts = row.get("ts")
            row["ts"] = _ts(raw_ts, fmt)
            if row["ts"] is None:
                problems.add(path, n, fields["ts"], f"unrecognised time {str(raw_ts)[:40]!r}")
                continue
            raw = str(row.get("result")).lower()
            if raw not in results:
                problems.add(path, n, fields["result"], f"value {raw[:30]!r} maps to neither success nor failure")
                continue
            row["result"] = results[raw]
            row = {k: (None if v is None else str(v)) for k, v in row.items()}
            checked = validate_row(row, problems, path, n)
            if checked is not None:
                yield checked
