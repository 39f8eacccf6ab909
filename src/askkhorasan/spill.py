"""Vectors set aside in a temporary file while a build makes the rest of the index.

A 50 MB source's 83,000 sentence vectors are 128 MB (a prose source of that size has five times
as many sentences); held in memory while they are embedded and while FAISS is filled with its
own copy of the passage vectors, they set the build's peak. Written here as they are made, they
are read back a block at a time: for the passage vectors, then for sentences.npy.

    with SpilledVectors(index_dir, 384, rows=1000) as spilled:
        spilled.write(0, vectors)               # rows 0:len(vectors)
        spilled.write_rows([7, 3], two_rows)    # rows 7 and 3
        spilled.read(10, 20)                    # rows 10:20
        for block in spilled.blocks():          # every row, in order
            ...
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import numpy as np

BLOCK_ROWS = 8192


class SpilledVectors:
    """`rows` float32 rows of `dim` in a temporary file in `folder`, removed when closed (on POSIX
    it has no name from the start, so a killed build leaves nothing behind)."""

    def __init__(self, folder: Path, dim: int, rows: int):
        self.dim = dim
        self.rows = rows
        self._row_bytes = dim * 4
        self._fh = tempfile.TemporaryFile(dir=folder, prefix=".vectors-")
        self._fh.truncate(rows * self._row_bytes)

    def __enter__(self) -> "SpilledVectors":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self._fh.close()

    def write(self, first: int, vectors: np.ndarray) -> None:
        """Rows first:first + len(vectors)."""
        vectors = np.ascontiguousarray(vectors, dtype="<f4").reshape(-1, self.dim)
        if not 0 <= first <= first + len(vectors) <= self.rows:
            raise IndexError(f"rows {first}:{first + len(vectors)} of {self.rows}")
        if len(vectors):
            self._fh.seek(first * self._row_bytes)
            self._fh.write(vectors.data.cast("B"))

    def write_rows(self, rows: Sequence[int] | np.ndarray, vectors: np.ndarray) -> None:
        """Row rows[i] := vectors[i]."""
        for row, vector in zip(np.asarray(rows).tolist(), np.asarray(vectors).reshape(-1, self.dim)):
            self.write(row, vector)

    def read(self, lo: int, hi: int) -> np.ndarray:
        """Rows lo:hi, read into a new array."""
        if not 0 <= lo <= hi <= self.rows:
            raise IndexError(f"rows {lo}:{hi} of {self.rows}")
        out = np.empty((hi - lo, self.dim), dtype="<f4")
        if not len(out):
            return out
        self._fh.flush()
        self._fh.seek(lo * self.dim * 4)
        if self._fh.readinto(out.data.cast("B")) != out.nbytes:
            raise OSError(f"the temporary vector file ended before row {hi}")
        return out

    def rows_from(self, first: int) -> Callable[[int, int], np.ndarray]:
        """`read` for rows counted from row `first`: one source's, when `first` is its first row."""
        return lambda lo, hi: self.read(first + lo, first + hi)

    def blocks(self, size: int = BLOCK_ROWS) -> Iterator[np.ndarray]:
        """Every row, in order, `size` at a time."""
        for lo in range(0, self.rows, size):
            yield self.read(lo, min(self.rows, lo + size))
