"""How the index stands against the corpus folder: what is new, changed or gone."""

from __future__ import annotations

from pathlib import Path

from .build import file_sha256
from .corpus import discover
from .errors import AskKhorasanError
from .store import read_manifest, load_generation
from .types import IndexStatus, SourceStatus


def index_status(corpus_dir: str | Path = "corpus", index_dir: str | Path = "index") -> IndexStatus:
    corpus_dir, index_dir = Path(corpus_dir), Path(index_dir)
    files = discover(corpus_dir) if corpus_dir.is_dir() else []
    try:
        manifest = read_manifest(index_dir)
        documents = {d["source"]: d for d in load_generation(index_dir).documents}
    except AskKhorasanError as exc:
        return IndexStatus(
            str(index_dir), str(corpus_dir), exists=False, problem=str(exc),
            sources=tuple(SourceStatus(f.source, "new") for f in files),
        )
    indexed: dict[str, str] = manifest.get("sources", {})
    sources = []
    for f in files:
        try:
            digest = file_sha256(f.path.read_bytes())
        except OSError:
            digest = None
        failed = manifest.get("failed", {}).get(f.source)
        if f.source in manifest.get("duplicates", {}) and digest == indexed.get(manifest["duplicates"][f.source]):
            state = "duplicate"
        elif failed and failed.get("sha256") == digest:
            state = "failed"
        elif f.source not in indexed:
            state = "new"
        elif indexed[f.source] != digest:
            state = "changed"
        else:
            state = "indexed"
        doc = documents.get(f.source, {})
        sources.append(SourceStatus(
            f.source, state, doc.get("title"), doc.get("date"), doc.get("publisher"), doc.get("passages", 0)
        ))
    present = {f.source for f in files}
    sources.extend(SourceStatus(s, "missing") for s in indexed if s not in present)
    return IndexStatus(
        str(index_dir), str(corpus_dir), exists=True, built_at=manifest.get("created_at"),
        model=manifest.get("model", {}).get("name"), passages=manifest.get("counts", {}).get("passages", 0),
        sources=tuple(sources),
    )
