"""askkhorasan: cited, verbatim answers from a folder of sources about ISKP."""

from .api import ask, document_text, search
from .build import build_index
from .evaluate import evaluate
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
from .index import Index, open_index
from .settings import Settings
from .types import Answer, BuildReport, Citation, Document, Passage, SourceFailure

__all__ = [
    "build_index", "search", "ask", "evaluate", "document_text", "Index", "open_index", "Settings",
    "Answer", "BuildReport", "Citation", "Document", "Passage", "SourceFailure",
    "AskKhorasanError", "CorpusError", "IndexCorruptError", "IndexIncompatibleError",
    "IndexMissingError", "ModelError", "QuestionError", "SourceError",
]
