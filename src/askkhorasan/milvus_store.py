"""An index in Milvus: the same generation as the index folder holds, as collections.

    <name>_<generation>_p   passages: id, dense vector, BM25 terms -> sparse vector (Milvus's BM25
                            function), doc_hash, the passage row as JSON, and its vector and its
                            sentences' vectors packed as base64 float32 (empty past PACK_LIMIT)
    <name>_<generation>_s   sentences: id (global sentence number), vector, start, end, doc_hash, text
    <name>_<generation>_t   term -> number of passages holding it (the answer stage's IDF)
    <name>_<generation>_m   the manifest (id 0) and one row per document (id 1...)
    <name>                  alias of the current generation's passages collection

A build writes every collection of a new generation, then moves the alias with `alter_alias`:
a build that dies leaves the previous generation serving, like CURRENT in a folder.

Locations: `milvus-lite:PATH` (Milvus Lite, embedded in this process, PATH a `.db` file) and
`milvus://HOST:PORT[/NAME]` (a Milvus server; ASKKHORASAN_MILVUS_TOKEN, or
ASKKHORASAN_MILVUS_USER and ASKKHORASAN_MILVUS_PASSWORD, from the environment).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import logging
import os
import re
import secrets
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .errors import AskKhorasanError, IndexCorruptError, IndexIncompatibleError, IndexMissingError
from .settings import FORMAT_VERSION
from .types import MilvusDocumentRow, PassageRow

log = logging.getLogger(__name__)

LITE = "milvus-lite:"
SERVER = "milvus://"
DIM = 384
BATCH = 2_000  # rows per insert: well under Milvus's 64 MB message limit at 384 floats a row
FLAT_LIMIT = 50_000  # exact search up to here, like the folder's FAISS index; IVF past it
NPROBE = 32  # IVF lists searched per query
BM25_PARAMS = {"bm25_k1": 1.5, "bm25_b": 0.75}  # bm25s's defaults, so both stores rank alike
PACK_LIMIT = 30  # sentences whose vectors fit one VARCHAR (65,535 bytes) beside the passage's, in base64
_PLAIN_TERM = re.compile(r"[a-z0-9]{1,40}")


class MilvusUnavailableError(AskKhorasanError):
    pass


@dataclass(frozen=True)
class MilvusTarget:
    """Where a Milvus index lives, parsed from an index location."""

    location: str  # as the user wrote it, for messages
    uri: str  # what MilvusClient is given
    name: str  # the alias; collection names start with it
    lite_path: Path | None = None

    def __str__(self) -> str:
        return self.location

    def rebuild_hint(self) -> str:
        return f"run `askkhorasan build --index {self.location}` to rebuild it"


def milvus_target(index_dir: str | Path | MilvusTarget) -> MilvusTarget | None:
    """The Milvus location `index_dir` names, or None for an index folder."""
    if isinstance(index_dir, MilvusTarget):
        return index_dir
    if not isinstance(index_dir, str):
        return None
    if index_dir.startswith(LITE):
        path = Path(index_dir[len(LITE):]).expanduser()
        if path.suffix != ".db":
            raise AskKhorasanError(f"{index_dir}: a Milvus Lite index is a file ending in .db — e.g. milvus-lite:index.db")
        return MilvusTarget(index_dir, str(path.resolve()), "askkhorasan", path.resolve())
    if index_dir.startswith(SERVER):
        m = re.fullmatch(r"milvus://([^/:@]+):(\d+)(?:/([A-Za-z_][A-Za-z0-9_]{0,100}))?/?", index_dir)
        if not m:
            raise AskKhorasanError(
                f"{index_dir!r} is not a Milvus address — write milvus://HOST:PORT or milvus://HOST:PORT/NAME "
                "(credentials go in ASKKHORASAN_MILVUS_TOKEN, never in the address)"
            )
        host, port, name = m.groups()
        return MilvusTarget(index_dir, f"http://{host}:{port}", name or "askkhorasan")
    return None


def is_milvus(index_dir: str | Path | MilvusTarget) -> bool:
    return milvus_target(index_dir) is not None


_clients: dict[str, Any] = {}  # pymilvus.MilvusClient by address
_clients_lock = threading.Lock()


def client(target: MilvusTarget, create: bool = True) -> Any:
    """One MilvusClient per address for the process (Milvus Lite serves a file to one process);
    a Milvus Lite file is made only by a build (`create`)."""
    if not create and target.lite_path is not None and not target.lite_path.exists():
        raise IndexMissingError(f"no index at {target} — run `askkhorasan build --index {target}`")
    try:
        from pymilvus import MilvusClient
    except ImportError:
        raise MilvusUnavailableError(
            f"{target}: Milvus support is not installed — `pip install 'askkhorasan[milvus]'`"
        ) from None
    with _clients_lock:
        c = _clients.get(target.uri)
        if c is None:
            kwargs: dict[str, str] = {}
            if target.lite_path is None:
                token = os.environ.get("ASKKHORASAN_MILVUS_TOKEN")
                user = os.environ.get("ASKKHORASAN_MILVUS_USER")
                if token:
                    kwargs["token"] = token
                elif user:
                    kwargs.update(user=user, password=os.environ.get("ASKKHORASAN_MILVUS_PASSWORD", ""))
            else:
                target.lite_path.parent.mkdir(parents=True, exist_ok=True)
            try:
                c = MilvusClient(uri=target.uri, **kwargs)
            except Exception as exc:  # pymilvus raises its own and grpc's errors
                raise MilvusUnavailableError(
                    f"cannot open the Milvus index {target}: {exc} — check that the server runs (deploy/README.md) "
                    "or that no other process has the Milvus Lite file open"
                ) from None
            _clients[target.uri] = c
        return c


def release(target: MilvusTarget | str) -> None:
    """Close this process's client of `target`, so that another process can open a Milvus Lite file."""
    parsed = milvus_target(target)
    if parsed is None:
        raise AskKhorasanError(f"{target} is not a Milvus location (milvus-lite:FILE.db or milvus://HOST:PORT)")
    with _clients_lock:
        c = _clients.pop(parsed.uri, None)
    if c is not None:
        c.close()
    if parsed.lite_path is not None:  # closing the client leaves Milvus Lite's in-process server holding the file
        from milvus_lite.server_manager import server_manager_instance

        server_manager_instance.release_server(str(parsed.lite_path))


