"""Structured attestation: questionnaires for what no file can prove, answered and signed off."""

from .model import Topic, load_topics

__all__ = ["Topic", "load_topics"]
