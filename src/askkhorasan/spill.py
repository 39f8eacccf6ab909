"""Vectors set aside in a temporary file while a build makes the rest of the index.

A 50 MB source's 83,000 sentence vectors are 128 MB; held in memory while FAISS is filled with
its own 128 MB copy of the passage vectors, they set the build's peak. Written here once
embedded, they are read back a block at a time: for the passage vectors, then for sentences.npy.

    with SpilledVectors(index_dir, 384) as spilled:
        spilled.append(vectors)
        spilled.read(10, 20)            # rows 10:20
        for block in spilled.blocks():  # every row, in order
            ...
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

BLOCK_ROWS = 8192


class SpilledVectors:
    """float32 rows appended to a temporary file in `folder`, removed when closed (on POSIX it has
    no name from the start, so a killed build leaves nothing behind)."""

    def __init__(self, folder: Path, dim: int):
        self.dim = dim
        self.rows = 0
        self._fh = tempfile.TemporaryFile(dir=folder, prefix=".vectors-")

    def __enter__(self) -> "SpilledVectors":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self._fh.close()

    def append(self, vectors: np.ndarray) -> None:
        vectors = np.ascontiguousarray(vectors, dtype="<f4").reshape(-1, self.dim)
        self._fh.seek(self.rows * self.dim * 4)
        self._fh.write(vectors.data.cast("B"))
        self.rows += len(vectors)

    def read(self, lo: int, hi: int) -> np.ndarray:
        """Rows lo:hi, read into a new array."""
        if not 0 <= lo <= hi <= self.rows:
            raise IndexError(f"rows {lo}:{hi} of {self.rows}")
        out = np.empty((hi - lo, self.dim), dtype="<f4")
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
