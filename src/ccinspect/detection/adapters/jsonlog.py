"""JSON logs: canonical JSON Lines and mapped JSON access logs now live in mapping.py (kept for imports)."""

from __future__ import annotations

from .mapping import IDENTITY, Mapping, load_mapping, read_jsonl, read_mapped

__all__ = ["IDENTITY", "Mapping", "load_mapping", "read_jsonl", "read_mapped"]
