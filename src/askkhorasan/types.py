"""The result types every stage passes around: small frozen dataclasses."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import TypedDict

# The refusal, worded once: the lead of an unanswered Answer's note, and the line shown for it.
REFUSAL_LEAD = "The sources do not answer this question"
NEAREST_SHOWN = "The nearest passages are shown for reference."
NOT_FOUND = "Not found in the sources"


@dataclass(frozen=True)
class Block:
    """A heading or paragraph of a document: `text[start:end]` of its document text."""

    kind: str  # "heading" or "paragraph"
    start: int
    end: int
    section: str | None = None
    page: int | None = None


@dataclass(frozen=True)
class SkippedText:
    """Text of a source left out of the document text on purpose: how much, and where."""

    source: str
    what: str  # "encoded data" (base64, hex, data URIs, unbroken runs) or "running heads"
    places: int  # runs or lines left out
    chars: int
    where: str  # "pages 2, 5", "paragraphs 3, 8"

    def message(self) -> str:
        return f"{self.source}: left out {self.chars:,} characters of {self.what} ({self.places} places: {self.where})"


@dataclass(frozen=True)
class Document:
    """A source as the program reads it: its cleaned text and where things are in it."""

    source: str  # path relative to the corpus folder, with forward slashes
    text: str  # the document text: every offset indexes into this string
    format: str
    title: str | None = None
    date: str | None = None
    publisher: str | None = None
    author: str | None = None
    blocks: tuple[Block, ...] = ()
    warnings: tuple[str, ...] = ()
    skipped: tuple[SkippedText, ...] = ()


class SkippedRow(TypedDict):
    """Text a reader left out of a source, as the documents table keeps it (see SkippedText)."""

    what: str
    places: int
    chars: int
    where: str


class DocumentRow(TypedDict):
    """One row of the documents table (documents.sqlite): an indexed source and what the reader found in it."""

    source: str
    hash: str  # sha256 of the file's bytes
    format: str
    title: str | None
    date: str | None
    publisher: str | None
    author: str | None
    chars: int  # length of the document text
    warnings: list[str]
    skipped: list[SkippedRow]
    passages: int


class MilvusDocumentRow(DocumentRow):
    """A documents row as the Milvus store keeps it: also where the source's passages are."""

    first_passage: int  # its passages' place in corpus order: the folder's chunk_id of the first
    slot: int  # its passages' ids are slot << 24 + chunk number (milvus_store)
    sentences: int


class PassageRow(TypedDict):
    """One row of the passages table (passages.sqlite), in vector order: a passage and where its sentences are."""

    source: str
    doc_hash: str
    title: str | None
    section: str | None
    page: int | None
    start: int  # text == document text[start:end]
    end: int
    sent_lo: int  # its sentences are rows sent_lo:sent_hi of the sentence table
    sent_hi: int
    context: str  # title and section, indexed for BM25 with the text
    text: str
    chunk_id: int  # its row in passages.sqlite and the FAISS index


@dataclass(frozen=True)
class Passage:
    """A retrieved span of a source: `document_text(corpus/source)[start:end] == text`."""

    text: str
    score: float
    source: str
    title: str | None
    section: str | None
    page: int | None
    start: int
    end: int
    chunk_id: int

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class Citation:
    """Where a quote stands: `document_text(corpus/source)[start:end] == quote`."""

    source: str
    title: str | None
    section: str | None
    page: int | None
    start: int
    end: int
    quote: str
    publisher: str | None = None
    date: str | None = None

    def overlaps(self, other: "Citation") -> bool:
        """Whether the two quotes share characters of one source."""
        return self.source == other.source and self.start < other.end and other.start < self.end

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class ScoredSentence:
    """A candidate answer sentence as the answer stage saw it (for `ask --explain`)."""

    text: str
    source: str
    start: int
    end: int
    probability: float  # the sentence scorer's probability that it answers
    passage_rank: int  # 1-based rank of its passage in the search
    passage_score: float  # the passage's fused retrieval score, and its parts:
    dense: float  # passage cosine
    best_sentence: float  # best sentence cosine in the passage
    lexical: float  # BM25 over the best BM25
    matched_words: tuple[str, ...]  # question words found in the sentence
    model_logit: float | None = None  # the answer model's logit, for the sentences it read
    score: float | None = None  # the final score the candidates are ordered by


