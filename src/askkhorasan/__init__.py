"""askkhorasan: cited, verbatim answers from a folder of sources about ISKP.

The table of contents: each name is imported on first use (PEP 562), so `import askkhorasan`
and `askkhorasan --help` load no model, FAISS or BM25 library.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# name: the module that defines it
_EXPORTS = {
    "build_index": "build", "search": "api", "ask": "api", "evaluate": "evaluate", "document_text": "api",
    "Index": "index", "open_index": "index", "Settings": "settings", "answer_markdown": "render",
    "Answer": "types", "BuildReport": "types", "Citation": "types", "Document": "types", "Passage": "types",
    "SourceFailure": "types",
    "AskKhorasanError": "errors", "CorpusError": "errors", "IndexCorruptError": "errors",
    "IndexIncompatibleError": "errors", "IndexMissingError": "errors", "ModelError": "errors",
    "QuestionError": "errors", "SourceError": "errors",
}

__all__ = list(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'askkhorasan' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value  # found once; later lookups do not come back here
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


if TYPE_CHECKING:  # what type checkers and editors see
    from .api import ask, document_text, search
    from .build import build_index
    from .errors import (
        AskKhorasanError,
        CorpusError,
        IndexCorruptError,
        IndexIncompatibleError,
        IndexMissingError,
        ModelError,
        QuestionError,
        SourceError,
    )
    from .evaluate import evaluate
    from .index import Index, open_index
    from .render import answer_markdown
    from .settings import Settings
    from .types import Answer, BuildReport, Citation, Document, Passage, SourceFailure
