"""The paraphrased question sets (bench/data/paraphrase/): corpora, questions and the tune/test split.

Questions were written from the documents alone, in the asker's own words, by people
who had not seen the code. Each question falls into "tune" or "test" by a hash of its
text, so the split never moves; only "tune" may be looked at while choosing weights
or thresholds, and "test" is what the figures report.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parent
DATA = ROOT / "data" / "paraphrase"
REPO = ROOT.parent

SETS = {
    # name: (corpus folder, questions file)
    "iskp": (REPO / "corpus", DATA / "iskp.jsonl"),
    "sample": (DATA / "sample", DATA / "sample.jsonl"),
    "mixed": (DATA / "mixed", DATA / "mixed.jsonl"),
}


def part(question: str) -> str:
    return "tune" if hashlib.sha1(question.encode("utf-8")).digest()[0] % 2 == 0 else "test"


def load(name: str, which: str | None = None) -> list[dict]:
    """The questions of one set, each with "answers" (None: not answerable) and "part"."""
    rows = []
    for line in SETS[name][1].read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            row["part"] = part(row["question"])
            if which is None or row["part"] == which:
                rows.append(row)
    return rows