def term_key(term: str) -> str:
    """A BM25 term as one word for Milvus's standard tokenizer, which splits some Unicode
    words that bm25s keeps whole: plain ASCII terms stay readable, others become a hash."""
    if _PLAIN_TERM.fullmatch(term):
        return term
    return "u" + hashlib.blake2b(term.encode("utf-8"), digest_size=8).hexdigest()


def collections(name: str, generation: str) -> dict[str, str]:
    base = f"{name}_{generation.replace('-', '_')}"
    return {kind: f"{base}_{kind}" for kind in "pstm"}


def current_collection(target: MilvusTarget) -> str:
    """The passages collection the alias names now."""
    c = client(target, create=False)
    if target.name not in c.list_aliases().get("aliases", []):
        raise IndexMissingError(f"no index at {target} — run `askkhorasan build --index {target}`")
    return c.describe_alias(target.name)["collection_name"]


# ---------------------------------------------------------------- writing


def _schemas(c):
    from pymilvus import DataType, Function, FunctionType

    p = c.create_schema(auto_id=False)
    p.add_field("id", DataType.INT64, is_primary=True)
    p.add_field("vec", DataType.FLOAT_VECTOR, dim=DIM)
    p.add_field("terms", DataType.VARCHAR, max_length=65_535, enable_analyzer=True,
                analyzer_params={"tokenizer": "standard"})
    p.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
    p.add_field("doc_hash", DataType.VARCHAR, max_length=64)
    p.add_field("row", DataType.JSON)
    p.add_field("packed", DataType.VARCHAR, max_length=65_535)
    p.add_function(Function(name="bm25", function_type=FunctionType.BM25,
                            input_field_names=["terms"], output_field_names=["sparse"]))
    s = c.create_schema(auto_id=False)
    s.add_field("id", DataType.INT64, is_primary=True)
    s.add_field("vec", DataType.FLOAT_VECTOR, dim=DIM)
    s.add_field("start", DataType.INT64)
    s.add_field("end", DataType.INT64)
    s.add_field("doc_hash", DataType.VARCHAR, max_length=64)
    s.add_field("text", DataType.VARCHAR, max_length=65_535)
    t = c.create_schema(auto_id=False)
    t.add_field("term", DataType.VARCHAR, is_primary=True, max_length=64)
    t.add_field("df", DataType.INT64)
    t.add_field("vec", DataType.FLOAT_VECTOR, dim=2)  # Milvus wants a vector field in every collection
    m = c.create_schema(auto_id=False)
    m.add_field("id", DataType.INT64, is_primary=True)
    m.add_field("data", DataType.JSON)
    m.add_field("vec", DataType.FLOAT_VECTOR, dim=2)
    return {"p": p, "s": s, "t": t, "m": m}


