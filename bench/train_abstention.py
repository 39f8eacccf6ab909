"""Fit the answerability model (src/askkhorasan/models/answerability.json).

Corpus: the SQuAD 1.1 dev articles outside the benchmark sample, each with only
its even-numbered paragraphs kept. Answerable: questions about kept paragraphs.
Unanswerable, near-topic: questions about removed paragraphs whose answer
string appears nowhere in the kept text of their article. Unanswerable,
off-topic: questions about the five sample articles, which are not in this
corpus. Prints held-out AUC and refusal rates at a few thresholds for the fitted
model and the shipped one; `--write` writes the fitted model with its provenance.
Its first feature is the answer scorer's logit, so it depends on
models/feature_scorer.json (bench/train_answer.py), and training/fit_selection.py
uses its output: refit the selection after it.

    python bench/train_abstention.py [--per-group 1200] [--write]
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
from askkhorasan import abstain, linear_model  # noqa: E402
from askkhorasan.answer import SCORER  # noqa: E402


def gapped_corpus(work: Path) -> tuple[Path, dict[str, list[str]]]:
    sample = json.loads(squad.SAMPLE.read_text())["data"]
    sample_titles = {a["title"] for a in sample}
    corpus = work / "corpus"
    corpus.mkdir(parents=True, exist_ok=True)
    groups: dict[str, list[str]] = {"answerable": [], "near-topic": [], "off-topic": []}
    for article in json.loads(squad.FULL.read_text())["data"]:
        if article["title"] in sample_titles:
            continue
        kept = [p for i, p in enumerate(article["paragraphs"]) if i % 2 == 0]
        removed = [p for i, p in enumerate(article["paragraphs"]) if i % 2 == 1]
        title = article["title"].replace("_", " ")
        text = "\n\n".join(p["context"].strip() for p in kept)
        (corpus / squad.article_filename(title)).write_text(title + "\n\n" + text + "\n", encoding="utf-8")
        groups["answerable"] += [qa["question"] for p in kept for qa in p["qas"]]
        groups["near-topic"] += [
            qa["question"] for p in removed for qa in p["qas"]
            if not any(a["text"] in text for a in qa["answers"])
        ]
    groups["off-topic"] = [qa["question"] for a in sample for p in a["paragraphs"] for qa in p["qas"]]
    return corpus, groups


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--per-group", type=int, default=1200)
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "askkhorasan-abstain")
    parser.add_argument("--write", action="store_true", help=f"write the fitted model to models/{abstain.MODEL}")
    args = parser.parse_args()
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score

    corpus, groups = gapped_corpus(args.work)
    if not (args.work / "index" / "CURRENT").exists():
        ak.build_index(corpus, args.work / "index")
    index = ak.Index(args.work / "index")

    rows, labels, kinds = [], [], []
    for kind, questions in groups.items():
        for q in squad.evenly_spaced(questions, args.per_group):
            gen, table, hits, cands = index.candidates(q)
            rows.append(abstain.features(gen, table, q, hits, cands))
            labels.append(kind == "answerable")
            kinds.append(kind)
    x, y, kinds = np.stack(rows), np.array(labels), np.array(kinds)
    order = np.random.default_rng(0).permutation(len(y))
    train, test = order[: len(y) // 2], order[len(y) // 2 :]
    model = LogisticRegression(max_iter=2000).fit(x[train], y[train])
    # The model as it would be written (four decimals), so the figures are the shipped file's.
    weights, bias = np.round(model.coef_[0], 4).astype(np.float32), round(float(model.intercept_[0]), 4)
    shipped = abstain.answerability_model()
    p = 1 / (1 + np.exp(-(x[test] @ weights + bias)))
    p_shipped = 1 / (1 + np.exp(-(x[test] @ shipped.weights + shipped.bias)))
    base = 1 / (1 + np.exp(-x[test][:, 0]))
    metrics = {
        "examples": {k: int(np.sum(kinds == k)) for k in groups}, "held_out": int(len(test)),
        "held_out_auc": round(float(roc_auc_score(y[test], p)), 4),
        "held_out_auc_best_sentence_alone": round(float(roc_auc_score(y[test], base)), 4),
        "held_out_refused_at": {},
    }
    print(f"held-out AUC: answerability model {metrics['held_out_auc']:.3f} (shipped "
          f"{roc_auc_score(y[test], p_shipped):.3f}), best-sentence probability alone {metrics['held_out_auc_best_sentence_alone']:.3f}")
    for t in (0.2, 0.3, 0.4, 0.5):
        rates = {k: round(float(np.mean(p[kinds[test] == k] < t)), 4) for k in groups}
        metrics["held_out_refused_at"][f"{t:.1f}"] = rates
        print(f"  threshold {t:.1f}: refused " + ", ".join(f"{k} {v:.3f}" for k, v in rates.items()))
    for name, w, old in zip(abstain.FEATURES, weights, shipped.weights):
        print(f"  {name:>15}: {w:+.4f}  (shipped {old:+.4f})")
    print(f"  {'bias':>15}: {bias:+.4f}  (shipped {shipped.bias:+.4f})")
    if args.write:
        path = linear_model.write(
            abstain.MODEL, features=abstain.FEATURES, weights=weights, bias=bias, metrics=metrics,
            depends_on=(SCORER,),
            training=squad.training_record("bench/train_abstention.py", {"per_group": args.per_group}),
        )
        print(f"wrote {path}; refit training/fit_selection.py, which uses it")

if __name__ == "__main__":
    main()
