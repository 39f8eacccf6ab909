"""Fit the answer-sentence scorer (src/askkhorasan/models/feature_scorer.json).

Training data: SQuAD 1.1 dev articles *other than* the five of the benchmark
sample, indexed as askkhorasan indexes any corpus. Each sentence of the top
passages for a question is one example; it is positive when it contains one of
the question's answer strings. Prints the top-1 accuracy, on held-out training
questions, of the fitted scorer, the shipped one and the plain "most similar
sentence" method; `--write` writes the fitted scorer with its provenance.
The answerability model (bench/train_abstention.py) and the answer selection
(training/fit_selection.py) use this scorer's output: refit them after it.

    python bench/train_answer.py [--questions 3000] [--write]
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
from askkhorasan import linear_model  # noqa: E402
from askkhorasan.answer import FEATURES, SCORER, feature_scorer  # noqa: E402


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
    parser.add_argument("--write", action="store_true", help=f"write the fitted scorer to models/{SCORER}")
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

    # The scorer as it would be written (four decimals), so the figures are the shipped file's.
    weights, bias = np.round(model.coef_[0], 4).astype(np.float32), round(float(model.intercept_[0]), 4)
    shipped = feature_scorer()
    cos = FEATURES.index("cosine")
    metrics = {
        "examples": int(len(x)), "positive": int(y.sum()), "train_questions": len(train), "held_out_questions": len(test),
        "held_out_top1": {
            "model": round(top1(test, lambda f: f @ weights + bias), 4),
            "plain_cosine": round(top1(test, lambda f: f[:, cos]), 4),
        },
    }
    print(f"examples: {len(x)} ({int(y.sum())} positive) from {len(train)} questions; held out: {len(test)} questions")
    print(f"held-out top-1 (questions whose answer is in the candidates): plain cosine "
          f"{metrics['held_out_top1']['plain_cosine']:.3f}, fitted {metrics['held_out_top1']['model']:.3f}, "
          f"shipped {top1(test, lambda f: f @ shipped.weights + shipped.bias):.3f}")
    for name, w, old in zip(FEATURES, weights, shipped.weights):
        print(f"  {name:>18}: {w:+.4f}  (shipped {old:+.4f})")
    print(f"  {'bias':>18}: {bias:+.4f}  (shipped {shipped.bias:+.4f})")
    if args.write:
        path = linear_model.write(
            SCORER, features=FEATURES, weights=weights, bias=bias, metrics=metrics,
            training=squad.training_record("bench/train_answer.py", {"questions": args.questions}),
        )
        print(f"wrote {path}; refit bench/train_abstention.py and training/fit_selection.py, which use it")

if __name__ == "__main__":
    main()