def dense_index(rows: int, lite: bool) -> tuple[str, dict[str, int]]:
    """The passages' vector index, as Milvus is asked to build it: its type and parameters."""
    if rows <= FLAT_LIMIT:
        return "FLAT", {}
    if lite:
        return "IVF_FLAT", {"nlist": int(4 * np.sqrt(rows))}
    return "HNSW", {"M": 16, "efConstruction": 200}


def dense_index_record(rows: int, lite: bool) -> tuple[str, dict[str, Any]]:
    """The passages' vector index for the manifest (`faiss` there, as for the folder's FAISS index)."""
    index_type, params = dense_index(rows, lite)
    return f"milvus {index_type}", {"metric": "inner product", "exact_up_to": FLAT_LIMIT, **params,
                                    **({"nprobe": NPROBE} if index_type == "IVF_FLAT" else {})}


def _index_params(c, kind: str, rows: int, lite: bool):
    ip = c.prepare_index_params()
    if kind == "p":
        index_type, params = dense_index(rows, lite)
        if params:
            ip.add_index("vec", index_type=index_type, metric_type="IP", params=params)
        else:
            ip.add_index("vec", index_type=index_type, metric_type="IP")
        ip.add_index("sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25", params=BM25_PARAMS)
    elif kind == "s":
        ip.add_index("vec", index_type="FLAT", metric_type="IP")  # read by id only
    else:
        ip.add_index("vec", index_type="FLAT", metric_type="L2")
    return ip


def pack(passage_vector: np.ndarray, sentence_vectors: np.ndarray) -> str:
    """A passage's vector and its sentences', in one string: retrieval scores a hundred passages
    by their best sentence, and one field read per passage is what keeps that fast (reading
    sentence rows costs about 0.1 ms each in Milvus Lite)."""
    if len(sentence_vectors) > PACK_LIMIT:
        return ""
    arr = np.vstack([passage_vector[None, :], sentence_vectors]).astype("<f4")
    return base64.b64encode(arr.tobytes()).decode("ascii")


def unpack(packed: str) -> np.ndarray:
    return np.frombuffer(base64.b64decode(packed), dtype="<f4").reshape(-1, DIM)