@dataclass(frozen=True)
class Explanation:
    """Why an answer is what it is: the candidates, the words matched, and the stage that decided."""

    stage: str  # "retrieval", "selection", "answerability check", "answer model", "confidence" or "fact-kind rule"
    reason: str
    question_words: tuple[str, ...]  # the words of the question that search and scoring use
    answerable: float  # the answer's confidence: the fitted probability that the quote is right
    threshold: float  # below it, the sources are taken not to answer
    candidates: tuple[ScoredSentence, ...] = ()

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class Answer:
    """A verbatim answer to a question, or `found=False` with the nearest passages.

    `passages` are in search order and include every passage a quote came from;
    `cited_passage(n)` is the one quote n (1-based) is in.
    """

    question: str
    found: bool
    text: str  # the best quote, copied from a source; "" when not found
    confidence: float
    citations: tuple[Citation, ...] = ()
    passages: tuple[Passage, ...] = ()
    note: str | None = None
    runner_up: Citation | None = None  # the best-scoring sentence outside the quotes, for checking a weak answer
    explanation: Explanation | None = None  # filled when asked for (`ask --explain`, the app)

    def cited_passage(self, n: int) -> Passage | None:
        """The passage citation n (1-based) came from."""
        c = self.citations[n - 1]
        return next((p for p in self.passages if p.source == c.source and p.start <= c.start and c.end <= p.end), None)

    @property
    def band(self) -> str | None:
        """The confidence in words ("strong", "likely", "weak"; see confidence.py), None when not found."""
        from .confidence import band

        return band(self.confidence) if self.found else None

    def to_dict(self) -> dict:
        return dataclasses.asdict(self) | {"band": self.band}


@dataclass(frozen=True)
class DocumentView:
    """A window of a source's document text around a span, for the source viewer:
    `text == document_text(corpus/source)[window_start:window_end]`."""

    source: str
    title: str | None
    section: str | None
    page: int | None
    date: str | None
    publisher: str | None
    start: int  # the span shown marked
    end: int
    window_start: int
    window_end: int
    length: int  # characters in the whole document text
    text: str
    step: int  # characters "load more" adds

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class SourceFailure:
    """A source that could not be indexed, and why."""

    source: str
    reason: str


@dataclass(frozen=True)
class BuildReport:
    """What a build did to the index."""

    corpus_dir: str
    index_dir: str
    added: tuple[str, ...] = ()
    updated: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()
    failed: tuple[SourceFailure, ...] = ()
    duplicates: tuple[tuple[str, str], ...] = ()  # (duplicate, the source it repeats)
    warnings: tuple[str, ...] = ()
    skipped: tuple[SkippedText, ...] = ()  # text left out of sources on purpose (encoded data, running heads)
    passages: int = 0
    embedded_passages: int = 0
    seconds: float = 0.0
    generation: str = ""

    @property
    def ok(self) -> bool:
        return not self.failed

    def to_dict(self) -> dict:
        data = dataclasses.asdict(self)
        data["failed"] = [dataclasses.asdict(f) for f in self.failed]
        data["skipped"] = [dataclasses.asdict(s) for s in self.skipped]
        return data


@dataclass(frozen=True)
class AddedFile:
    """A file offered to the corpus: where it landed, or the source that already holds its bytes."""

    name: str  # the name it was offered under
    source: str  # its place in the corpus folder
    copied: bool  # False: the corpus already held an identical file, and nothing was copied


@dataclass(frozen=True)
class SourceStatus:
    """A source's state against the index.

    "indexed", "skipped" (over the size limit, or unreadable and unchanged since; `reason`
    says why), "duplicate" (of an indexed source), or, needing a build: "new", "changed", "missing".
    """

    source: str
    state: str
    title: str | None = None
    date: str | None = None
    publisher: str | None = None
    passages: int = 0
    reason: str | None = None


@dataclass(frozen=True)
class IndexStatus:
    """What `askkhorasan status` reports."""

    index_dir: str
    corpus_dir: str
    exists: bool
    built_at: str | None = None
    model: str | None = None
    passages: int = 0
    sources: tuple[SourceStatus, ...] = field(default_factory=tuple)
    problem: str | None = None

    @property
    def stale(self) -> bool:
        return not self.exists or any(s.state in ("new", "changed", "missing") for s in self.sources)

    def to_dict(self) -> dict:
        data = dataclasses.asdict(self)
        data["stale"] = self.stale
        return data
