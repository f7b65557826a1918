"""The audit trail's hash chain: each entry's hash covers its canonical content and the previous entry's hash.

Pure functions over plain rows (dicts from `.values()`), so the migration that backfills the chain, the model
that extends it and `ccinspect verify` that walks it share one definition. An edited entry no longer matches
its hash; a deleted one leaves the next entry pointing at a hash that is not there; an inserted one either
breaks the link after it or sits past the chain head (the row that records the last entry's id and hash).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass

GENESIS = ""  # the first entry's prev_hash
HEAD_ID = 1
FIELDS = ("at", "actor_id", "actor_username", "actor_name", "actor_title", "actor_role", "organisation_id",
          "action", "model", "object_id", "object_repr", "changes")


def normalise_json(value):
    """The value as the database gives it back: JSON types only, integral floats as ints (jsonb stores
    1.0 and 1e20 as numerics)."""
    value = json.loads(json.dumps(value))
    return _ints(value)


def _ints(value):
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _ints(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_ints(v) for v in value]
    return value


def _when(value) -> str:
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical(row: dict, prev_hash: str) -> bytes:
    """A stable serialisation: sorted keys, no whitespace, UTC time to the microsecond."""
    doc = {f: row.get(f) for f in FIELDS}
    doc["at"] = _when(row["at"])
    doc["changes"] = normalise_json(row.get("changes") or {})
    for f in ("actor_id", "organisation_id"):
        doc[f] = None if doc[f] is None else int(doc[f])
    for f in ("actor_username", "actor_name", "actor_title", "actor_role", "action", "model", "object_id",
              "object_repr"):
        doc[f] = doc[f] or ""
    doc["prev_hash"] = prev_hash or GENESIS
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def entry_hash(row: dict, prev_hash: str) -> str:
    return hashlib.sha256(canonical(row, prev_hash)).hexdigest()


@dataclass(frozen=True)
class Problem:
    kind: str  # edited | inserted | deleted | head
    id: int | None
    message: str


def verify_chain(rows, head: tuple[int | None, str] | None) -> tuple[int, list[Problem]]:
    """Walk the entries in id order. `head` is (last_id, last_hash) from the chain head row, or None when
    the head row is missing. Returns (entries checked, problems)."""
    edited: dict[int, Problem] = {}
    inserted: dict[int, Problem] = {}
    other: list[Problem] = []
    seen: dict[str, int] = {}  # stored hash -> index in order
    order: list[dict] = []
    prev_hash, prev_id = GENESIS, None
    for row in rows:
        rid = row["id"]
        if entry_hash(row, row["prev_hash"]) != row["hash"]:
            edited[rid] = Problem("edited", rid, f"audit entry {rid} was edited: its content no longer matches "
                                                 "its hash")
        if row["prev_hash"] != prev_hash:
            if row["prev_hash"] in seen or (row["prev_hash"] == GENESIS and order):
                start = seen[row["prev_hash"]] + 1 if row["prev_hash"] in seen else 0
                for bad in order[start:]:
                    inserted[bad["id"]] = Problem("inserted", bad["id"], f"audit entry {bad['id']} was inserted: "
                                                  f"entry {rid} follows {'the start' if start == 0 else order[start - 1]['id']}")
            elif prev_id is not None and rid - prev_id > 1:
                gap = f"{prev_id + 1}" if rid - prev_id == 2 else f"{prev_id + 1}–{rid - 1}"
                other.append(Problem("deleted", rid, f"audit entry {gap} was deleted: entry {rid} does not "
                                                     f"follow entry {prev_id}"))
            else:
                other.append(Problem("deleted", rid, f"the chain breaks before audit entry {rid}"
                                     + (f" (after {prev_id})" if prev_id is not None else "")
                                     + ": an entry was deleted there or the one before was rewritten"))
        seen[row["hash"]] = len(order)
        order.append(row)
        prev_hash, prev_id = row["hash"], rid
    if head is None:
        if order:
            other.append(Problem("head", None, "the chain head is missing"))
    else:
        last_id, last_hash = head
        ids = [r["id"] for r in order]
        if last_id is None:
            for r in order:
                inserted.setdefault(r["id"], Problem("inserted", r["id"], f"audit entry {r['id']} was inserted "
                                                     "after the recorded end of the chain"))
        elif last_id not in ids:
            other.append(Problem("deleted", last_id, f"audit entry {last_id}, the last one recorded, was deleted"))
        else:
            i = ids.index(last_id)
            if order[i]["hash"] != last_hash:
                other.append(Problem("head", last_id, f"audit entry {last_id} does not carry the hash the chain "
                                                      "head recorded for it"))
            for r in order[i + 1:]:
                inserted.setdefault(r["id"], Problem("inserted", r["id"], f"audit entry {r['id']} was inserted "
                                                     f"after the recorded end of the chain (entry {last_id})"))
    problems = [p for rid, p in edited.items() if rid not in inserted] + list(inserted.values()) + other
    problems.sort(key=lambda p: (p.id is None, p.id or 0, p.kind))
    return len(order), problems
