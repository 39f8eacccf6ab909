"""Fit the answer-sentence scorer's weights (askkhorasan/answer.py: WEIGHTS, BIAS).

Training data: SQuAD 1.1 dev articles *other than* the five of the benchmark
sample, indexed as askkhorasan indexes any corpus. Each sentence of the top
passages for a question is one example; it is positive when it contains one of
the question's answer strings. Prints the fitted weights to paste into
answer.py, and the top-1 accuracy of the fitted scorer against the plain
"most similar sentence" method on held-out training questions.

    python bench/train_answer.py [--questions 3000]
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
from askkhorasan.answer import FEATURES  # noqa: E402


def training_corpus(work: Path) -> tuple[Path, list[dict]]:
    sample_titles = {a["title"] for a in json.loads(squad.SAMPLE.read_text())["data"]}
    full = json.loads(squad.FULL.read_text())
    full["data"] = [a for a in full["data"] if a["title"] not in sample_titles]
    path = work / "squad-train.json"
    path.write_text(json.dumps(full))
    questions = squad.write_corpus(path, work / "corpus")
    return work / "corpus", [q for q in questions if q["answers"]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--questions", type=int, default=3000)
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "askkhorasan-train")
    args = parser.parse_args()
    from sklearn.linear_model import LogisticRegression

    args.work.mkdir(parents=True, exist_ok=True)
    corpus, questions = training_corpus(args.work)
    if not (args.work / "index" / "CURRENT").exists():
        report = ak.build_index(corpus, args.work / "index")
        print(f"built training index: {report.passages} passages in {report.seconds:.0f}s", file=sys.stderr)
    index = ak.Index(args.work / "index")
    chosen = squad.evenly_spaced(questions, args.questions)

    groups = []
    for q in chosen:
        gen, table, hits, cands = index.candidates(q["question"])
        if not cands:
            continue
        texts = [table.text(gen, c.sentence) for c in cands]
        labels = np.array([any(a in t for a in q["answers"]) for t in texts])
        groups.append((np.stack([c.features for c in cands]), labels))
    half = len(groups) // 2
    train, test = groups[:half], groups[half:]
    x = np.concatenate([g[0] for g in train])
    y = np.concatenate([g[1] for g in train])
    model = LogisticRegression(C=1.0, max_iter=2000).fit(x, y)

    def top1(groups, scorer) -> float:
        good = [g[1][int(np.argmax(scorer(g[0])))] for g in groups if g[1].any()]
        return float(np.mean(good))

    weights, bias = model.coef_[0], model.intercept_[0]
    cos = FEATURES.index("cosine")
    print(f"examples: {len(x)} ({int(y.sum())} positive) from {len(train)} questions; held out: {len(test)} questions")
    print(f"held-out top-1 (questions whose answer is in the candidates): "
          f"plain cosine {top1(test, lambda f: f[:, cos]):.3f}, fitted {top1(test, lambda f: f @ weights + bias):.3f}")
    print("WEIGHTS = np.array([" + ", ".join(f"{w:.4f}" for w in weights) + "], dtype=np.float32)")
    print(f"BIAS = {bias:.4f}")
    for name, w in zip(FEATURES, weights):
        print(f"  {name:>18}: {w:+.3f}")


if __name__ == "__main__":
    main()
