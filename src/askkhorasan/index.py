"""A loaded index: the model and the current generation, kept for the life of the process."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from pathlib import Path

from .answer import TOP_PASSAGES, Candidate, SentenceTable, score_candidates
from .answer_model import AnswerModel
from .answering import BaseIndex
from .embed import Embedder, shared_embedder
from .lexical import LexicalIndex
from .milvus_store import milvus_target
from .retrieve import Hit, hybrid_search, to_passage
from .rows import PassageTable
from .settings import DEFAULT_SETTINGS, Settings
from .store import CURRENT, LEXICAL, Generation, current_generation, load_generation
from .types import DocumentRow, Passage, PassageRow

log = logging.getLogger(__name__)


class Index(BaseIndex):
    """Search and ask over one index folder. Thread-safe; picks up a rebuilt index by itself.

    `Index(location)` of a Milvus location gives a `MilvusIndex` (the same `BaseIndex`) instead."""

    index_dir: Path

    def __new__(cls, index_dir: str | Path = "index", *args, **kwargs):
        target = milvus_target(index_dir) if cls is Index else None  # milvus-lite:PATH or milvus://HOST:PORT
        if target is not None:
            from .milvus_index import MilvusIndex

            return MilvusIndex(target, *args, **kwargs)
        return super().__new__(cls)

    def __init__(self, index_dir: str | Path = "index", embedder: Embedder | None = None,
                 settings: Settings | None = None, answer_model: AnswerModel | None = None):
        self.index_dir = self._folder = Path(index_dir)
        self.settings = settings or DEFAULT_SETTINGS
        self._lock = threading.Lock()
        gen = load_generation(self._folder)  # before the model: a missing index is reported at once
        self.embedder = embedder or shared_embedder()
        self._state = self._load(gen)
        self._answer_model = answer_model
        self._selection = None

    def _load(self, gen: Generation | None = None) -> tuple[Generation, LexicalIndex, SentenceTable]:
        gen = gen or load_generation(self._folder)
        self._check_vectors(gen.manifest.get("embedding"))
        lexical = LexicalIndex.load(gen.path / LEXICAL)
        return gen, lexical, SentenceTable(gen, lexical)

    def _current(self) -> tuple[Generation, LexicalIndex, SentenceTable]:
        """The loaded generation, reloaded first if a build has switched CURRENT since."""
        state = self._state
        try:
            latest = current_generation(self._folder)
        except Exception:  # a pointer being replaced right now: keep serving what is loaded
            return state
        if latest.name != state[0].path.name:
            with self._lock:
                if latest.name != self._state[0].path.name:
                    log.info("index %s changed; loading %s", self.index_dir, latest.name)
                    self._state = self._load()
                state = self._state
        return state

    @property
    def generation(self) -> Generation:
        return self._current()[0]

    @property
    def documents(self) -> Sequence[DocumentRow]:
        return self.generation.documents

    @property
    def manifest(self) -> dict:
        return self.generation.manifest

    def source_passages(self, source: str) -> list[PassageRow]:
        """The passages of one source (the source viewer's section and page)."""
        passages = self.generation.passages
        if isinstance(passages, PassageTable):
            return passages.of_source(source)
        return [p for p in passages if p["source"] == source]

    def search(self, query: str, k: int = 5) -> list[Passage]:
        """The `k` passages that best answer `query`, best first."""
        query, _ = self._question(query)
        gen, lexical, _ = self._current()
        vector = self.embedder.encode_query(query)
        hits = hybrid_search(gen, lexical, vector, query, max(1, int(k)), self.settings)
        return [to_passage(gen.passages[h.row], h.score) for h in hits]

    def candidates(self, question: str, k: int = 5) -> tuple[Generation, SentenceTable, list[Hit], list[Candidate]]:
        """The search hits and every sentence of the best of them, scored as answers, best first."""
        gen, lexical, table = self._current()
        vector = self.embedder.encode_query(question)
        hits = hybrid_search(gen, lexical, vector, question, max(k, TOP_PASSAGES), self.settings)
        return gen, table, hits, score_candidates(gen, table, question, vector, hits)


_open: dict[Path | str, BaseIndex] = {}
_open_lock = threading.Lock()


def open_index(index_dir: str | Path = "index") -> BaseIndex:
    """The process's index of a folder or Milvus location, loaded on first use and reused after."""
    target = milvus_target(index_dir)
    if target is not None:
        with _open_lock:
            index = _open.get(target.location)
            if index is None:
                index = _open[target.location] = Index(target.location)
            return index
    key = Path(index_dir).resolve()
    with _open_lock:
        index = _open.get(key)
        if index is None or not (key / CURRENT).exists():
            index = _open[key] = Index(key)
        return index


def forget_open_indexes() -> None:
    with _open_lock:
        _open.clear()
