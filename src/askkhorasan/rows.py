"""Passage and document rows in SQLite, written once by a build and read by id.

    passages.sqlite   table passages: one row per passage, `id` its row in the FAISS index
    documents.sqlite  table documents: one row per indexed source

An index of a million passages holds about a gigabyte of passage text: a question reads the
few dozen rows it needs, and nothing else of it is in memory. The rows keep the shape of
`PassageRow` and `DocumentRow`; lists (a document's warnings) are JSON in their column.
Files are opened read-only and immutable: a generation never changes once written, and
SQLite then writes nothing beside them (no journal, no lock file the manifest would not list).
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, Callable, Generic, TypeVar, overload

from .types import DocumentRow, PassageRow

Row = TypeVar("Row")

PASSAGES = "passages.sqlite"
DOCUMENTS = "documents.sqlite"
PASSAGE_COLUMNS = ("source", "doc_hash", "title", "section", "page", "start", "end", "sent_lo", "sent_hi",
                   "context", "text")
DOCUMENT_COLUMNS = ("source", "hash", "format", "title", "date", "publisher", "author", "chars", "passages",
                    "warnings", "skipped")
_JSON_COLUMNS = ("warnings", "skipped")
_WRITE_BATCH = 5_000
CACHED_ROWS = 4_096  # one question reads the same few dozen rows several times over


def _passage(values: tuple) -> PassageRow:
    row: dict[str, Any] = dict(zip(("id", *PASSAGE_COLUMNS), values))
    row["chunk_id"] = row.pop("id")
    return row  # type: ignore[return-value]


def _document(values: tuple) -> DocumentRow:
    row: dict[str, Any] = dict(zip(("id", *DOCUMENT_COLUMNS), values))
    del row["id"]
    for key in _JSON_COLUMNS:
        row[key] = json.loads(row[key])
    return row  # type: ignore[return-value]


def _quoted(columns: Iterable[str]) -> str:
    return ", ".join(f'"{c}"' for c in columns)  # "end" is an SQL keyword


def _schema(table: str, columns: tuple[str, ...]) -> str:
    return f"CREATE TABLE {table} (id INTEGER PRIMARY KEY, {_quoted(columns)})"


def write_passages(path: Path, rows: Iterable[PassageRow], on_row: Callable[[int, PassageRow], None] | None = None) -> int:
    """Write passage rows in order, `id` counting from 0 (a row's `chunk_id` is set to it);
    `on_row(id, row)` sees each as it goes. Returns how many."""

    def values() -> Iterator[tuple]:
        for i, p in enumerate(rows):
            p["chunk_id"] = i
            if on_row is not None:
                on_row(i, p)
            yield (i, *(p[c] for c in PASSAGE_COLUMNS))  # type: ignore[literal-required]

    return _write(path, "passages", PASSAGE_COLUMNS, values(), ("source", "doc_hash"))


def write_documents(path: Path, rows: Iterable[DocumentRow]) -> int:
    values = ((i, *(json.dumps(d[c], ensure_ascii=False) if c in _JSON_COLUMNS else d[c]  # type: ignore[literal-required]
                    for c in DOCUMENT_COLUMNS)) for i, d in enumerate(rows))
    return _write(path, "documents", DOCUMENT_COLUMNS, values, ("source", "hash"))


def _write(path: Path, table: str, columns: tuple[str, ...], values: Iterator[tuple], indexed: tuple[str, ...]) -> int:
    con = sqlite3.connect(path, isolation_level=None)
    try:
        # No journal: a half-written file is thrown away with its half-written generation.
        con.execute("PRAGMA journal_mode=OFF")
        con.execute("PRAGMA synchronous=OFF")
        con.execute(_schema(table, columns))
        insert = f"INSERT INTO {table} VALUES ({', '.join('?' * (len(columns) + 1))})"
        n = 0
        con.execute("BEGIN")
        while True:
            batch = [v for _, v in zip(range(_WRITE_BATCH), values)]
            if not batch:
                break
            con.executemany(insert, batch)
            n += len(batch)
        for column in indexed:
            con.execute(f"CREATE INDEX {table}_{column} ON {table} ({_quoted([column])})")
        con.execute("COMMIT")
    finally:
        con.close()
    with path.open("rb") as fh:
        os.fsync(fh.fileno())
    return n


class RowTable(Sequence[Row], Generic[Row]):
    """Rows of one SQLite table read by id, as a read-only sequence; thread-safe.

    Each row read is a new dict, so a caller may change it without changing what others read."""

    def __init__(self, path: Path, table: str, columns: tuple[str, ...], decode: Callable[[tuple], Row]):
        self.path = path
        self._con = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro&immutable=1", uri=True,
                                    check_same_thread=False)
        self._select = f"SELECT id, {_quoted(columns)} FROM {table}"
        self._decode = decode
        self._lock = threading.Lock()
        self._cache: OrderedDict[int, tuple] = OrderedDict()
        self._len = int(self._con.execute(f"SELECT count(*) FROM {table}").fetchone()[0])

    def __len__(self) -> int:
        return self._len

    @overload
    def __getitem__(self, i: int) -> Row: ...

    @overload
    def __getitem__(self, i: slice) -> list[Row]: ...

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(self._len))]
        i = int(i)
        if i < 0:
            i += self._len
        if not 0 <= i < self._len:
            raise IndexError(f"row {i} of {self._len}")
        with self._lock:
            values = self._cache.get(i)
            if values is None:
                values = self._con.execute(f"{self._select} WHERE id = ?", (i,)).fetchone()
                self._cache[i] = values
                if len(self._cache) > CACHED_ROWS:
                    self._cache.popitem(last=False)
            else:
                self._cache.move_to_end(i)
        return self._decode(values)

    def __iter__(self) -> Iterator[Row]:
        for lo in range(0, self._len, _WRITE_BATCH):
            yield from self.where("id >= ? AND id < ?", (lo, lo + _WRITE_BATCH))

    def where(self, condition: str, parameters: tuple) -> list[Row]:
        """The rows that meet an SQL condition, in id order."""
        with self._lock:
            found = self._con.execute(f"{self._select} WHERE {condition} ORDER BY id", parameters).fetchall()
        return [self._decode(v) for v in found]

    def close(self) -> None:
        self._con.close()


class PassageTable(RowTable[PassageRow]):
    """`passages.sqlite` of a generation: `PassageRow`s by id, and a source's passages by name."""

    def __init__(self, path: Path):
        super().__init__(path, "passages", PASSAGE_COLUMNS, _passage)

    def of_source(self, source: str) -> list[PassageRow]:
        return self.where("source = ?", (source,))


class DocumentTable(RowTable[DocumentRow]):
    """`documents.sqlite` of a generation: `DocumentRow`s in the order of the build."""

    def __init__(self, path: Path):
        super().__init__(path, "documents", DOCUMENT_COLUMNS, _document)
