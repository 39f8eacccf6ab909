"""Milvus Lite's index files, made safe to kill while they are written.

Milvus Lite 3.2 writes a segment's index file in place, often from a background thread just
after a flush. A process killed mid-write leaves a truncated file, and every later load of the
collection fails on it ("No data left in file") — so a build killed after writing into the
serving collections took the serving generation down with it. An index file is derived from the
segment's rows, so here a new one is written aside and renamed into place, and one that cannot
be read is removed and built again from the rows.
"""

from __future__ import annotations

import functools
import logging
import os
import shutil
import tempfile
import threading
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)
PARTIAL = ".partial-"  # Milvus Lite's clean-up ignores entries that are not index files
_lock = threading.Lock()
_installed = False


def install() -> None:
    """Patch Milvus Lite's segment index reads and writes (once per process, before a server starts)."""
    global _installed
    with _lock:
        if _installed:
            return
        try:
            from milvus_lite.storage.segment import Segment
        except ImportError:  # pymilvus alone: opening a .db then fails with pymilvus's own "install milvus-lite"
            return
        Segment.build_or_load_index = _safe(Segment.build_or_load_index, scalar=False)
        Segment.build_or_load_scalar_index = _safe(Segment.build_or_load_scalar_index, scalar=True)
        _installed = True


def _safe(method: Callable[..., None], *, scalar: bool) -> Callable[..., None]:
    @functools.wraps(method)
    def build_or_load(segment: Any, spec: Any, index_dir: str, *args: Any) -> None:
        attached = segment.scalar_indexes if scalar else segment.indexes
        if spec.field_name in attached or segment.num_rows == 0:
            return method(segment, spec, index_dir, *args)
        path = segment.index_file_path(index_dir, spec.index_type, spec.field_name, scalar=scalar)
        if os.path.exists(path):
            try:
                return method(segment, spec, index_dir, *args)
            except Exception as exc:
                log.warning("Milvus Lite index file %s cannot be read (%s): building it again from its rows", path, exc)
                os.remove(path)
        os.makedirs(index_dir, exist_ok=True)
        _sweep(index_dir)
        aside = tempfile.mkdtemp(prefix=f"{PARTIAL}{os.getpid()}-", dir=index_dir)
        try:
            method(segment, spec, aside, *args)  # builds, attaches, and writes the file into `aside`
            written = segment.index_file_path(aside, spec.index_type, spec.field_name, scalar=scalar)
            if os.path.exists(written):  # (sparse indexes are built in memory, never written)
                os.replace(written, path)
        finally:
            shutil.rmtree(aside, ignore_errors=True)
        return None

    return build_or_load


def _sweep(index_dir: str) -> None:
    """Remove what writers killed mid-write left aside (their process is gone)."""
    for entry in os.listdir(index_dir):
        if entry.startswith(PARTIAL):
            pid = entry[len(PARTIAL):].split("-", 1)[0]
            if pid.isdigit() and not _alive(int(pid)):
                shutil.rmtree(os.path.join(index_dir, entry), ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
