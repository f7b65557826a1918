"""Open a user's text file whatever Windows, Excel or a Unix tool wrote it in.

Detected, in this order: a byte-order mark (UTF-8, UTF-16 LE/BE), UTF-16 without a mark (NULs in the
first bytes), UTF-8, then CP950 (Big5 as Windows writes it in Taiwan). Every result says which encoding
was used, and every decoding error names it with the line and byte where decoding failed.
"""

from __future__ import annotations

import codecs
import gzip
import io
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from .errors import InputError, define

SAMPLE = 1 << 16
ENCODINGS = ("utf-8", "utf-16", "cp950")

UNDECODABLE = define(
    "text.undecodable",
    "cannot be read as {encoding} (byte 0x{byte} at offset {offset}); the file must be text in UTF-8, UTF-16 or CP950 (Big5)",
    "無法以 {encoding} 讀取（位移 {offset} 的位元組 0x{byte}）；檔案須為 UTF-8、UTF-16 或 CP950（Big5）文字",
)
NOT_TEXT = define(
    "text.binary",
    "is not a text file (it holds NUL bytes and is not UTF-16)",
    "不是文字檔（含有 NUL 位元組，且非 UTF-16）",
)


@dataclass(frozen=True)
class Decoded:
    text: str
    encoding: str  # the codec used: utf-8, utf-8-sig, utf-16-le, utf-16-be or cp950
    bom: bool


def _bom(head: bytes) -> tuple[str, int] | None:
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig", 3
    if head.startswith(codecs.BOM_UTF16_LE) and not head.startswith(codecs.BOM_UTF32_LE):
        return "utf-16-le", 2
    if head.startswith(codecs.BOM_UTF16_BE):
        return "utf-16-be", 2
    return None


def _valid(codec: str, head: bytes, final: bool) -> bool:
    try:
        codecs.getincrementaldecoder(codec)("strict").decode(head, final=final)
        return True
    except UnicodeDecodeError:
        return False


def detect_encoding(head: bytes, *, complete: bool = False) -> tuple[str, bool]:
    """(codec, has_bom) for the first bytes of a file; `complete` when `head` is the whole file.

    Raises ValueError for binary data. CP950 is the fallback for text that is not UTF-8."""
    if bom := _bom(head):
        return bom[0], True
    sample = head[:4096]
    if b"\x00" in sample:
        # UTF-16 text without a mark: ASCII characters leave NULs on one side of each byte pair only
        even, odd = sample[0::2].count(0), sample[1::2].count(0)
        if odd >= len(sample) // 16 and odd >= 4 * even and _valid("utf-16-le", head, complete):
            return "utf-16-le", False
        if even >= len(sample) // 16 and even >= 4 * odd and _valid("utf-16-be", head, complete):
            return "utf-16-be", False
        raise ValueError("binary")
    if _valid("utf-8", head, complete):
        return "utf-8", False
    return "cp950", False


def _locate(data: bytes, exc: UnicodeDecodeError) -> tuple[int, int]:
    """(line, byte offset) of a decoding error within `data`."""
    return data.count(b"\n", 0, exc.start) + 1, exc.start


def decode(data: bytes, *, name: str = "<data>", encoding: str | None = None) -> Decoded:
    """Decode a whole file's bytes, detecting the encoding unless one is given."""
    bom = False
    if encoding is None:
        try:
            encoding, bom = detect_encoding(data, complete=True)
        except ValueError:
            raise InputError(NOT_TEXT, file=name) from None
    try:
        return Decoded(data.decode(encoding), encoding, bom)
    except UnicodeDecodeError as exc:
        line, offset = _locate(data, exc)
        raise InputError(UNDECODABLE, file=name, line=line, encoding=encoding,
                         byte=data[exc.start:exc.start + 1].hex(), offset=offset) from None


def _raw(path: Path) -> BinaryIO:
    f = path.open("rb")
    if f.peek(2)[:2] == b"\x1f\x8b":
        return gzip.GzipFile(fileobj=f)  # type: ignore[return-value]
    return f


def read_text(path: str | Path, *, encoding: str | None = None) -> Decoded:
    """The whole file as text (gzip-compressed files are decompressed first)."""
    p = Path(path)
    with _raw(p) as f:
        data = f.read()
    return decode(data, name=str(path), encoding=encoding)


