"""The functions most callers want, each one line over the classes below it."""

from __future__ import annotations

from pathlib import Path

from .index import open_index
from .question import prepare_question
from .readers import read_document
from .types import Answer, Passage


def search(query: str, k: int = 5, *, index_dir: str | Path = "index") -> list[Passage]:
    """The `k` passages of the index that best answer `query`, best first."""
    prepare_question(query)  # a bad question is refused before anything is loaded
    return open_index(index_dir).search(query, k)


def ask(question: str, k: int = 5, *, index_dir: str | Path = "index", explain: bool = False) -> Answer:
    """A verbatim, cited answer from the sources, or `found=False` with the nearest passages;
    `k` passages are shown with it."""
    prepare_question(question)
    return open_index(index_dir).ask(question, k, explain=explain)


def document_text(path: str | Path) -> str:
    """The text a source's offsets index into: `document_text(corpus/source)[start:end] == passage.text`."""
    return read_document(path).text
