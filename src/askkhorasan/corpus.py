"""The files of a corpus folder: found without following anything out of it, read the same way,
hashed the same way, and held to one size limit (build, status and upload all use this module).

A link is resolved when the folder is walked and again when the file is read, since a file can
be swapped for a link between the two; what is read is checked by the real path of the open file.
"""

from __future__ import annotations

import errno
import logging
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from .errors import CorpusError, SourceError
from .printable import printable
from .settings import BYTES_PER_MB, Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CorpusFile:
    path: Path
    source: str  # relative to the corpus folder, forward slashes
    link: bool = False  # a link to another file inside the folder, checked again when read


def discover(corpus_dir: str | Path, skipped: list[str] | None = None) -> list[CorpusFile]:
    """Every file under the corpus folder, hidden ones and links that loop or leave it excepted;
    what was passed over is described in `skipped`, when given."""
    root = Path(corpus_dir)
    if not root.is_dir():
        raise CorpusError(f"no corpus folder at {root} — create it and put .txt, .md, .pdf or .html files in it")
    real_root = root.resolve()
    found: list[CorpusFile] = []

    def skip(source: str, why: str) -> None:
        message = f"{printable(source)}: {why}; not followed"
        log.warning("%s", message)
        if skipped is not None:
            skipped.append(message)

    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if name.startswith("."):
                continue
            path = Path(dirpath) / name
            source = path.relative_to(root).as_posix()
            link = path.is_symlink()
            if link:
                target = _resolve(path)
                if target is None:
                    skip(source, "a link that loops or cannot be resolved")
                    continue
                if not target.is_relative_to(real_root):
                    skip(source, "a link to a file outside the corpus folder")
                    continue
            try:
                is_file = path.is_file()
            except OSError:
                is_file = False
            if is_file:
                found.append(CorpusFile(path, source, link))
    return found


def too_large(source: str, size: int, max_source_mb: float) -> str | None:
    """Why a source of `size` bytes is skipped under the size limit, or None when it is within it.
    A source is indexed under the SHA-256 of its bytes (hashing.py), so a renamed file keeps it."""
    if size <= Settings(max_source_mb=max_source_mb).max_source_bytes:
        return None
    return (
        f"{source}: {size / BYTES_PER_MB:.3g} MB is over the {max_source_mb:g} MB limit for one source — split it, "
        f"or raise the limit: `askkhorasan build --max-source-mb {int(size / BYTES_PER_MB) + 1}` "
        f"(and the same option on `askkhorasan serve` and `status`)"
    )


def _resolve(path: Path) -> Path | None:
    try:
        return path.resolve(strict=True)
    except (OSError, RuntimeError):  # RuntimeError: a link loop, before Python 3.13
        return None


def read_source(cf: CorpusFile, corpus_dir: str | Path, max_bytes: int) -> bytes:
    """The bytes of a discovered file, refusing anything that is no longer a regular file inside
    the corpus folder. Raises SourceError (also when over `max_bytes`) or OSError."""
    real_root = Path(corpus_dir).resolve()
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0)  # a FIFO swapped in must not hang the build
    if not cf.link:
        flags |= getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(cf.path, flags)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise SourceError(f"{printable(cf.source)}: became a link while the build ran; not followed") from None
        raise
    try:
        real = _real_path(fd, cf.path)
        if real is None or not real.is_relative_to(real_root):
            raise SourceError(f"{printable(cf.source)}: now points outside the corpus folder; not followed")
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise SourceError(f"{printable(cf.source)}: no longer a regular file; skipped")
        if info.st_size > max_bytes:
            raise OversizeError(cf.source, info.st_size)
        with os.fdopen(os.dup(fd), "rb") as fh:
            data = fh.read(max_bytes + 1)
        if len(data) > max_bytes:
            raise OversizeError(cf.source, len(data))
        return data
    finally:
        os.close(fd)


class OversizeError(SourceError):
    """A source over the size limit; the build words the message, since it knows the setting."""

    def __init__(self, source: str, size: int):
        super().__init__(f"{printable(source)}: over the size limit")
        self.source, self.size = source, size


def _real_path(fd: int, path: Path) -> Path | None:
    """Where the open file really is: /proc names it even if the path was swapped since."""
    proc = Path(f"/proc/self/fd/{fd}")
    try:
        return Path(os.readlink(proc)) if proc.exists() else _resolve(path)
    except OSError:
        return _resolve(path)
