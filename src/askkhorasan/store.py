"""The index folder: generations written whole, then switched to atomically.

    index/
      CURRENT                 the name of the generation in use
      g-<time>-<id>/          one complete index
        manifest.json         format, model and weights hash, embedding backend, settings, sources, file hashes
        passages.faiss        FAISS's own file: one vector per passage
        passages.sqlite       one passage per row, `id` its row in FAISS (rows.py)
        documents.sqlite      one source per row: hash, title, date, publisher
        sentences.npy         one vector per sentence (float16)
        sentence_spans.npy    (start, end) of each sentence in its document text
        sentence_owner.npy    the first passage that holds each sentence
        lexical/              the BM25 index, as bm25s saves it

A build writes a new generation beside the old one and only then rewrites
CURRENT, so a build that dies at any point leaves the previous index serving.
No pickle anywhere: everything is JSON, SQLite, NumPy arrays or FAISS's format.

Loading reads nothing whole that grows with the corpus: the arrays and the BM25 index are
memory-mapped, an IVF index's lists too, and rows are read from SQLite by id; so a process
serving a million passages holds the pages its questions touch. Every file is checked against
the manifest's hash on the first load on this machine (verified.py remembers it).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import secrets
import shutil
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import faiss
import numpy as np

from . import schema
from .errors import AskKhorasanError, IndexCorruptError, IndexIncompatibleError, IndexMissingError, IndexWriteError
from .hashing import sha256_file
from .provenance import INDEX_LIBRARIES, library_versions, model_files
from .rows import DOCUMENTS, PASSAGES, DocumentTable, PassageTable, write_documents, write_passages
from .settings import FORMAT_VERSION, MODEL_DIMENSION, MODEL_NAME, MODEL_WEIGHTS_SHA256, Settings
from .types import DocumentRow, PassageRow
from .verified import Verifier

log = logging.getLogger(__name__)

CURRENT = "CURRENT"
MANIFEST = "manifest.json"
FILES = schema.REQUIRED_FILES
# Sentence vectors are stored in float16: half the disk and page cache of float32, and the
# benchmarks' answers the same (README, Scaling). They are read as they are, memory-mapped.
VECTOR_DTYPE = "<f2"
LEXICAL = "lexical"
KEEP_GENERATIONS = 2  # the current one and the one before, for readers still on it


@dataclass
class Generation:
    """Everything one index generation holds, loaded."""

    path: Path
    manifest: dict
    faiss_index: faiss.Index | None  # None in a Milvus generation: Milvus searches its vectors
    passages: Sequence[PassageRow]  # a PassageTable in a folder generation
    documents: Sequence[DocumentRow]
    sentence_vectors: np.ndarray  # memory-mapped float16 in a folder generation
    sentence_spans: np.ndarray
    sentence_owner: np.ndarray | None = None  # the first passage holding each sentence, if stored

    @property
    def settings(self) -> Settings:
        return Settings.from_dict(self.manifest.get("settings", {}))


def rebuild_hint(index_dir: Path) -> str:
    return f"run `askkhorasan build --index {index_dir}` to rebuild it"


def current_generation(index_dir: Path) -> Path:
    pointer = index_dir / CURRENT
    if not pointer.is_file():
        raise IndexMissingError(f"no index at {index_dir} — run `askkhorasan build --index {index_dir}`")
    try:
        name = pointer.read_bytes().decode("ascii").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise IndexCorruptError(f"cannot read {pointer} ({exc}) — {rebuild_hint(index_dir)}") from exc
    path = index_dir / name
    if not re.fullmatch(r"g-[\w-]+", name) or not path.is_dir():
        raise IndexCorruptError(f"{pointer} names no generation ({name!r}) — {rebuild_hint(index_dir)}")
    return path


def read_manifest(index_dir: Path) -> dict:
    path = current_generation(index_dir) / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise IndexCorruptError(f"cannot read {path}: {exc} — {rebuild_hint(index_dir)}") from exc
    if not isinstance(manifest, dict):
        raise IndexCorruptError(f"{path} is not a manifest — {rebuild_hint(index_dir)}")
    if isinstance(manifest.get("format_version"), int) and manifest["format_version"] > FORMAT_VERSION:
        check_compatible(manifest, index_dir)  # a newer format is reported as such, not as damage
    wrong = schema.problems(manifest)
    if wrong:
        raise IndexCorruptError(f"{path} is damaged or hand-edited ({'; '.join(wrong)}) — {rebuild_hint(index_dir)}")
    check_compatible(manifest, index_dir)
    return manifest


def check_compatible(manifest: dict, index_dir: Path) -> None:
    version = manifest.get("format_version")
    if not isinstance(version, int):
        raise IndexCorruptError(f"the manifest in {index_dir} has no format version — {rebuild_hint(index_dir)}")
    if version > FORMAT_VERSION:
        raise IndexIncompatibleError(
            f"the index at {index_dir} has format {version}, newer than this askkhorasan reads ({FORMAT_VERSION}) — "
            f"upgrade askkhorasan, or {rebuild_hint(index_dir)}"
        )
    if version < FORMAT_VERSION:
        raise IndexIncompatibleError(
            f"the index at {index_dir} has the old format {version} — {rebuild_hint(index_dir)}"
        )
    model = manifest.get("model", {})
    if model.get("name") != MODEL_NAME or model.get("weights_sha256") != MODEL_WEIGHTS_SHA256:
        raise IndexIncompatibleError(
            f"the index at {index_dir} was built with another model ({model.get('name')}, weights "
            f"{str(model.get('weights_sha256'))[:12]}…) — {rebuild_hint(index_dir)}"
        )


def verify_generation(index_dir: str | Path, rehash: bool = False) -> tuple[Path, dict]:
    """The current generation's folder and manifest, every file checked against the manifest; nothing loaded.

    A file is hashed in full the first time this machine loads it, and again whenever it
    changes on disk (verified.py), or when `rehash` says so; its size is checked every time."""
    index_dir = Path(index_dir)
    manifest = read_manifest(index_dir)
    gen = current_generation(index_dir)
    listed = manifest["files"]
    on_disk = {p.relative_to(gen).as_posix() for p in gen.rglob("*") if p.is_file() and p.name != MANIFEST}
    unlisted = sorted(on_disk - set(listed))
    if unlisted:
        raise IndexCorruptError(
            f"{gen / unlisted[0]} is not in the manifest's file hashes — {rebuild_hint(index_dir)}"
        )
    verifier = Verifier(remembered=not rehash)
    for name, expected in listed.items():
        path = gen / name
        if not path.is_file() or not path.resolve().is_relative_to(gen.resolve()):
            raise IndexCorruptError(f"{path} is missing — {rebuild_hint(index_dir)}")
        if not verifier.matches(path, expected["bytes"], expected["sha256"]):
            raise IndexCorruptError(f"{path} was changed or truncated since it was built — {rebuild_hint(index_dir)}")
    verifier.save()
    return gen, manifest


def read_documents(index_dir: str | Path) -> tuple[dict, list[DocumentRow]]:
    """The manifest and the indexed documents, only documents.sqlite checked against its hash:
    what `status` shows, without reading the vectors (`verify_generation` checks everything)."""
    index_dir = Path(index_dir)
    manifest = read_manifest(index_dir)
    gen = current_generation(index_dir)
    path = gen / DOCUMENTS
    expected = manifest["files"][DOCUMENTS]
    verifier = Verifier()
    try:
        if not verifier.matches(path, expected["bytes"], expected["sha256"]):
            raise IndexCorruptError(f"{path} was changed or truncated since it was built — {rebuild_hint(index_dir)}")
        verifier.save()
        return manifest, document_rows(gen)
    except (OSError, ValueError, sqlite3.Error) as exc:
        raise IndexCorruptError(f"cannot read {path}: {exc} — {rebuild_hint(index_dir)}") from exc


def document_rows(gen: Path) -> list[DocumentRow]:
    """Every document row of a generation folder already verified."""
    table = DocumentTable(gen / DOCUMENTS)
    try:
        return list(table)
    finally:
        table.close()


def load_generation(index_dir: str | Path, rehash: bool = False) -> Generation:
    """Open the current generation, checking every file against the manifest; what grows with
    the corpus stays on disk (memory-mapped arrays, rows read by id). `rehash` hashes every file
    even if this machine verified it before."""
    index_dir = Path(index_dir)
    gen, manifest = verify_generation(index_dir, rehash)
    try:
        # An IVF index's lists are mapped, not read; a flat index (small by FLAT_LIMIT) is read.
        index = faiss.read_index(str(gen / "passages.faiss"), faiss.IO_FLAG_MMAP)
        tune_faiss_index(index)
        passages = PassageTable(gen / PASSAGES)
        documents = DocumentTable(gen / DOCUMENTS)
        vectors = np.load(gen / "sentences.npy", mmap_mode="r", allow_pickle=False)
        spans = np.load(gen / "sentence_spans.npy", mmap_mode="r", allow_pickle=False)
        owner = np.load(gen / "sentence_owner.npy", mmap_mode="r", allow_pickle=False)
    except (OSError, ValueError, RuntimeError, sqlite3.Error) as exc:
        raise IndexCorruptError(f"cannot load the index at {gen}: {exc} — {rebuild_hint(index_dir)}") from exc
    counts = manifest.get("counts", {})
    if not (index.ntotal == len(passages) == counts.get("passages")) or not (
        len(vectors) == len(spans) == len(owner) == counts.get("sentences")
    ) or len(documents) != counts.get("sources") or vectors.ndim != 2:
        raise IndexCorruptError(f"the files of {gen} disagree on their sizes — {rebuild_hint(index_dir)}")
    return Generation(gen, manifest, index, passages, documents, vectors, spans, owner)


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _write_bytes(path: Path, data: bytes) -> None:
    with path.open("wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def _save_vectors(path: Path, parts: Iterable[np.ndarray], rows: int, dim: int) -> None:
    """One float16 .npy file from row blocks, written block by block rather than joined first."""
    written = 0
    with path.open("wb") as fh:
        np.lib.format.write_array_header_1_0(fh, {"descr": VECTOR_DTYPE, "fortran_order": False, "shape": (rows, dim)})
        for part in parts:
            block = np.ascontiguousarray(part.reshape(-1, dim), dtype=VECTOR_DTYPE)
            block.tofile(fh)
            written += len(block)
        fh.flush()
        os.fsync(fh.fileno())
    if written != rows:
        raise ValueError(f"{written} sentence vectors were written for {rows} sentences")


def _save_array(path: Path, array: np.ndarray) -> None:
    with path.open("wb") as fh:
        np.save(fh, array, allow_pickle=False)
        fh.flush()
        os.fsync(fh.fileno())


class BuildLock:
    """One build at a time per index folder, across processes and threads.

    Re-entrant in the thread that holds it, so the app can take it before copying uploads in
    and keep it through the build that follows; any other thread or process is refused."""

    _held: dict[Path, list] = {}  # lock path -> [owning thread, depth, FileLock]
    _guard = threading.Lock()

    def __init__(self, index_dir: Path):
        self.index_dir = Path(index_dir)
        self.path = self.index_dir / ".lock"

    def __enter__(self):
        from filelock import FileLock, Timeout

        busy = AskKhorasanError(f"another build is writing {self.index_dir} — wait for it to finish, then try again")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            key = self.path.resolve()
        except OSError as exc:
            raise not_writable(self.index_dir, exc) from None
        with self._guard:
            held = self._held.get(key)
            if held is not None:
                if held[0] != threading.get_ident():
                    raise busy
                held[1] += 1
                return self
            # filelock takes an OS lock (flock on POSIX, msvcrt on Windows), released if the process dies.
            lock = FileLock(self.path, blocking=False, thread_local=False)
            try:
                lock.acquire()
            except Timeout:
                raise busy from None
            except OSError as exc:
                raise not_writable(self.index_dir, exc) from None
            self._held[key] = [threading.get_ident(), 1, lock]
        return self

    def __exit__(self, *exc):
        key = self.path.resolve()
        with self._guard:
            held = self._held[key]
            held[1] -= 1
            if held[1] == 0:
                del self._held[key]
                held[2].release()


def not_writable(index_dir: Path, exc: OSError | sqlite3.Error) -> IndexWriteError:
    return IndexWriteError(
        f"cannot write to the index folder {index_dir} ({getattr(exc, 'strerror', None) or exc}) — make it writable "
        f"and free space on its disk, or build into another folder: `askkhorasan build --index OTHER_FOLDER`"
    )


def write_generation(
    index_dir: str | Path,
    *,
    manifest: dict,
    faiss_index: faiss.Index,
    passages: Iterable[PassageRow],
    documents: Iterable[DocumentRow],
    sentence_vectors: np.ndarray | Iterable[np.ndarray],
    sentence_spans: np.ndarray,
    lexical,
) -> str:
    """Write a complete generation, then make it current. Returns its name.

    Passages, documents and sentence vectors may come as iterables (of rows, and of row blocks
    of vectors), written as they come; a passage's `chunk_id` is set to its row."""
    index_dir = Path(index_dir)
    name = f"g-{time.strftime('%Y%m%dT%H%M%S')}-{secrets.token_hex(3)}"
    tmp = index_dir / f".building-{name}"
    try:
        index_dir.mkdir(parents=True, exist_ok=True)
        tmp.mkdir()
    except OSError as exc:
        raise not_writable(index_dir, exc) from None
    try:
        faiss.write_index(faiss_index, str(tmp / "passages.faiss"))
        n_sentences = len(sentence_spans)
        owner = np.full(n_sentences, -1, dtype=np.int64)

        def own(row: int, p: PassageRow) -> None:
            span = owner[p["sent_lo"] : p["sent_hi"]]
            span[span < 0] = row

        write_passages(tmp / PASSAGES, passages, own)
        write_documents(tmp / DOCUMENTS, documents)
        parts = [sentence_vectors] if isinstance(sentence_vectors, np.ndarray) else sentence_vectors
        _save_vectors(tmp / "sentences.npy", parts, n_sentences, MODEL_DIMENSION)
        _save_array(tmp / "sentence_spans.npy", np.asarray(sentence_spans, dtype=np.int64).reshape(-1, 2))
        _save_array(tmp / "sentence_owner.npy", owner)
        lexical.save(tmp / LEXICAL)
        files = {}
        for path in sorted(p for p in tmp.rglob("*") if p.is_file()):
            files[path.relative_to(tmp).as_posix()] = {"bytes": path.stat().st_size, "sha256": sha256_file(path)}
        manifest = {**manifest, "format_version": FORMAT_VERSION, "generation": name, "files": files}
        _write_bytes(tmp / MANIFEST, json.dumps(manifest, indent=2, ensure_ascii=False).encode("utf-8"))
        _fsync_dir(tmp)
        final = index_dir / name
        os.rename(tmp, final)
        pointer_tmp = index_dir / f".{CURRENT}.{name}"
        _write_bytes(pointer_tmp, (name + "\n").encode())
        os.replace(pointer_tmp, index_dir / CURRENT)
        _fsync_dir(index_dir)
    except (OSError, sqlite3.OperationalError) as exc:  # SQLite reports a full disk as an OperationalError
        shutil.rmtree(tmp, ignore_errors=True)
        raise not_writable(index_dir, exc) from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _prune(index_dir, keep=name)
    return name


