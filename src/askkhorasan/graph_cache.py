"""Exported ONNX graphs, cached per user and checked on load like the index files.

    ~/.cache/askkhorasan/onnx/<kind>-<precision>-<key>/model.onnx
                                                    /graph.json   weights sha256, exporter settings,
                                                                  the graph's size and sha256

The key is a hash of the weights' sha256 and the exporter's settings, so new weights or a
new exporter get a new graph. The cache sits beside the user's other caches, not in an
index folder: the graph depends on the model alone, every index shares it, and building or
pruning index generations never touches it. `ASKKHORASAN_CACHE` moves it.

Hashing a 90 MB file takes about 0.3 s, as long as the rest of a cold `ask`; so a file's
sha256 is remembered with its size and modification time, and hashed again only when
either changes (a hand edit or a truncation does).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
import shutil
import types
from pathlib import Path

from .environment import set_defaults
from .errors import ModelError
from .hashing import sha256_bytes, sha256_file

log = logging.getLogger(__name__)

GRAPH = "model.onnx"
RECORD = "graph.json"


def cache_root() -> Path:
    if os.environ.get("ASKKHORASAN_CACHE"):
        return Path(os.environ["ASKKHORASAN_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "askkhorasan"


def _stat_key(path: Path) -> list:
    st = path.stat()
    return [str(path.resolve()), st.st_size, st.st_mtime_ns]


def remembered_sha256(path: str | Path) -> str:
    """sha256 of a file, remembered in the cache for as long as its size and mtime stay the same."""
    path = Path(path)
    memo_path = cache_root() / "sha256.json"
    try:
        memo = json.loads(memo_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        memo = {}
    key = _stat_key(path)
    entry = memo.get(key[0])
    if isinstance(entry, dict) and entry.get("stat") == key:
        return entry["sha256"]
    digest = sha256_file(path)
    memo[key[0]] = {"stat": key, "sha256": digest}
    with contextlib.suppress(OSError):  # a read-only cache only costs the hashing next time
        memo_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = memo_path.with_name(f".sha256.{secrets.token_hex(4)}")
        tmp.write_text(json.dumps(memo, indent=1), encoding="utf-8")
        os.replace(tmp, memo_path)
    return digest


def graph_key(weights_sha256: str, settings: dict) -> str:
    blob = json.dumps({"weights_sha256": weights_sha256, **settings}, sort_keys=True).encode()
    return sha256_bytes(blob)[:16]


def cached_graph(model, weights_sha256: str, kind: str, precision: str) -> tuple[Path, dict]:
    """The checked graph for these weights and settings, exported first if it is not cached.

    `model` is what `export_onnx` takes: a model folder or a loaded torch module, or a
    function returning one, called only when the graph has to be exported.
    """
    from .onnx_export import exporter_settings

    settings = exporter_settings(kind, precision)
    folder = cache_root() / "onnx" / f"{kind}-{precision}-{graph_key(weights_sha256, settings)}"
    record = _checked(folder)
    if record is None:
        record = _export(model, folder, weights_sha256, kind, precision, settings)
    return folder / GRAPH, record


def _checked(folder: Path) -> dict | None:
    """The folder's record if its graph is whole and unchanged; None if there is nothing cached."""
    if not (folder / RECORD).is_file():
        return None
    try:
        record = json.loads((folder / RECORD).read_text(encoding="utf-8"))
        graph = folder / GRAPH
        if graph.stat().st_size == record["bytes"] and remembered_sha256(graph) == record["sha256"]:
            return record
    except (OSError, ValueError, KeyError, TypeError):
        pass
    log.warning("the cached ONNX graph in %s is damaged; exporting it again", folder)
    shutil.rmtree(folder, ignore_errors=True)
    return None


def _export(model, folder: Path, weights_sha256: str, kind: str, precision: str, settings: dict) -> dict:
    from .onnx_export import export_onnx

    set_defaults()  # offline, before transformers reads its settings
    log.info("exporting the %s to ONNX (%s), once, into %s", kind, precision, folder)
    tmp = folder.with_name(f".{folder.name}.{secrets.token_hex(4)}")
    try:
        tmp.mkdir(parents=True)
        try:
            if isinstance(model, (types.FunctionType, types.MethodType)):  # a factory: the torch module is built only to export
                model = model()
            export_onnx(model, kind, tmp / GRAPH, precision=precision)
        except ImportError as exc:
            raise ModelError(
                f"exporting the model to ONNX needs torch and transformers ({exc}) — run `pip install askkhorasan`"
            ) from exc
        graph = tmp / GRAPH
        record = {"weights_sha256": weights_sha256, "settings": settings,
                  "bytes": graph.stat().st_size, "sha256": sha256_file(graph)}
        (tmp / RECORD).write_text(json.dumps(record, indent=2), encoding="utf-8")
        try:
            os.rename(tmp, folder)
        except OSError:  # another process exported the same graph first: use theirs
            if _checked(folder) is None:
                raise
    except OSError as exc:
        raise ModelError(
            f"cannot write the ONNX graph cache at {folder} ({exc}) — set ASKKHORASAN_CACHE to a writable folder"
        ) from exc
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return record
