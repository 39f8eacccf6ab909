"""Copying a user's file into the corpus folder, safely: checked type and size, never outside it."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from .errors import SourceError
from .readers import SUPPORTED

MAX_UPLOAD_BYTES = 50 * 1024 * 1024


def safe_name(name: str) -> str:
    """A plain file name from whatever the browser sent: no folders, no hidden files, no odd characters."""
    base = re.split(r"[\\/]", name)[-1]
    base = re.sub(r"[^\w.\- ]+", "_", base).strip(" .")
    if not base or base.startswith("."):
        raise SourceError(f"{name!r} is not a usable file name")
    return base


def add_to_corpus(path: str | Path, corpus_dir: str | Path, name: str | None = None) -> Path:
    """Copy one file into the corpus folder; returns where it landed (a new name if taken)."""
    path, corpus_dir = Path(path), Path(corpus_dir)
    target_name = safe_name(name or path.name)
    suffix = Path(target_name).suffix.lower()
    if suffix not in SUPPORTED:
        raise SourceError(f"{target_name}: unsupported file type; add one of {', '.join(SUPPORTED)}")
    size = path.stat().st_size
    if size > MAX_UPLOAD_BYTES:
        raise SourceError(f"{target_name}: {size // (1024 * 1024)} MB is over the {MAX_UPLOAD_BYTES // (1024 * 1024)} MB limit")
    if size == 0:
        raise SourceError(f"{target_name}: the file is empty")
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
    return target
