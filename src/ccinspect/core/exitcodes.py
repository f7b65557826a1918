"""The command line's exit codes, one meaning each (docs: README, The command line)."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    FINDINGS = 1  # ran to the end and found something (deficiencies, alerts, problems)
    BAD_INPUT = 2  # refused: an input was wrong; nothing was written
    PARTIAL = 3  # ran, but on less than it was given, or on input that looks wrong (a warning says which)
