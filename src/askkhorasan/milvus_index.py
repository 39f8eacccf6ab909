"""Search and ask over an index in Milvus, with the folder index's scores and answer stage.

Nothing that grows with the corpus is held in memory: each question reads from Milvus the
passages its dense and BM25 searches find, and the sentence vectors of those passages by id.
Those rows make a small generation of their own, over which the answer stage runs unchanged,
so both stores give the same passages and the same answers."""

from __future__ import annotations

import functools
import logging
import math
import threading
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from . import milvus_store
from .answer import TOP_PASSAGES, Candidate, SentenceTable, score_candidates
from .answer_model import AnswerModel
from .answering import BaseIndex
from .embed import Embedder, passage_vectors, shared_embedder
from .errors import AskKhorasanError
from .lexical import question_terms
from .milvus_store import MilvusTarget, fetch, term_key, unpack
from .retrieve import Hit, fuse, to_passage
from .settings import DEFAULT_SETTINGS, Settings
from .store import Generation
from .types import MilvusDocumentRow, Passage, PassageRow

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Loaded:
    collection: str  # the record collection the alias named when loaded
    manifest: dict
    documents: list[MilvusDocumentRow]

    @property
    def names(self) -> dict[str, str]:
        return self.manifest["store"]["collections"]

    @property
    def passages(self) -> int:
        return int(self.manifest["counts"]["passages"])

    @property
    def generation_number(self) -> int:
        return int(self.manifest["store"]["generation"])

    @functools.cached_property
    def visible(self) -> str:
        return milvus_store.visible(self.manifest)

    @functools.cached_property
    def by_slot(self) -> dict[int, MilvusDocumentRow]:
        return {int(d["slot"]): d for d in self.documents}

    def row(self, row_id: int, stored: PassageRow) -> PassageRow:
        """A stored passage row with its source and its place in corpus order (chunk_id), which
        the generation's documents row gives."""
        doc = self.by_slot[milvus_store.slot_of(row_id)]
        out = stored.copy()
        out["source"] = doc["source"]
        out["chunk_id"] = doc["first_passage"] + row_id - milvus_store.passage_id(int(doc["slot"]), 0)
        return out


class _QueryTable(SentenceTable):
    """The SentenceTable of one question's rows: sentence texts as stored, IDF of its terms only."""

    def __init__(self, owner: np.ndarray, texts: list[str], idf: dict[str, float], default_idf: float):
        self.owner = owner
        self.texts = texts
        self.idf = idf
        self.default_idf = default_idf
        self._sentence_tokens: dict[int, list[str]] = {}
        self._passage_terms: dict[int, frozenset[str]] = {}

    def text(self, gen: Generation, sentence: int) -> str:
        return self.texts[sentence]


