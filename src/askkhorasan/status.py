"""How the index stands against the corpus folder: what is new, changed, gone or skipped."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .corpus import CorpusFile, discover, too_large
from .hashing import sha256_file
from .embed import compatible, default_backend, default_precision
from .errors import AskKhorasanError
from .settings import DEFAULT_SETTINGS, Settings
from .milvus_store import location, milvus_target, read_meta
from .store import load_generation, read_documents
from .types import DocumentRow, IndexStatus, SourceStatus


def source_states(files: list[CorpusFile], manifest: dict, max_source_mb: float,
                  trust_file_stats: bool = False) -> list[SourceStatus]:
    """Each corpus file's state against a manifest (no titles or counts). A file over the size
    limit is not read: it is "skipped" with the reason, like an unreadable one the last build
    skipped, and neither needs a build. With `trust_file_stats`, a file whose size and mtime are
    those the build recorded keeps the hash recorded with them, unread."""
    indexed: dict[str, str] = manifest.get("sources", {})
    failed: dict[str, dict] = manifest.get("failed", {})
    duplicates: dict[str, str] = manifest.get("duplicates", {})
    stats: dict[str, list[int]] = manifest.get("file_stats", {}) if trust_file_stats else {}
    out = []
    for f in files:
        try:
            st = f.path.stat()
            reason = too_large(f.source, st.st_size, max_source_mb)
            known = f.source in indexed or f.source in duplicates or f.source in failed  # else "new", unread
            recorded = _recorded_hash(f.source, manifest) if stats.get(f.source) == [st.st_size, st.st_mtime_ns] else None
            digest = None if reason or not known else recorded or sha256_file(f.path)
        except OSError as exc:
            out.append(SourceStatus(f.source, "new", reason=f"{f.source}: cannot read the file ({exc.strerror or exc})"))
            continue
        if reason:
            # One the index holds leaves it at the next build.
            out.append(SourceStatus(f.source, "changed" if f.source in indexed else "skipped", reason=reason))
        elif f.source in duplicates and digest == indexed.get(duplicates[f.source]):
            out.append(SourceStatus(f.source, "duplicate", reason=f"the same file as {duplicates[f.source]}"))
        elif f.source in indexed:
            out.append(SourceStatus(f.source, "indexed" if indexed[f.source] == digest else "changed"))
        elif f.source in failed and failed[f.source].get("sha256") == digest:
            out.append(SourceStatus(f.source, "skipped", reason=failed[f.source].get("reason")))
        else:
            out.append(SourceStatus(f.source, "new"))
    return out


def _recorded_hash(source: str, manifest: dict) -> str | None:
    """The content hash the last build read for a source: indexed, a duplicate, or skipped unreadable."""
    if source in manifest.get("sources", {}):
        return manifest["sources"][source]
    if source in manifest.get("duplicates", {}):
        return manifest.get("sources", {}).get(manifest["duplicates"][source])
    return manifest.get("failed", {}).get(source, {}).get("sha256")


def index_status(corpus_dir: str | Path = "corpus", index_dir: str | Path = "index",
                 max_source_mb: float | None = None, verify: bool = False) -> IndexStatus:
    """The index against the corpus; `max_source_mb` defaults to the limit the index was built with.

    Quick by default: the manifest and the documents list are read, not the vectors, and a source
    whose size and mtime are as the build recorded them is not hashed again. `verify` checks every
    file of the index against its hash and hashes every source."""
    corpus_dir, index_dir = Path(corpus_dir), location(index_dir)
    files = discover(corpus_dir) if corpus_dir.is_dir() else []
    docs: Sequence[DocumentRow]
    try:
        target = milvus_target(index_dir)
        if target is not None:
            manifest, docs = read_meta(target)
        elif verify:
            gen = load_generation(index_dir, rehash=True)
            manifest, docs = gen.manifest, gen.documents
        else:
            manifest, docs = read_documents(index_dir)
        documents = {d["source"]: d for d in docs}
        if not compatible(manifest.get("embedding"), default_precision()):
            raise AskKhorasanError(
                f"its vectors come from another embedding backend than {default_backend()} — "
                f"run `askkhorasan build --index {index_dir}` to re-embed them"
            )
    except AskKhorasanError as exc:
        limit = max_source_mb or DEFAULT_SETTINGS.max_source_mb
        return IndexStatus(
            str(index_dir), str(corpus_dir), exists=False, problem=str(exc),
            sources=tuple(s if s.state == "skipped" else SourceStatus(s.source, "new")
                          for s in source_states(files, {}, limit)),
        )
    limit = max_source_mb or Settings.from_dict(manifest.get("settings", {})).max_source_mb
    sources = []
    for s in source_states(files, manifest, limit, trust_file_stats=not verify):
        doc: Mapping[str, Any] = documents.get(s.source) or {}
        sources.append(SourceStatus(
            s.source, s.state, doc.get("title"), doc.get("date"), doc.get("publisher"), doc.get("passages", 0), s.reason
        ))
    present = {f.source for f in files}
    sources.extend(SourceStatus(s, "missing") for s in manifest.get("sources", {}) if s not in present)
    return IndexStatus(
        str(index_dir), str(corpus_dir), exists=True, built_at=manifest.get("created_at"),
        model=manifest.get("model", {}).get("name"), passages=manifest.get("counts", {}).get("passages", 0),
        sources=tuple(sources),
    )