def write_generation(target: MilvusTarget, *, manifest: dict, passages: list[PassageRow], passage_vectors: np.ndarray,
                     packed: list[str],
                     terms: list[list[str]], documents: list[MilvusDocumentRow], sentence_vectors: list[np.ndarray],
                     sentence_spans: np.ndarray, sentence_docs: list[str], sentence_texts: list[str]) -> str:
    """Write a complete generation into new collections, then point the alias at it. Returns its name."""
    c = client(target)
    name = f"g-{time.strftime('%Y%m%dT%H%M%S')}-{secrets.token_hex(3)}"
    names = collections(target.name, name)
    schemas = _schemas(c)
    try:
        previous = current_collection(target)
    except IndexMissingError:
        previous = None
    lite = target.lite_path is not None
    sizes = {"p": len(passages), "s": len(sentence_spans), "t": 0, "m": 0}
    for kind, coll in names.items():
        c.create_collection(coll, schema=schemas[kind])
        # sync=False: pymilvus would otherwise poll each index every 0.5 s (through an RPC Milvus
        # Lite lacks); load_collection below waits for them all at once.
        c.create_index(coll, _index_params(c, kind, sizes[kind], lite), sync=False)

    df: dict[str, int] = {}
    for toks in terms:
        for t in set(toks):
            df[t] = df.get(t, 0) + 1
    for lo in range(0, len(passages), BATCH):
        c.insert(names["p"], [
            {"id": i, "vec": passage_vectors[i].tolist(), "terms": " ".join(term_key(t) for t in terms[i]),
             "doc_hash": passages[i]["doc_hash"], "row": passages[i], "packed": packed[i]}
            for i in range(lo, min(lo + BATCH, len(passages)))
        ])
    sid = 0
    batch: list[dict] = []
    for part in sentence_vectors:
        for vec in part:
            start, end = sentence_spans[sid]
            batch.append({"id": sid, "vec": vec.tolist(), "start": int(start), "end": int(end),
                          "doc_hash": sentence_docs[sid], "text": sentence_texts[sid]})
            sid += 1
            if len(batch) >= BATCH:
                c.insert(names["s"], batch)
                batch = []
    if batch:
        c.insert(names["s"], batch)
    keys: dict[str, int] = {}
    for t, n in df.items():  # two terms under one key: their counts add, like one term
        keys[term_key(t)] = keys.get(term_key(t), 0) + n
    items = list(keys.items())
    for lo in range(0, len(items), 10 * BATCH):
        c.insert(names["t"], [{"term": t, "df": n, "vec": [0.0, 0.0]} for t, n in items[lo : lo + 10 * BATCH]])
    manifest = {**manifest, "format_version": FORMAT_VERSION, "generation": name,
                "store": {"kind": "milvus", "collections": names}}
    c.insert(names["m"], [{"id": 0, "data": manifest, "vec": [0.0, 0.0]}]
             + [{"id": i + 1, "data": d, "vec": [0.0, 0.0]} for i, d in enumerate(documents)])
    for coll in names.values():
        c.flush(coll)
        c.load_collection(coll)
    # Everything is written and loaded: only now does the alias move.
    if previous is None:
        c.create_alias(names["p"], target.name)
    else:
        c.alter_alias(names["p"], target.name)
    _prune(target, keep={names["p"], previous})
    return name


def _prune(target: MilvusTarget, keep: set[str | None]) -> None:
    """Drop the collections of every generation but the current one and the one before it
    (readers may still be on it), half-written ones from dead builds included."""
    c = client(target)
    keep_bases = {k[:-2] for k in keep if k}
    pattern = re.compile(rf"{re.escape(target.name)}_g_\w+_[pstm]")
    for coll in c.list_collections():
        if pattern.fullmatch(coll) and coll[:-2] not in keep_bases:
            try:
                c.drop_collection(coll)
            except Exception as exc:  # another process may be dropping it too
                log.warning("could not drop %s: %s", coll, exc)


# ---------------------------------------------------------------- reading


