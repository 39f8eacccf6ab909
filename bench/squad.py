"""SQuAD data as a corpus: each article one source document, its paragraphs separated by blank lines."""

from __future__ import annotations

import datetime
import json
import re
from pathlib import Path

SHARED_BENCH = Path(__file__).resolve().parents[2] / "shared" / "bench"
SAMPLE = SHARED_BENCH / "squad-v2-dev-5-articles.json"
FULL = SHARED_BENCH / "squad-v1.1-dev.json"


def article_filename(title: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", title).strip("_") + ".txt"


def write_corpus(squad_path: Path, corpus_dir: Path) -> list[dict]:
    """Write the articles as text files; return the questions, each with its article's file."""
    return write_corpus_articles(json.loads(Path(squad_path).read_text(encoding="utf-8"))["data"], corpus_dir)


def write_corpus_articles(data: list[dict], corpus_dir: Path) -> list[dict]:
    corpus_dir.mkdir(parents=True, exist_ok=True)
    questions = []
    for article in data:
        title = article["title"].replace("_", " ")
        name = article_filename(title)
        paragraphs = [p["context"].strip() for p in article["paragraphs"]]
        (corpus_dir / name).write_text(title + "\n\n" + "\n\n".join(paragraphs) + "\n", encoding="utf-8")
        for para in article["paragraphs"]:
            for qa in para["qas"]:
                answers = sorted({a["text"] for a in qa["answers"]})
                questions.append({
                    "question": qa["question"], "source": name,
                    "answers": None if qa.get("is_impossible") or not answers else answers,
                })
    return questions


def evenly_spaced(items: list, n: int) -> list:
    if n >= len(items):
        return list(items)
    step = len(items) / n
    return [items[int(i * step)] for i in range(n)]


def training_record(script: str, arguments: dict) -> dict:
    """The `training` provenance of a model fitted on the SQuAD dev set and sample: the script,
    its arguments, the data's hashes and the day."""
    from askkhorasan.hashing import sha256_file

    return {
        "script": script,
        "arguments": arguments,
        "data": {p.name: sha256_file(p) for p in (FULL, SAMPLE)},
        "fitted": datetime.date.today().isoformat(),
    }