def _prune(index_dir: Path, keep: str) -> None:
    """Remove half-written generations and all but the newest few complete ones."""
    generations = sorted((p for p in index_dir.glob("g-*") if p.is_dir()), key=lambda p: p.name)
    for old in generations[:-KEEP_GENERATIONS]:
        if old.name != keep:
            shutil.rmtree(old, ignore_errors=True)
    for partial in index_dir.glob(".building-*"):
        shutil.rmtree(partial, ignore_errors=True)
    for pointer in index_dir.glob(f".{CURRENT}.*"):
        pointer.unlink(missing_ok=True)


def new_manifest(settings: Settings, sources: dict[str, str], counts: dict, faiss_index: faiss.Index | None,
                 faiss_type: str, index_parameters: dict | None = None) -> dict:
    """The manifest of a new generation; `versions` and `answer_models` record what built it and
    which model files answered from it then (provenance only: neither decides whether it loads).

    `faiss_index` is None for a store that searches its vectors itself (Milvus): `faiss_type` and
    `index_parameters` then say how that store's vector index searches."""
    parameters = faiss_parameters(faiss_index) if faiss_index is not None else {}
    return {
        "format_version": FORMAT_VERSION,
        "created_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "model": {"name": MODEL_NAME, "weights_sha256": MODEL_WEIGHTS_SHA256, "dimension": MODEL_DIMENSION},
        "settings": settings.to_dict(),
        "faiss": {"type": faiss_type, **parameters, **(index_parameters or {})},
        "counts": counts,
        "sources": sources,
        "versions": library_versions(*INDEX_LIBRARIES),
        "answer_models": model_files(),
    }