class TextLines:
    """Lines of a text file, decoded one at a time so that a bad byte is reported at its exact line.

    ASCII-compatible codecs (UTF-8, CP950) are split on bytes; UTF-16 goes through a TextIOWrapper
    (its line numbers in errors are then those of the decoded chunk)."""

    def __init__(self, raw: BinaryIO, encoding: str, name: str, errors: str):
        self.raw, self.encoding, self.name, self.errors = raw, encoding, name, errors
        self.line = 0  # number of the last line returned
        self._offset = 0
        if encoding.startswith("utf-16"):
            self._it = iter(io.TextIOWrapper(raw, encoding=encoding, errors=errors, newline=""))  # type: ignore[arg-type]
        else:
            self._it = None
            if encoding == "utf-8-sig":
                self.encoding = "utf-8"
                if raw.read(3) != codecs.BOM_UTF8:
                    raise ValueError("utf-8-sig without its mark")
                self._offset = 3

    def __iter__(self) -> TextLines:
        return self

    def _error(self, exc: UnicodeDecodeError, data: bytes, base: int) -> InputError:
        return InputError(UNDECODABLE, file=self.name, line=self.line + 1, encoding=self.encoding,
                          byte=data[exc.start:exc.start + 1].hex(), offset=base + exc.start)

    def __next__(self) -> str:
        if self._it is not None:
            try:
                text = next(self._it)
            except UnicodeDecodeError as exc:
                raise self._error(exc, exc.object, 0) from None
            self.line += 1
            return text
        data = self.raw.readline()
        if not data:
            raise StopIteration
        base = self._offset
        self._offset += len(data)
        try:
            text = data.decode(self.encoding, self.errors)
        except UnicodeDecodeError as exc:
            raise self._error(exc, data, base) from None
        self.line += 1
        return text

    def skip_bad_line(self) -> None:
        """After an InputError from __next__, count the bad line as read so iteration can go on."""
        self.line += 1

    def read(self) -> str:
        return "".join(self)

    def close(self) -> None:
        self.raw.close()

    def __enter__(self) -> TextLines:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_text(path: str | Path, *, encoding: str | None = None, errors: str = "strict") -> tuple[TextLines, str]:
    """The lines of a (possibly gzip-compressed) file and the codec chosen from its first 64 KiB.

    Lines keep their own endings, so CRLF files round-trip. With errors="strict" a bad byte later in the
    file raises InputError naming its line; a reader that counts damaged lines calls `skip_bad_line()` and
    goes on. errors="replace" gives U+FFFD instead."""
    p = Path(path)
    raw = _raw(p)
    try:
        head = raw.peek(SAMPLE)[:SAMPLE] if hasattr(raw, "peek") else b""
        if encoding is None:
            try:
                encoding, _ = detect_encoding(head, complete=len(head) < SAMPLE)
            except ValueError:
                raise InputError(NOT_TEXT, file=str(path)) from None
        return TextLines(raw, encoding, str(path), errors), encoding
    except BaseException:
        raw.close()
        raise


def open_stream(path: str | Path, *, errors: str = "strict", newline: str | None = "") -> tuple[io.TextIOWrapper, str]:
    """A plain text stream (readline, read(n), csv.reader) of a (possibly gzip-compressed) file in the encoding
    detected from its first 64 KiB, and that codec. For readers that replace bad bytes (errors="replace")
    rather than stop at them; `open_text` is the one that names the line of a bad byte."""
    p = Path(path)
    raw = _raw(p)
    try:
        head = raw.peek(SAMPLE)[:SAMPLE] if hasattr(raw, "peek") else b""
        try:
            encoding, _ = detect_encoding(head, complete=len(head) < SAMPLE)
        except ValueError:
            if errors == "strict":
                raise InputError(NOT_TEXT, file=str(path)) from None
            encoding = "utf-8"  # damaged text (stray NULs): the reader counts its bad lines
        return io.TextIOWrapper(raw, encoding=encoding, errors=errors, newline=newline), encoding  # type: ignore[arg-type]
    except BaseException:
        raw.close()
        raise
