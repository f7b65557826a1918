"""One exit-code table for every command (documented in `--help` epilogs and docs/cli.md)."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0  # done, nothing to report
    FINDINGS = 1  # done, and problems were found (alerts, failed requirements, gaps, integrity problems)
    BAD_INPUT = 2  # bad input or usage: nothing was written
    PARTIAL = 3  # some input was unreadable or damaged; results for the rest were written

    @classmethod
    def worst(cls, *codes: int) -> ExitCode:
        """The code a run reports when several apply: PARTIAL outranks FINDINGS, which outranks OK."""
        order = [cls.OK, cls.FINDINGS, cls.PARTIAL, cls.BAD_INPUT]
        return max((cls(c) for c in codes), key=order.index, default=cls.OK)


HELP = {
    ExitCode.OK: ("成功，沒有待處理的發現", "success, nothing found"),
    ExitCode.FINDINGS: ("成功，且有發現（警示、未符合項目、缺口）", "success, and problems were found"),
    ExitCode.BAD_INPUT: ("輸入或用法錯誤，未寫出任何結果", "bad input or usage; nothing written"),
    ExitCode.PARTIAL: ("部分輸入無法讀取或已損壞；其餘結果已寫出", "partial: some input unreadable or damaged; results written"),
}


def epilog() -> str:
    """The exit-code table as a `--help` epilog."""
    rows = "  ".join(f"{int(c)}: {zh} / {en}." for c, (zh, en) in HELP.items())
    return f"結束代碼 Exit codes — {rows}"
