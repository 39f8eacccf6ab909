"""A loaded index: the model and the current generation, kept for the life of the process."""

from __future__ import annotations

import dataclasses
import logging
import threading
from pathlib import Path

from .embed import Embedder, shared_embedder
from .lexical import LexicalIndex
from .question import CUT_NOTE, prepare_question
from .abstain import FOUND_THRESHOLD, answerable_probability
from .abstain import features as abstention_features
from .answer import TOP_PASSAGES, Candidate, SentenceTable, compose_answer, score_candidates
from .explain import arrange, explanation, runner_up
from .retrieve import Hit, hybrid_search, to_passage
from .settings import DEFAULT_SETTINGS, Settings
from .store import CURRENT, LEXICAL, Generation, current_generation, load_generation
from .types import Answer, Passage

log = logging.getLogger(__name__)


class Index:
    """Search and ask over one index folder. Thread-safe; picks up a rebuilt index by itself."""

    def __init__(self, index_dir: str | Path = "index", embedder: Embedder | None = None,
                 settings: Settings | None = None):
        self.index_dir = Path(index_dir)
        self.settings = settings or DEFAULT_SETTINGS
        self._lock = threading.Lock()
        self._state = self._load()
        self.embedder = embedder or shared_embedder()

    def _load(self) -> tuple[Generation, LexicalIndex, SentenceTable]:
        gen = load_generation(self.index_dir)
        lexical = LexicalIndex.load(gen.path / LEXICAL)
        return gen, lexical, SentenceTable(gen, lexical)

    def _current(self) -> tuple[Generation, LexicalIndex, SentenceTable]:
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

    def _question(self, text: str) -> tuple[str, str | None]:
        question, note = prepare_question(text)
        question, cut = self.embedder.fit_window(question)
        return question, CUT_NOTE if cut else note

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

    def ask(self, question: str, k: int = 5, explain: bool = False) -> Answer:
        """A verbatim, cited answer from the sources, or found=False with the nearest passages;
        `explain` adds the Explanation (candidates, scores, the stage that decided)."""
        question, note = self._question(question)
        gen, table, hits, candidates = self.candidates(question, k)
        answerable = answerable_probability(abstention_features(gen, table, question, hits, candidates))
        answer = compose_answer(question, gen, table, hits[:k], candidates, found=answerable >= FOUND_THRESHOLD,
                                confidence=answerable, note=note)
        answer = dataclasses.replace(arrange(answer, gen, hits, k), runner_up=runner_up(answer, gen, candidates))
        if explain:
            answer = dataclasses.replace(answer, explanation=explanation(answer, gen, table, hits, candidates))
        return answer


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
