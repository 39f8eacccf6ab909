"""Copying a user's file into the corpus folder, safely: checked type and size, never outside it,
never a second copy of a file the corpus already holds."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from .corpus import discover, too_large
from .hashing import sha256_file
from .errors import SourceError
from .readers import SUPPORTED
from .settings import DEFAULT_SETTINGS
from .types import AddedFile


def safe_name(name: str) -> str:
    """A plain file name from whatever the browser sent: no folders, no hidden files, no odd characters."""
    base = re.split(r"[\\/]", name)[-1]
    base = re.sub(r"[^\w.\- ]+", "_", base).strip(" .")
    if not base or base.startswith("."):
        raise SourceError(f"{name!r} is not a usable file name")
    return base


def same_file_in_corpus(path: Path, corpus_dir: Path) -> str | None:
    """The corpus source with exactly these bytes, if there is one (only same-size files are hashed)."""
    if not corpus_dir.is_dir():
        return None
    size, digest = path.stat().st_size, None
    for f in discover(corpus_dir):
        try:
            if f.path.stat().st_size != size:
                continue
            digest = digest or sha256_file(path)
            if sha256_file(f.path) == digest:
                return f.source
        except OSError:
            continue
    return None


def add_to_corpus(path: str | Path, corpus_dir: str | Path, name: str | None = None,
                  max_source_mb: float = DEFAULT_SETTINGS.max_source_mb) -> AddedFile:
    """Copy one file into the corpus folder (a new name if taken), unless the corpus already holds it."""
    path, corpus_dir = Path(path), Path(corpus_dir)
    target_name = safe_name(name or path.name)
    suffix = Path(target_name).suffix.lower()
    if suffix not in SUPPORTED:
        raise SourceError(f"{target_name}: unsupported file type; add one of {', '.join(SUPPORTED)}")
    size = path.stat().st_size
    reason = too_large(target_name, size, max_source_mb)
    if reason:
        raise SourceError(reason)
    if size == 0:
        raise SourceError(f"{target_name}: the file is empty")
    existing = same_file_in_corpus(path, corpus_dir)
    if existing is not None:
        return AddedFile(target_name, existing, copied=False)
    corpus_dir.mkdir(parents=True, exist_ok=True)
    stem, n = Path(target_name).stem, 1
    target = corpus_dir / target_name
    while target.exists():
        target = corpus_dir / f"{stem}-{n}{suffix}"
        n += 1
    if not target.resolve().is_relative_to(corpus_dir.resolve()):
        raise SourceError(f"{target_name}: would be written outside the corpus folder")
    tmp = target.with_name(f".{target.name}.part")
    shutil.copyfile(path, tmp)
    tmp.replace(target)
    return AddedFile(target_name, target.relative_to(corpus_dir).as_posix(), copied=True)