FLAT_LIMIT = 50_000  # exact search up to here (about 2.5 ms a query); IVF past it: bench/bench_scale.py
# IVF: 4·√n lists, each trained on up to 40 sample vectors (FAISS warns below 39), and 32 of them
# searched per query: on bench/bench_scale.py's vectors that keeps recall@10 at 1.000 for 100,000
# passages and 0.997 for 1,000,000, at under a millisecond a query.
IVF_LISTS_PER_SQRT_N = 4
IVF_TRAINING_PER_LIST = 40
IVF_NPROBE = 32


def choose_faiss_index(vectors: np.ndarray) -> tuple[faiss.Index, str]:
    """Exact inner product (cosine: the vectors are normalized) for a small corpus; IVF past FLAT_LIMIT."""
    return faiss_index_from_blocks(len(vectors), vectors.shape[1], lambda: iter([vectors]))


def faiss_index_from_blocks(
    n: int, dim: int, blocks: Callable[[], Iterator[np.ndarray]]
) -> tuple[faiss.Index, str]:
    """`choose_faiss_index` for vectors made a block at a time by `blocks()`, which is called once
    for the sample IVF trains on and once to add them: they are never all in memory besides
    FAISS's own copy."""
    index: faiss.Index
    if n <= FLAT_LIMIT:
        index = faiss.IndexFlatIP(dim)
        spec = "Flat"
    else:
        nlist = int(IVF_LISTS_PER_SQRT_N * np.sqrt(n))
        spec = f"IVF{nlist},Flat"
        index = faiss.index_factory(dim, spec, faiss.METRIC_INNER_PRODUCT)
        picked = np.random.default_rng(0).choice(n, min(n, IVF_TRAINING_PER_LIST * nlist), replace=False)
        sample = np.empty((len(picked), dim), dtype=np.float32)
        at = 0
        for block in blocks():
            inside = (picked >= at) & (picked < at + len(block))
            sample[inside] = block[picked[inside] - at]
            at += len(block)
        index.train(sample)
        del sample
        _reserve_lists(index, nlist, blocks)
    added = 0
    for block in blocks():
        if len(block):
            index.add(np.ascontiguousarray(block, dtype=np.float32))
            added += len(block)
    if added != n:
        raise ValueError(f"{added} vectors were made for an index of {n}")
    tune_faiss_index(index)
    return index, spec


