"""The result types every stage passes around: small frozen dataclasses."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field


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

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class Answer:
    """A verbatim answer to a question, or `found=False` with the nearest passages."""

    question: str
    found: bool
    text: str  # the best quote, copied from a source; "" when not found
    confidence: float
    citations: tuple[Citation, ...] = ()
    passages: tuple[Passage, ...] = ()
    note: str | None = None

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def to_markdown(self) -> str:
        from .render import answer_markdown

        return answer_markdown(self)


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
class SourceStatus:
    """A source's state against the index.

    "indexed", "failed" (unreadable, unchanged since), "duplicate" (of an indexed source),
    or, needing a build: "new", "changed", "missing".
    """

    source: str
    state: str
    title: str | None = None
    date: str | None = None
    publisher: str | None = None
    passages: int = 0


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
