"""Write outputs so that a reader sees the old version or the new one, never half of either.

Files: written to a temporary sibling, flushed to disk, then renamed over the target. Folders: built in a
temporary sibling and swapped with the target in one step (Linux renameat2 RENAME_EXCHANGE), falling back
to two renames where the kernel lacks it (then `recover_dir` puts the old folder back after a crash).
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


def _fsync_dir(d: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(d, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def atomic_write_bytes(path: str | Path, data: bytes, *, mode: int | None = None) -> Path:
    p = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, p)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    _fsync_dir(p.parent)
    return p


def atomic_write_text(path: str | Path, text: str, *, encoding: str = "utf-8", mode: int | None = None) -> Path:
    return atomic_write_bytes(path, text.encode(encoding), mode=mode)


@contextlib.contextmanager
def atomic_file(path: str | Path) -> Iterator[Path]:
    """Yield a temporary sibling path to write by any means (a library that wants a file name: openpyxl,
    tarfile); on success it is flushed to disk and renamed over `path`, on error removed."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp's 0600 would otherwise become the output's mode
        os.replace(tmp, p)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    _fsync_dir(p.parent)


def _link(src, dst) -> None:
    try:
        os.link(src, dst, follow_symlinks=False)
    except OSError:
        shutil.copy2(src, dst, follow_symlinks=False)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one step; False where the system cannot."""
    libc_name = ctypes.util.find_library("c")
    if not libc_name:
        return False
    libc = ctypes.CDLL(libc_name, use_errno=True)
    fn = getattr(libc, "renameat2", None)
    if fn is None:
        return False
    rc = fn(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    return rc == 0


def recover_dir(path: str | Path) -> None:
    """After a crash between the fallback's two renames: put the previous folder back."""
    p = Path(path)
    if p.exists():
        return
    olds = sorted(p.parent.glob(f".{p.name}.old-*"), key=lambda q: q.stat().st_mtime)
    if olds:
        os.rename(olds[-1], p)


@contextlib.contextmanager
def atomic_dir(path: str | Path, *, keep_others: bool = False) -> Iterator[Path]:
    """Yield a temporary folder to fill; on success it replaces `path` whole, on error it is removed. With
    `keep_others`, entries of the old folder the new one lacks (files a user keeps beside a command's
    outputs) are hard-linked into the new one first, so only the command's own files change."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    recover_dir(p)
    tmp = Path(tempfile.mkdtemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent))
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o777 & ~umask)  # mkdtemp's 0700 would otherwise become the output's mode
    try:
        yield tmp
        if keep_others and p.is_dir():
            for old in p.iterdir():
                if not (tmp / old.name).exists():
                    if old.is_dir() and not old.is_symlink():
                        shutil.copytree(old, tmp / old.name, symlinks=True, copy_function=_link)
                    else:
                        _link(old, tmp / old.name)
        for f in tmp.rglob("*"):
            if f.is_file():
                with open(f, "rb") as fh:
                    os.fsync(fh.fileno())
        if p.exists() and not p.is_dir():
            raise NotADirectoryError(f"{p} exists and is not a folder")
        if not p.exists():
            os.rename(tmp, p)
        elif _exchange(tmp, p):
            shutil.rmtree(tmp)  # tmp now holds the old folder
        else:
            old = p.parent / f".{p.name}.old-{os.getpid()}"
            os.rename(p, old)
            os.rename(tmp, p)
            shutil.rmtree(old)
        _fsync_dir(p.parent)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