def read_meta(target: MilvusTarget, passages_collection: str | None = None) -> tuple[dict, list[MilvusDocumentRow]]:
    """The manifest and documents of the current generation (or of the one given)."""
    coll = passages_collection or current_collection(target)
    c = client(target)
    meta = coll[:-2] + "_m"
    try:
        for kind in "pstm":  # Milvus Lite forgets what was loaded when its file is reopened
            if c.get_load_state(coll[:-2] + "_" + kind)["state"].name != "Loaded":
                c.load_collection(coll[:-2] + "_" + kind)
        rows = list(c.query(meta, filter="id == 0", output_fields=["id", "data"], limit=1))
        manifest = rows[0]["data"] if rows else None
        sources = int(manifest["counts"]["sources"]) if isinstance(manifest, dict) else 0
        rows += id_range(c, meta, 1, 1 + sources, ["id", "data"])
    except Exception as exc:
        raise IndexCorruptError(f"cannot read the manifest of {target} ({meta}: {exc}) — {target.rebuild_hint()}") from None
    if not isinstance(manifest, dict) or len(rows) != 1 + sources:
        raise IndexCorruptError(f"{meta} holds no complete manifest — {target.rebuild_hint()}")
    version = manifest.get("format_version")
    if version != FORMAT_VERSION:
        raise IndexIncompatibleError(
            f"the index at {target} has format {version}, this askkhorasan reads {FORMAT_VERSION} — {target.rebuild_hint()}"
        )
    return manifest, [r["data"] for r in rows[1:]]


def id_range(c: Any, collection: str, lo: int, hi: int, fields: list[str]) -> list[dict[str, Any]]:
    """Rows with ids lo <= id < hi, in id order, read in pages by primary key (fast in Milvus
    Lite, where a filter on any other field scans the collection)."""
    out: list[dict[str, Any]] = []
    for a in range(lo, hi, 10_000):
        b = min(hi, a + 10_000)
        out.extend(c.query(collection, filter=f"id >= {a} and id < {b}", output_fields=fields, limit=b - a))
    out.sort(key=lambda r: r["id"])
    return out


def fetch(c: Any, collection: str, ids: list[int], fields: list[str]) -> list[dict[str, Any]]:
    if not ids:
        return []
    rows: list[dict[str, Any]] = []
    for lo in range(0, len(ids), 10_000):
        chunk = ids[lo : lo + 10_000]
        rows.extend(c.query(collection, filter=f"id in {list(map(int, chunk))}", output_fields=fields, limit=len(chunk)))
    return rows


def document_rows(target: MilvusTarget, collection: str,
                  document: MilvusDocumentRow) -> tuple[list[PassageRow], np.ndarray, np.ndarray]:
    """A source's passages (in id order), its sentence vectors and spans, from a generation."""
    c = client(target)
    first, count = document["first_passage"], document["passages"]
    passages: list[PassageRow] = [r["row"] for r in id_range(c, collection, first, first + count, ["id", "row"])]
    if len(passages) != count:
        raise IndexCorruptError(f"{collection} lacks passages of {document['source']} — {target.rebuild_hint()}")
    lo = min(p["sent_lo"] for p in passages)
    hi = max(p["sent_hi"] for p in passages)
    sents = id_range(c, collection[:-2] + "_s", lo, hi, ["id", "vec", "start", "end"])
    if len(sents) != hi - lo:
        raise IndexCorruptError(f"{collection[:-2]}_s lacks sentences of {document['source']} — {target.rebuild_hint()}")
    vectors = np.array([s["vec"] for s in sents], dtype=np.float32).reshape(-1, DIM)
    spans = np.array([(s["start"], s["end"]) for s in sents], dtype=np.int64).reshape(-1, 2)
    return passages, vectors, spans


def location(index_dir: str | Path) -> str | Path:
    """`index_dir` as the faces pass it on: a Milvus location kept as written, a folder as a Path."""
    return index_dir if is_milvus(index_dir) else Path(index_dir)


def build_lock(index_dir: str | Path | MilvusTarget) -> contextlib.AbstractContextManager[Any]:
    """The lock one build at a time holds, for a folder or a Milvus location."""
    from .store import BuildLock

    if isinstance(index_dir, MilvusTarget):
        target = index_dir
    else:
        parsed = milvus_target(index_dir)
        if parsed is None:
            return BuildLock(Path(index_dir))
        target = parsed
    if target.lite_path is None:
        # A server has no folder to lock: builds into one index are serialized by whoever runs them.
        return contextlib.nullcontext()
    return BuildLock(target.lite_path.with_name(f".{target.lite_path.name}.build"))
