"""An index in Milvus: the same generation as the index folder holds, as collections.

    <name>_<set>_p     passages: id, dense vector, BM25 terms -> sparse vector (Milvus's BM25
                       function), doc_hash, slot, born, the passage row as JSON, and its vector
                       and its sentences' vectors packed as base64 float32 (empty past PACK_LIMIT)
    <name>_<set>_s     sentences: id, vector, start, end, doc_hash, slot, born, text
    <name>_<set>_t     term -> passages holding it (BM25's and the answer stage's IDF), by generation
    <name>_<gen>_m     one generation's record: the manifest (id 0) and one row per document (id 1...)
    <name>             alias of the current generation's record

**Generations.** A full build (the first, `--force`, other settings, a damaged index) writes a
new set of collections and then moves the alias with `alter_alias`. A refresh writes only what
changed into the serving set, in place — the passages and sentences of new and changed sources
(changed content is new content: it has a new hash), nothing for removed ones — and then writes
a new record collection and moves the alias to it. The alias is the commit: the one atomic step
Milvus has (it has no transaction over many rows).

**Ids.** A source's passages and sentences live at its *slot*, a number the index gives each
content hash once: passage id = slot·2^24 + chunk number, sentence id = slot·2^24 + sentence
number. Unchanged content keeps its slot, so its rows keep their ids and are never rewritten;
a renamed source is a new documents row only (the rows hold no file name: a passage's `source`
and `chunk_id` — its place in corpus order, as the folder numbers it — come from the record's
documents row). Slots come from a counter in the manifest, not from the hash itself, so two
sources can never share ids.

**Why a refresh cannot damage the generation serving before it.** Every row carries `born`, the
generation that wrote it, and each record names its generation G and the slots it no longer
shows (`dead`: removed and changed content). Readers search with the filter `born <= G and slot
not in dead`, so they never see a row a refresh is writing, and rows they can see are neither
changed nor deleted while G serves: a refresh first deletes what the serving record already hides
(rows born after it — left by a build that died — and its dead slots, which only the generation
before it showed), then writes rows born G+1, then the new record, then moves the alias. Killed
at any step, the alias still names G's record, G's rows are all there, and the next refresh
deletes the dead build's rows before writing. Term counts are versioned the same way: a term's
row holds its count as of the serving generation and as of the one being written, and readers
take the newest no later than theirs (one row per term, so a question reads its terms by key).
A reader sees the state of its generation, whole, at any moment of a refresh: the kill tests
stop one after its first rows and after its last, and the answers are those of before.

The cost: removed rows stay one generation longer (until the next refresh), readers filter every
search, and Milvus's BM25 statistics count every row in the collection, hidden and deleted ones
too (measured: Milvus Lite 3.2.2 does not subtract deleted rows, compaction or not). So Milvus's
BM25 search only proposes candidates; their scores are computed here, as bm25s does, from the
record's passage and term counts and each passage's terms (which candidates Milvus proposes can
still differ from bm25s's best at the margin after many refreshes; `--force` makes its statistics
exact again). The vector index type is chosen by a full build: a refresh that grows the index past
FLAT_LIMIT keeps exact search until the next one. Two builds at once would delete each other's
rows, so a server build holds a lock (ServerBuildLock). The copy-on-write alternative — a new
set per refresh, unchanged rows copied into it — rewrites every row on every refresh (Milvus has
no server-side copy between collections), which is what the slots avoid.

Locations: `milvus-lite:PATH` (Milvus Lite, embedded in this process, PATH a `.db` file) and
`milvus://HOST:PORT[/NAME]` (a Milvus server; ASKKHORASAN_MILVUS_TOKEN, or
ASKKHORASAN_MILVUS_USER and ASKKHORASAN_MILVUS_PASSWORD, from the environment).
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
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

from . import lite_sidecars
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
SLOT_BITS = 24  # ids: slot << SLOT_BITS + chunk (or sentence) number
LAYOUT = 2  # the collections' layout, in the manifest: 2 is slots and born/dead generations
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
                lite_sidecars.install()
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


def record_name(name: str, stamp: str) -> str:
    return f"{name}_{stamp.replace('-', '_')}_m"


def data_names(name: str, stamp: str) -> dict[str, str]:
    base = f"{name}_{stamp.replace('-', '_')}"
    return {kind: f"{base}_{kind}" for kind in "pst"}


def passage_id(slot: int, chunk: int) -> int:
    return (slot << SLOT_BITS) + chunk


def slot_of(row_id: int) -> int:
    return row_id >> SLOT_BITS


def visible(manifest: dict) -> str:
    """The filter of the rows a generation shows (see the module's docstring)."""
    store = manifest["store"]
    dead = store.get("dead", [])
    return f"born <= {int(store['generation'])}" + (f" and slot not in {[int(x) for x in dead]}" if dead else "")


def current_collection(target: MilvusTarget) -> str:
    """The record collection the alias names now."""
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
    p.add_field("slot", DataType.INT64)
    p.add_field("born", DataType.INT64)
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
    s.add_field("slot", DataType.INT64)
    s.add_field("born", DataType.INT64)
    s.add_field("text", DataType.VARCHAR, max_length=65_535)
    t = c.create_schema(auto_id=False)
    t.add_field("term", DataType.VARCHAR, is_primary=True, max_length=64)
    t.add_field("versions", DataType.JSON)  # [[born, passages holding it], ...]: the serving one and newer
    t.add_field("top", DataType.INT64)  # the newest version's generation
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


@dataclass
class NewSource:
    """One new content's rows, to be written at its slot. Passage rows carry no `source` or
    `chunk_id` (the record's documents row gives them); `sent_lo`/`sent_hi` are sentence ids."""

    slot: int
    doc_hash: str
    passages: list[PassageRow]
    passage_vectors: np.ndarray
    packed: list[str]
    terms: list[list[str]]  # each passage's BM25 terms (term_key already applied)
    sentence_vectors: np.ndarray
    sentence_spans: np.ndarray
    sentence_texts: list[str]


@dataclass
class Written:
    """What a build wrote and deleted, in rows: the cost of a refresh."""

    passages: int = 0
    sentences: int = 0
    terms: int = 0
    records: int = 0  # the generation record: manifest and documents rows
    deleted: int = 0

    def as_dict(self) -> dict[str, int]:
        return dataclasses.asdict(self)


def _delete(c: Any, collection: str, expr: str) -> int:
    result = c.delete(collection, filter=expr)
    return int(result.get("delete_count", 0) if isinstance(result, dict) else len(result or []))


def _term_rows(c: Any, collection: str, keys: list[str]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for lo in range(0, len(keys), 1_000):  # by primary key: a lookup, not a scan
        chunk = keys[lo : lo + 1_000]
        rows.extend(c.query(collection, filter=f"term in {chunk}", output_fields=["term", "versions", "top"],
                            limit=len(chunk)))
    return rows


def _as_of(versions: list[list[int]], generation: int) -> list[int] | None:
    """The version of a term's count that `generation` reads: the newest born no later."""
    shown = [v for v in versions if v[0] <= generation]
    return max(shown) if shown else None


def term_counts(c: Any, collection: str, keys: list[str], generation: int) -> dict[str, int]:
    """Each term's passage count as generation `generation` shows it."""
    out = {}
    for r in _term_rows(c, collection, keys):
        version = _as_of(r["versions"], generation)
        if version is not None:
            out[r["term"]] = int(version[1])
    return out


def write_generation(target: MilvusTarget, *, manifest: dict, documents: list[MilvusDocumentRow],
                     new: list[NewSource], base: dict | None, removed: dict[int, int]) -> tuple[str, Written]:
    """Write a generation and point the alias at its record. `base` is the serving manifest to
    refresh in place (None: a full build into a new set of collections), `removed` the slots
    of its content this generation no longer shows, with their passage counts. Returns the record's name and the
    rows written."""
    c = client(target)
    stamp = f"g-{time.strftime('%Y%m%dT%H%M%S')}-{secrets.token_hex(3)}"
    record = record_name(target.name, stamp)
    lite = target.lite_path is not None
    written = Written()
    try:
        previous = current_collection(target)
    except IndexMissingError:
        previous = None
    if base is None:
        names = data_names(target.name, stamp)
        generation, tokens = 1, 0
        schemas = _schemas(c)
        rows = sum(len(n.passages) for n in new)
        for kind, coll in names.items():
            # Strong: a build reads back what it has just written, and a reader what the alias now shows
            c.create_collection(coll, schema=schemas[kind], consistency_level="Strong")
            # sync=False: pymilvus would otherwise poll each index every 0.5 s (through an RPC Milvus
            # Lite lacks); load_collection below waits for them all at once.
            c.create_index(coll, _index_params(c, kind, rows if kind == "p" else 0, lite), sync=False)
        for coll in names.values():
            c.load_collection(coll)
    else:
        store = base["store"]
        names = {k: store["collections"][k] for k in "pst"}
        serving = int(store["generation"])
        generation, tokens = serving + 1, int(store["tokens"])
        # What the serving record already hides: rows of a build that died, and content that only
        # the generation before it showed. Nothing the serving generation shows is touched.
        hidden = f"born > {serving}" + (f" or slot in {[int(x) for x in store.get('dead', [])]}"
                                        if store.get("dead") else "")
        for kind in "ps":
            written.deleted += _delete(c, names[kind], hidden)
        left = c.query(names["t"], filter=f"top > {serving}", output_fields=["term", "versions", "top"], limit=16_384)
        while left:  # term counts a dead build wrote: back to the serving generation's
            c.upsert(names["t"], [{"term": r["term"], "versions": [v for v in r["versions"] if v[0] <= serving],
                                   "top": serving, "vec": [0.0, 0.0]} for r in left])
            written.terms += len(left)
            left = c.query(names["t"], filter=f"top > {serving}", output_fields=["term", "versions", "top"], limit=16_384)

    # term counts: + the new content's passages, - the removed content's
    delta: dict[str, int] = {}
    for n in new:
        for toks in n.terms:
            for t in set(toks):
                delta[t] = delta.get(t, 0) + 1
            tokens += len(toks)
    for slot, count in removed.items():
        for r in id_range(c, names["p"], passage_id(slot, 0), passage_id(slot, count), ["id", "terms"]):
            toks = r["terms"].split()
            tokens -= len(toks)
            for t in set(toks):
                delta[t] = delta.get(t, 0) - 1

    pending: dict[str, list[dict[str, Any]]] = {"p": [], "s": []}

    def send(kind: str, at_least: int) -> None:  # upserts of BATCH rows, however small the sources
        if len(pending[kind]) >= at_least:
            c.upsert(names[kind], pending[kind])
            pending[kind] = []

    for n in new:
        for i, passage in enumerate(n.passages):
            pending["p"].append({"id": passage_id(n.slot, i), "vec": n.passage_vectors[i].tolist(),
                              "terms": " ".join(n.terms[i]), "doc_hash": n.doc_hash, "slot": n.slot,
                              "born": generation, "row": passage, "packed": n.packed[i]})
            send("p", BATCH)
        for j, (start, end) in enumerate(n.sentence_spans):
            pending["s"].append({"id": passage_id(n.slot, j), "vec": n.sentence_vectors[j].tolist(), "start": int(start),
                              "end": int(end), "doc_hash": n.doc_hash, "slot": n.slot, "born": generation,
                              "text": n.sentence_texts[j]})
            send("s", BATCH)
        written.passages += len(n.passages)
        written.sentences += len(n.sentence_spans)
    send("p", 1)
    send("s", 1)

    changed = [t for t, d in delta.items() if d]
    # each changed term's row: the version the serving generation reads, and this generation's
    # (older ones only the generations before it read)
    kept = {r["term"]: _as_of(r["versions"], generation - 1) for r in (_term_rows(c, names["t"], changed) if base else [])}
    items = []
    for t in changed:
        serving_version = kept.get(t)
        df = (serving_version[1] if serving_version else 0) + delta[t]
        items.append({"term": t, "versions": ([serving_version] if serving_version else []) + [[generation, df]],
                      "top": generation, "vec": [0.0, 0.0]})
    for lo in range(0, len(items), 10 * BATCH):
        c.upsert(names["t"], items[lo : lo + 10 * BATCH])
    written.terms += len(items)

    written.records = 1 + len(documents)
    manifest = {**manifest, "format_version": FORMAT_VERSION, "generation": stamp,
                "store": {"kind": "milvus", "layout": LAYOUT, "collections": {**names, "m": record},
                          "generation": generation, "tokens": tokens, "dead": sorted(removed),
                          "next_slot": max([n.slot + 1 for n in new] + [int(base["store"]["next_slot"]) if base else 0]),
                          "written": written.as_dict()}}
    c.create_collection(record, schema=_schemas(c)["m"], consistency_level="Strong")
    c.create_index(record, _index_params(c, "m", 0, lite), sync=False)
    c.insert(record, [{"id": 0, "data": manifest, "vec": [0.0, 0.0]}]
             + [{"id": i + 1, "data": d, "vec": [0.0, 0.0]} for i, d in enumerate(documents)])
    for coll in [*names.values(), record]:
        c.flush(coll)
    c.load_collection(record)
    # Everything is written and loaded: only now does the alias move.
    if previous is None:
        c.create_alias(record, target.name)
    else:
        c.alter_alias(record, target.name)
    keep = {record, *names.values()}
    if previous is not None:
        keep |= _collections_of(target, previous)
    _prune(target, keep)
    return stamp, written


def _collections_of(target: MilvusTarget, record: str) -> set[str]:
    """The collections a record names (just itself if it cannot be read)."""
    try:
        manifest, _ = read_meta(target, record, check=False)
        return {record, *manifest["store"]["collections"].values()}
    except Exception:
        return {record}


def _prune(target: MilvusTarget, keep: set[str]) -> None:
    """Drop every collection of this index but the current generation's and the previous one's
    (readers may still be on it), half-written ones from dead builds included."""
    c = client(target)
    pattern = re.compile(rf"{re.escape(target.name)}_g_\w+_[pstm]")
    for coll in c.list_collections():
        if pattern.fullmatch(coll) and coll not in keep:
            try:
                c.drop_collection(coll)
            except Exception as exc:  # another process may be dropping it too
                log.warning("could not drop %s: %s", coll, exc)


# ---------------------------------------------------------------- reading


def read_meta(target: MilvusTarget, record: str | None = None,
              check: bool = True) -> tuple[dict, list[MilvusDocumentRow]]:
    """The manifest and documents of the current generation (or of the record given); with
    `check`, also that the collections it names are there and loaded."""
    record = record or current_collection(target)
    c = client(target)
    try:
        if c.get_load_state(record)["state"].name != "Loaded":  # Milvus Lite forgets loads when reopened
            c.load_collection(record)
        rows = list(c.query(record, filter="id == 0", output_fields=["id", "data"], limit=1))
        manifest = rows[0]["data"] if rows else None
        sources = int(manifest["counts"]["sources"]) if isinstance(manifest, dict) else 0
        rows += id_range(c, record, 1, 1 + sources, ["id", "data"])
        store = manifest.get("store", {}) if isinstance(manifest, dict) else {}
        if check and store.get("layout") == LAYOUT:
            for kind in "pst":
                if c.get_load_state(store["collections"][kind])["state"].name != "Loaded":
                    c.load_collection(store["collections"][kind])
    except Exception as exc:
        raise IndexCorruptError(f"cannot read the manifest of {target} ({record}: {exc}) — {target.rebuild_hint()}") from None
    if not isinstance(manifest, dict) or len(rows) != 1 + sources:
        raise IndexCorruptError(f"{record} holds no complete manifest — {target.rebuild_hint()}")
    version = manifest.get("format_version")
    if version != FORMAT_VERSION or store.get("layout") != LAYOUT:
        raise IndexIncompatibleError(
            f"the index at {target} has format {version} (Milvus layout {store.get('layout', 1)}), this askkhorasan "
            f"reads {FORMAT_VERSION} (layout {LAYOUT}) — {target.rebuild_hint()}"
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
        return ServerBuildLock(target)
    return BuildLock(target.lite_path.with_name(f".{target.lite_path.name}.build"))


class ServerBuildLock:
    """One build at a time into a Milvus server, across machines: a refresh writes into the
    serving collections, and two at once would delete each other's rows. The lock is an alias
    (`<name>_building`), since creating one that exists fails in Milvus, atomically; re-entrant
    in the thread that holds it, like the folder's BuildLock. A build killed while holding it
    leaves it behind: the error names it, to drop once no build runs."""

    _held: dict[tuple[str, str], list] = {}  # (uri, name) -> [owning thread, depth]
    _guard = threading.Lock()

    def __init__(self, target: MilvusTarget):
        self.target = target
        self.alias = f"{target.name}_building"
        self.key = (target.uri, target.name)

    def __enter__(self):
        busy = AskKhorasanError(
            f"another build is writing into {self.target}, or one died while writing — wait for it to finish; "
            f"if none runs, drop the alias {self.alias} (deploy/README.md) and build again"
        )
        with self._guard:
            held = self._held.get(self.key)
            if held is not None:
                if held[0] != threading.get_ident():
                    raise busy
                held[1] += 1
                return self
            c = client(self.target)
            lock = f"{self.target.name}_lock"
            if not c.has_collection(lock):
                with contextlib.suppress(Exception):  # another build may be creating it too
                    c.create_collection(lock, dimension=2)
            try:
                c.create_alias(lock, self.alias)
            except Exception:
                raise busy from None
            self._held[self.key] = [threading.get_ident(), 1]
        return self

    def __exit__(self, *exc):
        with self._guard:
            held = self._held[self.key]
            held[1] -= 1
            if held[1] == 0:
                del self._held[self.key]
                client(self.target).drop_alias(self.alias)
        return False