class MilvusIndex(BaseIndex):
    """An index in a Milvus location (what `Index(location)` gives for one). Thread-safe; follows
    the alias when a build moves it."""

    def __init__(self, target: MilvusTarget | str, embedder: Embedder | None = None,
                 settings: Settings | None = None, answer_model: AnswerModel | None = None):
        parsed = milvus_store.milvus_target(target)
        if parsed is None:
            raise AskKhorasanError(f"{target} is not a Milvus location (milvus-lite:FILE.db or milvus://HOST:PORT)")
        self.target = parsed
        self.index_dir = parsed
        self.settings = settings or DEFAULT_SETTINGS
        self._lock = threading.Lock()
        state = self._read(milvus_store.current_collection(parsed))  # before the model: a missing index is reported at once
        self._client = milvus_store.client(parsed)
        self.embedder = embedder or shared_embedder()
        self._check(state)
        self._snapshot = state
        self._answer_model = answer_model
        self._selection = None
        self._df_cache: dict[tuple[str, tuple[str, ...]], dict[str, int]] = {}

    def _read(self, collection: str) -> _Loaded:
        manifest, documents = milvus_store.read_meta(self.target, collection)
        return _Loaded(collection, manifest, documents)

    def _check(self, state: _Loaded) -> None:
        self._check_vectors(state.manifest.get("embedding"))

    def _loaded(self) -> _Loaded:
        """The loaded generation, reloaded first if a build has moved the alias since."""
        state = self._snapshot
        try:
            latest = milvus_store.current_collection(self.target)
        except Exception:  # the alias being moved right now: keep serving what is loaded
            return state
        if latest != state.collection:
            with self._lock:
                if latest != self._snapshot.collection:
                    log.info("index %s changed; loading %s", self.target, latest)
                    state = self._read(latest)
                    self._check(state)
                    self._snapshot = state
                state = self._snapshot
        return state

    @property
    def generation(self) -> Generation:
        state = self._loaded()
        return _generation(state, [], np.zeros((0, milvus_store.DIM), np.float32), np.zeros((0, 2), np.int64))

    @property
    def documents(self) -> list[MilvusDocumentRow]:
        return self._loaded().documents

    @property
    def manifest(self) -> dict:
        return self._loaded().manifest

    def source_passages(self, source: str) -> list[PassageRow]:
        """The passages of one source (the source viewer's section and page)."""
        state = self._loaded()
        doc = next((d for d in state.documents if d["source"] == source), None)
        if doc is None:
            return []
        first = milvus_store.passage_id(int(doc["slot"]), 0)
        rows = milvus_store.id_range(self._client, state.names["p"], first, first + doc["passages"], ["id", "row"])
        return [state.row(int(r["id"]), r["row"]) for r in rows]

    def search(self, query: str, k: int = 5) -> list[Passage]:
        query, _ = self._question(query)
        vector = self.embedder.encode_query(query)
        hits, rows = self._hits(self._loaded(), vector, query, max(1, int(k)))
        return [to_passage(rows[h.row], h.score) for h in hits]

    def candidates(self, question: str, k: int = 5) -> tuple[Generation, SentenceTable, list[Hit], list[Candidate]]:
        vector = self.embedder.encode_query(question)
        state = self._loaded()
        hits, rows = self._hits(state, vector, question, max(k, TOP_PASSAGES))
        gen, table, hits = self._rows(state, [(h, rows[h.row]) for h in hits], list(question_terms(question)))
        return gen, table, hits, score_candidates(gen, table, question, vector, hits)

    # ------------------------------------------------------------ retrieval

    def _hits(self, state: _Loaded, vector: np.ndarray, query: str, k: int) -> tuple[list[Hit], dict[int, PassageRow]]:
        """retrieve.hybrid_search with Milvus doing the dense and BM25 searches: the best `k`
        passages (Hit.row the passage id) and the rows of the passages scored. Milvus's BM25
        search proposes the candidates; their BM25 scores are computed here from the
        generation's counts (Milvus's own count rows this generation does not show)."""
        c, names, n = self._client, state.names, state.passages
        if n == 0 or k <= 0:
            return [], {}
        m = min(max(self.settings.candidates, k), n)
        terms = [term_key(t) for t in question_terms(query)]
        found = c.search(names["p"], data=[vector.tolist()], anns_field="vec", limit=m, output_fields=["id"],
                         filter=state.visible,
                         search_params={"metric_type": "IP", "params": {"nprobe": milvus_store.NPROBE}})
        dense = {int(h["id"]): float(h["distance"]) for h in found[0]}
        proposed: list[int] = []
        if terms:
            found = c.search(names["p"], data=[" ".join(terms)], anns_field="sparse", limit=m, output_fields=["id"],
                             filter=state.visible)
            proposed = [int(h["id"]) for h in found[0]]
        ids = list(dict.fromkeys([*dense, *proposed]))
        fetched = {int(r["id"]): r for r in fetch(c, names["p"], ids, ["id", "row", "packed", "terms"])}
        lex = self._bm25(state, terms, {i: fetched[i]["terms"] for i in ids})
        lex_max = max(lex.values(), default=0.0)
        ids = list(dense) + [i for i in proposed if i not in dense and lex.get(i, 0.0) > 0]
        unpacked = self._packed(state, [fetched[i] for i in ids])
        hits = []
        for i in ids:
            passage_vector, sentence_vectors = unpacked[i]
            d = dense[i] if i in dense else float(passage_vector @ vector)
            sims = sentence_vectors @ vector
            best = float(sims.max()) if sims.size else d
            hits.append(fuse(i, d, best, lex.get(i, 0.0) / lex_max if lex_max > 0 else 0.0, self.settings))
        hits.sort(key=lambda h: -h.score)
        return hits[:k], {i: state.row(i, fetched[i]["row"]) for i in ids}

    def _bm25(self, state: _Loaded, keys: list[str], passage_terms: dict[int, str]) -> dict[int, float]:
        """BM25 of the passages for the question's terms, as bm25s scores it (Lucene's IDF, k1 and
        b of milvus_store.BM25_PARAMS), over the passages this generation shows."""
        if not keys or not passage_terms:
            return {}
        n = state.passages
        avgdl = int(state.manifest["store"]["tokens"]) / max(n, 1)
        df = self._term_counts(state, keys)
        idf = {t: math.log(1 + (n - df.get(t, 0) + 0.5) / (df.get(t, 0) + 0.5)) for t in set(keys)}
        k1, b = milvus_store.BM25_PARAMS["bm25_k1"], milvus_store.BM25_PARAMS["bm25_b"]
        out = {}
        for i, text in passage_terms.items():
            toks = text.split()
            norm = k1 * (1 - b + b * len(toks) / avgdl)
            tf = Counter(toks)
            out[i] = sum(idf[t] * tf[t] * (k1 + 1) / (tf[t] + norm) for t in keys if tf[t])
        return out

    def _packed(self, state: _Loaded, fetched: list[dict[str, Any]]) -> dict[int, tuple[np.ndarray, np.ndarray]]:
        """Each passage's vector and its sentences' vectors: packed in its row, or, for a
        passage of too many sentences to pack, read from the sentences collection."""
        out = {}
        spill = []
        for r in fetched:
            if r["packed"]:
                arr = unpack(r["packed"])
                out[int(r["id"])] = arr[0], arr[1:]
            else:
                spill.append(r)
        if spill:
            wanted = [s for r in spill for s in range(r["row"]["sent_lo"], r["row"]["sent_hi"])]
            vecs = {int(x["id"]): x for x in fetch(self._client, state.names["s"], wanted, ["id", "vec", "start", "end"])}
            for r in spill:
                p: PassageRow = r["row"]
                sentence_vectors = np.array([vecs[s]["vec"] for s in range(p["sent_lo"], p["sent_hi"])], np.float32)
                spans = [(vecs[s]["start"], vecs[s]["end"]) for s in range(p["sent_lo"], p["sent_hi"])]
                local = _with(p, sent_lo=0, sent_hi=len(spans))
                out[int(r["id"])] = passage_vectors([local], spans, sentence_vectors)[0], sentence_vectors
        return out

    def _sentences(self, state: _Loaded, passages: list[PassageRow]) -> dict[int, dict[str, Any]]:
        """Every sentence of the passages and the one on either side, by sentence id."""
        wanted = sorted({s for p in passages for s in range(max(0, p["sent_lo"] - 1), p["sent_hi"] + 1)})
        rows = fetch(self._client, state.names["s"], wanted, ["id", "vec", "start", "end", "doc_hash", "text"])
        return {int(r["id"]): r for r in rows}

    def _rows(self, state: _Loaded, hits: list[tuple[Hit, PassageRow]],
              terms: list[str]) -> tuple[Generation, _QueryTable, list[Hit]]:
        """A generation of the hit passages alone, their sentences read by id and renumbered in
        order (with a gap left where they are not adjacent, so a neighbour is always the next
        sentence of the text)."""
        sentences = self._sentences(state, [p for _, p in hits])
        order: list[int | None] = []
        for s in sorted(sentences):
            if order and order[-1] != s - 1:
                order.append(None)
            order.append(s)
        local = {s: i for i, s in enumerate(order) if s is not None}
        dim = milvus_store.DIM
        vectors = np.zeros((len(order), dim), np.float32)
        spans = np.zeros((len(order), 2), np.int64)
        texts = [""] * len(order)
        for s, i in local.items():
            r = sentences[s]
            vectors[i] = r["vec"]
            spans[i] = (r["start"], r["end"])
            texts[i] = r["text"]
        owner = np.full(len(order), -1, dtype=np.int64)
        passages: list[PassageRow] = []
        out_hits = []
        for row, (hit, p) in enumerate(hits):
            passages.append(_with(p, sent_lo=local[p["sent_lo"]] if p["sent_hi"] > p["sent_lo"] else 0,
                                  sent_hi=local[p["sent_hi"] - 1] + 1 if p["sent_hi"] > p["sent_lo"] else 0))
            for s in range(max(0, p["sent_lo"] - 1), p["sent_hi"] + 1):
                j = local.get(s)
                if j is not None and owner[j] < 0 and sentences[s]["doc_hash"] == p["doc_hash"]:
                    owner[j] = row
            out_hits.append(Hit(row, hit.score, hit.dense, hit.sentence, hit.lexical))
        in_hits = owner >= 0
        for s, i in local.items():
            if owner[i] < 0 and any(in_hits[local[t]] for t in (s - 1, s + 1) if t in local):
                # the neighbour of a hit from another source: a row of its own, so that it reads as another source
                owner[i] = len(passages)
                passages.append(_stranger(sentences[s]["doc_hash"]))
        gen = _generation(state, passages, vectors, spans)
        return gen, _QueryTable(owner, texts, *self._idf(state, terms)), out_hits


    def _term_counts(self, state: _Loaded, keys: list[str]) -> dict[str, int]:
        """The passage counts of terms (term_key form) in the loaded generation; remembered for
        the last questions, as retrieval and the answer stage of one `ask` both need them."""
        key = (state.collection, tuple(sorted(set(keys))))
        counts = self._df_cache.get(key)
        if counts is None:
            counts = milvus_store.term_counts(self._client, state.names["t"], list(key[1]), state.generation_number)
            if len(self._df_cache) >= 64:
                self._df_cache.clear()
            self._df_cache[key] = counts
        return counts

    def _idf(self, state: _Loaded, terms: list[str]) -> tuple[dict[str, float], float]:
        """BM25's IDF of the question's terms (as bm25s computes it), from the stored term counts."""
        n = state.passages
        keys = {term_key(t): t for t in terms}
        idf: dict[str, float] = {}
        if keys and n:
            counts = self._term_counts(state, list(keys))
            for key, df in counts.items():
                if df:
                    idf[keys[key]] = math.log(1 + (n - df + 0.5) / (df + 0.5))
        return idf, math.log(1 + (n + 0.5) / 0.5) if n else 1.0


def _with(row: PassageRow, *, source: str | None = None, sent_lo: int | None = None,
          sent_hi: int | None = None) -> PassageRow:
    """A copy of a passage row with its source or its sentence numbers changed."""
    out = row.copy()
    if source is not None:
        out["source"] = source
    if sent_lo is not None:
        out["sent_lo"] = sent_lo
    if sent_hi is not None:
        out["sent_hi"] = sent_hi
    return out


def _stranger(doc_hash: str) -> PassageRow:
    """The row of a sentence next to a hit but from another source: only its source is read
    (a source no passage has, so that it reads as another source than the hit's)."""
    return {"source": "\0" + doc_hash, "doc_hash": doc_hash, "title": None, "section": None, "page": None,
            "start": 0, "end": 0, "sent_lo": 0, "sent_hi": 0, "context": "", "text": "", "chunk_id": -1}


def _generation(state: _Loaded, passages: list[PassageRow], vectors: np.ndarray, spans: np.ndarray) -> Generation:
    return Generation(Path("milvus") / state.collection, state.manifest, None, passages, state.documents, vectors, spans)