def _reserve_lists(index: faiss.Index, nlist: int, blocks: Callable[[], Iterator[np.ndarray]]) -> None:
    """Give each IVF list the room its vectors will take before they are added. Added a block at
    a time, the lists grow by reallocation, and the freed old copies stayed in the C heap: a
    50 MB source's 128 MB of passage vectors took ~230 MB. Sizing a list up and back down keeps
    its capacity, so the adds that follow fill it in place; the file written is the same."""
    ivf = faiss.extract_index_ivf(index)
    invlists = faiss.downcast_InvertedLists(ivf.invlists) if ivf.invlists is not None else None
    if not isinstance(invlists, faiss.ArrayInvertedLists):
        return
    sizes = np.zeros(nlist, dtype=np.int64)
    for block in blocks():
        if len(block):
            _, lists = ivf.quantizer.search(np.ascontiguousarray(block, dtype=np.float32), 1)
            sizes += np.bincount(lists.ravel(), minlength=nlist)
    for list_no, size in enumerate(sizes.tolist()):
        invlists.resize(list_no, size)
        invlists.resize(list_no, 0)


def faiss_parameters(index: faiss.Index) -> dict:
    """How the FAISS index searches, for the manifest: what its file does not say plainly."""
    out = {"metric": "inner product" if index.metric_type == faiss.METRIC_INNER_PRODUCT else int(index.metric_type),
           "exact_up_to": FLAT_LIMIT}
    ivf = faiss.try_extract_index_ivf(index)
    if isinstance(ivf, faiss.IndexIVF):
        out |= {"nlist": int(ivf.nlist), "nprobe": int(ivf.nprobe),
                "training_vectors": min(int(index.ntotal), IVF_TRAINING_PER_LIST * int(ivf.nlist))}
    return out


def tune_faiss_index(index: faiss.Index) -> None:
    """Search-time settings, which FAISS does not store in its file."""
    if isinstance(faiss.try_extract_index_ivf(index), faiss.IndexIVF):
        ivf = faiss.extract_index_ivf(index)
        ivf.nprobe = IVF_NPROBE
        lists = faiss.downcast_InvertedLists(ivf.invlists) if ivf.invlists is not None else None
        if isinstance(lists, faiss.OnDiskInvertedLists):
            # Mapped lists (IO_FLAG_MMAP): FAISS would start 32 threads per query to touch the lists
            # first, which took a 1M-passage search from ~1.4 to ~10 ms here; the pages are read as scanned.
            lists.prefetch_nthread = 0
