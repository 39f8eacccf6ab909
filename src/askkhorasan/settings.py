"""How an index is built and searched: one dataclass, written into every manifest."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

FORMAT_VERSION = 5  # 3: lexical terms are lemmas, then stems; 4: bm25s's stopword list;
# 5: rows in SQLite, float16 sentence vectors and their owners memory-mapped (store.py)
MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
MODEL_WEIGHTS_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
MODEL_DIMENSION = 384  # length of its vectors
MODEL_WINDOW = 256  # word pieces the model reads, [CLS] and [SEP] included
BYTES_PER_MB = 2**20


@dataclass(frozen=True)
class Settings:
    # Chunking. Sentences are what the model embeds, so each stays well inside its window;
    # a passage's vector is the length-weighted mean of its sentences' vectors. A paragraph
    # that fits max_tokens is one passage.
    max_tokens: int = 200
    min_tokens: int = 48  # a shorter paragraph joins its neighbour in the same section
    overlap_sentences: int = 1  # sentences a split paragraph's windows share
    max_sentence_tokens: int = 120  # a longer run-on "sentence" is cut at word boundaries
    # The readers' and chunker's rules, numbered: offsets stored under other rules point into
    # another document text, so a change here re-embeds every source. 2: encoded data left out,
    # PDF running heads by position, long paragraphs chunked in segments. 3: Markdown read by
    # markdown-it-py (underlined headings are headings, fenced code is left out).
    text_rules: int = 3

    # Sources larger than this are skipped with a message (embedding 20 MB of text takes
    # about an hour on two cores); `askkhorasan build --max-source-mb` raises it.
    max_source_mb: float = 20.0

    # Retrieval: weights of the fused scores (passage cosine, best sentence cosine, BM25
    # over its best score), set by hand on the SQuAD sample and the seed article's dev
    # questions when the package began; the tuning script named here then was never in the
    # repository. bench/bench_squad.py and bench/bench_paraphrase.py measure them against
    # plain BM25, dense and fused baselines.
    dense_weight: float = 0.5
    sentence_weight: float = 1.0
    lexical_weight: float = 0.4
    candidates: int = 50

    @property
    def max_source_bytes(self) -> int:
        """The size limit in bytes: the one conversion of max_source_mb."""
        return int(self.max_source_mb * BYTES_PER_MB)

    def build_fields(self) -> dict:
        """The settings that shape what is stored; an index built with others must be rebuilt."""
        return {
            "max_tokens": self.max_tokens,
            "min_tokens": self.min_tokens,
            "overlap_sentences": self.overlap_sentences,
            "max_sentence_tokens": self.max_sentence_tokens,
            "text_rules": self.text_rules,
        }

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "Settings":
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**({"text_rules": 1} | {k: v for k, v in data.items() if k in known}))


DEFAULT_SETTINGS = Settings()
