"""A loaded index: the model and the current generation, kept for the life of the process."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from .embed import Embedder, shared_embedder
from .lexical import LexicalIndex
from .question import prepare_question
from .retrieve import Hit, hybrid_search
from .settings import DEFAULT_SETTINGS, Settings
from .store import CURRENT, LEXICAL, Generation, current_generation, load_generation
from .types import Passage

log = logging.getLogger(__name__)


class Index:
    """Search and ask over one index folder. Thread-safe; picks up a rebuilt index by itself."""

    def __init__(self, index_dir: str | Path = "index", embedder: Embedder | None = None,
                 settings: Settings | None = None):
        self.index_dir = Path(index_dir)
        self.settings = settings or DEFAULT_SETTINGS
        self._lock = threading.Lock()
        self._state: tuple[Generation, LexicalIndex] = self._load()
        self.embedder = embedder or shared_embedder()

    def _load(self) -> tuple[Generation, LexicalIndex]:
        gen = load_generation(self.index_dir)
        return gen, LexicalIndex.load(gen.path / LEXICAL)

    def _current(self) -> tuple[Generation, LexicalIndex]:
        """The loaded generation, reloaded first if a build has switched CURRENT since."""
        state = self._state
        try:
            latest = current_generation(self.index_dir)
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
    def documents(self) -> list[dict]:
        return self.generation.documents

    @property
    def manifest(self) -> dict:
        return self.generation.manifest

    def _hits(self, question: str, k: int) -> tuple[Generation, list[Hit], object]:
        gen, lexical = self._current()
        vector = self.embedder.encode_query(question)
        return gen, hybrid_search(gen, lexical, vector, question, k, self.settings), vector

    def search(self, query: str, k: int = 5) -> list[Passage]:
        """The `k` passages that best answer `query`, best first."""
        query, _ = prepare_question(query)
        gen, hits, _ = self._hits(query, max(1, int(k)))
        return [to_passage(gen.passages[h.row], h.score) for h in hits]


def to_passage(row: dict, score: float) -> Passage:
    return Passage(
        text=row["text"], score=round(float(score), 6), source=row["source"], title=row["title"],
        section=row["section"], page=row["page"], start=row["start"], end=row["end"], chunk_id=row["chunk_id"],
    )


_open: dict[Path, Index] = {}
_open_lock = threading.Lock()


def open_index(index_dir: str | Path = "index") -> Index:
    """The process's Index for a folder, loaded on first use and reused after."""
    key = Path(index_dir).resolve()
    with _open_lock:
        index = _open.get(key)
        if index is None or not (key / CURRENT).exists():
            index = _open[key] = Index(key)
        return index


def forget_open_indexes() -> None:
    with _open_lock:
        _open.clear()
