"""What an index answers with, whichever store holds it: the question prepared, the candidates
the store finds read by the answer model, and the answer composed.

`BaseIndex` is the type of either store's index: the folder's (`index.Index`) and Milvus's
(`milvus_index.MilvusIndex`) derive from it and give its searches."""

from __future__ import annotations

import dataclasses
from abc import ABC, abstractmethod
from collections.abc import Sequence
from pathlib import Path

from . import rerank
from .abstain import answerable_probability
from .abstain import features as abstention_features
from .answer import Candidate, SentenceTable, compose_answer
from .answer_model import AnswerModel, shared_answer_model
from .embed import Embedder, compatible
from .errors import IndexIncompatibleError
from .explain import arrange, explanation, runner_up
from .milvus_store import MilvusTarget
from .question import CUT_NOTE, prepare_question
from .retrieve import Hit
from .settings import Settings
from .store import Generation
from .types import Answer, DocumentRow, Passage, PassageRow


class BaseIndex(ABC):
    """Search and ask over one index; a store's index gives `search`, `candidates` and its rows."""

    index_dir: Path | MilvusTarget  # the folder; a MilvusIndex's Milvus location
    settings: Settings
    embedder: Embedder
    _answer_model: AnswerModel | None
    _selection: rerank.Selection | None

    @property
    def answer_model(self) -> AnswerModel:
        """Loaded on the first `ask`: `search` never needs it."""
        if self._answer_model is None:
            self._answer_model = shared_answer_model()
        return self._answer_model

    @property
    def selection(self) -> rerank.Selection:
        if self._selection is None:
            self._selection = rerank.Selection.load()
        return self._selection

    def _check_vectors(self, built_with: dict | None) -> None:
        """Refuse an index whose vectors (`built_with`, its manifest's "embedding") cannot be searched
        with this embedder's question vectors."""
        if not compatible(built_with, self.embedder.precision):
            raise IndexIncompatibleError(
                f"the index at {self.index_dir} holds {(built_with or {}).get('precision', 'fp32')} vectors "
                f"({(built_with or {}).get('backend', 'torch')} backend) but questions are embedded by the "
                f"{self.embedder.backend} backend ({self.embedder.precision}) — run `askkhorasan build --index "
                f"{self.index_dir}` to re-embed it, or set ASKKHORASAN_BACKEND to the backend that built it"
            )

    @property
    @abstractmethod
    def generation(self) -> Generation: ...

    @property
    @abstractmethod
    def documents(self) -> Sequence[DocumentRow]: ...

    @property
    @abstractmethod
    def manifest(self) -> dict: ...

    @abstractmethod
    def source_passages(self, source: str) -> list[PassageRow]:
        """The passages of one source (the source viewer's section and page)."""

    @abstractmethod
    def search(self, query: str, k: int = 5) -> list[Passage]:
        """The `k` passages that best answer `query`, best first."""

    @abstractmethod
    def candidates(self, question: str, k: int = 5) -> tuple[Generation, SentenceTable, list[Hit], list[Candidate]]:
        """The search hits and every sentence of the best of them, scored as answers, best first."""

    def _question(self, text: str) -> tuple[str, str | None]:
        question, note = prepare_question(text)
        question, cut = self.embedder.fit_window(question)
        return question, CUT_NOTE if cut else note

    def ask(self, question: str, k: int = 5, explain: bool = False) -> Answer:
        """A verbatim, cited answer from the sources, or found=False with the nearest passages;
        `explain` adds the Explanation (candidates, scores, the stage that decided)."""
        question, note = self._question(question)
        gen, table, hits, candidates = self.candidates(question, k)
        feature_answerable = answerable_probability(abstention_features(gen, table, question, hits, candidates))
        sel = self.selection
        texts = [table.text(gen, c.sentence) for c in candidates[: sel.read]]
        candidates = rerank.read(sel, self.answer_model, question, texts, candidates)
        hits = rerank.order_passages(hits, candidates)
        confidence = rerank.confidence(sel, candidates, feature_answerable)
        found = rerank.answers(sel, candidates, feature_answerable, confidence)
        answer = compose_answer(question, gen, table, hits[:k], candidates, found=found, confidence=confidence,
                                next_margin=sel.next_margin, extra_margin=sel.extra_margin, note=note)
        answer = dataclasses.replace(arrange(answer, gen, hits, k), runner_up=runner_up(answer, gen, candidates))
        if explain:
            answer = dataclasses.replace(answer, explanation=explanation(
                answer, gen, table, hits, candidates, sel, feature_answerable))
        return answer
