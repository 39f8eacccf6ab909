"""Choose FOUND_THRESHOLD (askkhorasan/abstain.py): below it, `ask` says the sources do not answer.

Answerable questions: the seed article's dev questions (bench/data/seed_dev.jsonl)
against the seed corpus, and the SQuAD sample's answerable questions against the
sample's five articles. Unanswerable questions: questions about other SQuAD 1.1
articles (Super Bowl 50, Warsaw, Nikola Tesla, ...), asked of both corpora, which
cannot answer them. The threshold is the highest one that refuses at most
--max-refused of the answerable questions of either corpus.

    python bench/calibrate_abstention.py
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
import squad  # noqa: E402

import askkhorasan as ak  # noqa: E402
from askkhorasan.evaluate import load_questions  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def best_probability(index: ak.Index, question: str) -> float:
    return index.ask(question).confidence


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--max-refused", type=float, default=0.02)
    parser.add_argument("--off-topic", type=int, default=400)
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "askkhorasan-calibrate")
    args = parser.parse_args()

    seed_index_dir = args.work / "seed-index"
    sample_dir = args.work / "sample"
    if not (seed_index_dir / "CURRENT").exists():
        ak.build_index(ROOT / "corpus", seed_index_dir)
    sample_questions = squad.write_corpus(squad.SAMPLE, sample_dir / "corpus")
    if not (sample_dir / "index" / "CURRENT").exists():
        ak.build_index(sample_dir / "corpus", sample_dir / "index")
    seed_index, sample_index = ak.Index(seed_index_dir), ak.Index(sample_dir / "index")

    sample_titles = {a["title"] for a in json.loads(squad.SAMPLE.read_text())["data"]}
    others = [
        qa["question"]
        for a in json.loads(squad.FULL.read_text())["data"] if a["title"] not in sample_titles
        for p in a["paragraphs"] for qa in p["qas"]
    ]
    off_topic = squad.evenly_spaced(others, args.off_topic)

    answerable = {
        "seed": [best_probability(seed_index, q.question) for q in load_questions(ROOT / "bench/data/seed_dev.jsonl") if q.answers],
        "sample": [best_probability(sample_index, q["question"]) for q in squad.evenly_spaced(
            [q for q in sample_questions if q["answers"]], 400)],
    }
    unanswerable = {
        "seed": [best_probability(seed_index, q) for q in off_topic],
        "sample": [best_probability(sample_index, q) for q in off_topic],
    }
    candidates = np.round(np.arange(0.02, 0.8, 0.01), 2)
    chosen = None
    print("threshold  refused answerable (seed, sample)  refused off-topic (seed, sample)")
    for t in candidates:
        ra = [float(np.mean(np.array(v) < t)) for v in answerable.values()]
        ru = [float(np.mean(np.array(v) < t)) for v in unanswerable.values()]
        if max(ra) <= args.max_refused:
            chosen = t
        print(f"  {t:.2f}      {ra[0]:.3f} {ra[1]:.3f}                        {ru[0]:.3f} {ru[1]:.3f}")
    print(f"FOUND_THRESHOLD = {chosen}  (refuses at most {args.max_refused:.0%} of answerable questions in either corpus)")


if __name__ == "__main__":
    main()
