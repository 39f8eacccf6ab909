"""Fit how the answer model's reading is used (models/answer_selection.json) from tuning questions.

Reads the file training/dump_candidates.py wrote and chooses, on tuning questions only:
  - how many candidates the answer model reads, and the weights that combine its logit
    with the feature scorer's (logistic regression over read candidates: "holds an answer"),
  - when the next sentence joins the quote (accuracy against mean quote length),
  - the confidence model (logistic regression: "the quote is right", with near-topic
    questions the sources do not answer as wrong), and the refusal threshold: the highest
    that refuses at most --max-refused of answerable tuning questions.

    python training/fit_selection.py /tmp/candidates.jsonl [--write]
"""

from __future__ import annotations

import argparse
import datetime
import json
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression

from askkhorasan import abstain
from askkhorasan.abstain import answerable_probability
from askkhorasan.answer import SCORER
from askkhorasan.linear_model import dependency_sha256
from askkhorasan.answer_model import METADATA
from askkhorasan.rerank import SELECTION, Selection, confidence_features
from askkhorasan.answer import Candidate
from askkhorasan.hashing import sha256_file

CONF_FEATURES = ("model_logit", "feature_logit", "margin", "feature_answerable")
PARAPHRASE_SETS = ("iskp", "sample", "mixed")


def candidates_of(q: dict, read: int, sel: Selection | None) -> list[Candidate]:
    out = []
    for i, c in enumerate(q["candidates"]):
        z = c["logit"] if i < read else None
        score = sel.score(z, c["probability"]) if (sel and z is not None) else (-1e9 + c["probability"])
        out.append(Candidate(c["sentence"], c["passage"], c["rank"], np.array(c["features"]), c["probability"], z, score))
    return out


def quote(q: dict, cands: list[Candidate], next_margin: float) -> tuple[bool, int]:
    """(quote holds an answer, words) for the best candidate and maybe its next sentence."""
    by_sentence = {c["sentence"]: c for c in q["candidates"]}
    best = cands[0]
    row = by_sentence[best.sentence]
    nxt = next((c for c in cands if c.sentence == best.sentence + 1 and c.model_logit is not None), None)
    if nxt is not None and nxt.score >= best.score - next_margin and row["next_words"]:
        return row["hit_next"], row["words"] + row["next_words"]
    return row["hit"], row["words"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dump", type=Path, nargs="+")
    ap.add_argument("--max-refused", type=float, default=0.04, help="in any one set")
    ap.add_argument("--max-words", type=float, default=32.0, help="mean quote length the next-sentence rule may reach")
    ap.add_argument("--curve", action="store_true",
                    help="also print the refusal trade-off (paraphrase tune sets) at other thresholds and floors")
    ap.add_argument("--write", action="store_true")
    args = ap.parse_args()

    qs = [json.loads(l) for d in args.dump for l in d.read_text().splitlines() if l.strip()]
    for q in qs:
        q["feature_answerable"] = answerable_probability(np.array(q["abstain_features"], dtype=np.float32))
    answerable = [q for q in qs if q["answerable"]]
    print(f"{len(qs)} questions, {len(answerable)} answerable; sets: "
          + ", ".join(f"{s}={sum(q['set'] == s for q in qs)}" for s in dict.fromkeys(q["set"] for q in qs)))

    # 1. How many candidates to read, and the answer model's weight beside the feature scorer's
    # logit. Every set counts alike, so the many SQuAD questions do not outvote paraphrases.
    sets_answerable = {}
    for q in answerable:
        sets_answerable.setdefault(q["set"], []).append(q)
    best_choice = None
    for read in (4, 6, 8, 12):
        for weight in (0.5, 1.0, 1.5, 2.0, 3.0):
            sel = Selection(read, (weight, 1.0), 0.0, -1e9, 1.0, CONF_FEATURES, (0.0,) * 4, 0.0, 0.5, "")
            per_set = {name: np.mean([quote(q, sorted(candidates_of(q, read, sel), key=lambda c: -c.score), -1e9)[0]
                                      for q in group]) for name, group in sets_answerable.items()}
            acc = float(np.mean(list(per_set.values())))
            print(f"read {read:>2}, model weight {weight}: top-1 by set {({k: round(v, 3) for k, v in per_set.items()})}, mean {acc:.3f}")
            if best_choice is None or acc > best_choice[0] + 0.003:
                best_choice = (acc, read, sel)
    _, read, sel = best_choice
    feature_only = {name: round(float(np.mean([q["candidates"][0]["hit"] for q in group if q["candidates"]])), 3)
                    for name, group in sets_answerable.items()}
    print(f"chosen: read {read}, weights {sel.weights}; the feature scorer alone: {feature_only}")

    # 2. The next-sentence rule.
    chosen_margin = -1e9
    for margin in (-1e9, 0.0, 0.5, 1.0, 1.5, 2.0, 3.0):
        res = [quote(q, sorted(candidates_of(q, read, sel), key=lambda c: -c.score), margin) for q in answerable]
        acc, words = np.mean([r[0] for r in res]), np.mean([r[1] for r in res])
        print(f"next sentence within {margin:>6}: accuracy {acc:.3f}, mean words {words:.1f}")
        if words <= args.max_words:
            chosen_margin = margin
    sel = Selection(**{**sel.__dict__, "next_margin": chosen_margin})

    # 3. Confidence and the refusal threshold.
    X, y, is_ans, sets = [], [], [], []
    for q in qs:
        cands = sorted(candidates_of(q, read, sel), key=lambda c: -c.score)
        f = confidence_features(cands, q["feature_answerable"])
        X.append([f[n] for n in CONF_FEATURES])
        right = q["answerable"] and bool(cands) and quote(q, cands, sel.next_margin)[0]
        y.append(right)
        is_ans.append(q["answerable"])
        sets.append(q["set"])
    X, y, is_ans = np.array(X), np.array(y), np.array(is_ans)
    conf = LogisticRegression(C=1.0).fit(X, y)
    p = conf.predict_proba(X)[:, 1]
    from sklearn.metrics import roc_auc_score
    print(f"confidence model: weights {dict(zip(CONF_FEATURES, conf.coef_[0].round(3)))}, bias {conf.intercept_[0]:.3f}; "
          f"AUC right-vs-not {roc_auc_score(y, p):.3f}; answerable-vs-not {roc_auc_score(is_ans, p):.3f}")
    # The floors, then the confidence threshold: refuse as many unanswerable tuning questions as
    # possible while refusing at most --max-refused of the answerable ones.
    fa = np.array([q["feature_answerable"] for q in qs])
    set_arr = np.array(sets)
    top_logit = np.array([max([c["logit"] for c in q["candidates"][:read]] or [-10.0]) for q in qs])

    def answered(min_answerable: float, min_logit: float, threshold: float) -> np.ndarray:
        """Which questions pass both floors and the confidence threshold (rerank.answers)."""
        return (fa >= min_answerable) & (top_logit >= min_logit) & (p >= threshold)

    best_rule = None
    for u in (0.0, 0.002, 0.005, 0.01, 0.02):
        for m in (-1e9, -4.0, -3.5, -3.0, -2.5):
            for t in (0.0, 0.05, 0.1, 0.15, 0.2):
                found = answered(u, m, t)
                # Every set counts alike, and none may lose more than --max-refused of its answerable questions.
                refused_ans = max(np.mean(~found[is_ans & (set_arr == s)]) for s in set(sets) if (is_ans & (set_arr == s)).any())
                refused_una = np.mean([np.mean(~found[~is_ans & (set_arr == s)]) for s in set(sets) if (~is_ans & (set_arr == s)).any()])
                if refused_ans <= args.max_refused and (best_rule is None or refused_una > best_rule[0] + 1e-9):
                    best_rule = (refused_una, u, m, t)
    _, min_fa, min_logit, threshold = best_rule
    found = answered(min_fa, min_logit, threshold)
    print(f"refuse below: answerability {min_fa}, answer-model logit {min_logit}, confidence {threshold}: "
          f"refuses {np.mean(~found[is_ans]):.3f} of answerable, {np.mean(~found[~is_ans]):.3f} of unanswerable")
    for s in dict.fromkeys(sets):
        m = np.array([x == s for x in sets])
        a, u = m & is_ans, m & ~is_ans
        sure = m & (p >= 0.5) & found
        print(f"  {s:<13} answerable refused {np.mean(~found[a]) if a.any() else float('nan'):.3f}  "
              f"unanswerable refused {np.mean(~found[u]) if u.any() else float('nan'):.3f}  "
              f"conf>=.5 right {np.mean(y[sure]) if sure.any() else float('nan'):.3f} ({sure.sum()})")
    sure = (p >= 0.5) & found
    print(f"all: confidence >= 0.5 right {np.mean(y[sure]):.3f} of {sure.sum()}")
    if args.curve:
        # To compare answer models at equal refusal of answerable paraphrases (before the fact-kind rule).
        para = np.isin(set_arr, list(PARAPHRASE_SETS))
        print("threshold  floor  | paraphrase answer  answerable refused | near-topic refused  squad-gapped  offtopic")
        for m in (-1e9, -3.0, -2.5, -2.0):
            for t in (0.0, 0.1, 0.2, 0.3, 0.4, 0.5):
                f = answered(min_fa, m, t)
                print(f"{t:>9.2f} {max(m, -99):>6.1f}  | {np.mean(y[para & is_ans] & f[para & is_ans]):>17.3f} "
                      f"{np.mean(~f[para & is_ans]):>19.3f} | {np.mean(~f[para & ~is_ans]):>18.3f} "
                      f"{np.mean(~f[set_arr == 'squad-gapped']):>13.3f} {np.mean(~f[set_arr == 'offtopic']):>9.3f}")

    sel = Selection(**{**sel.__dict__, "confidence_features": CONF_FEATURES,
                       "confidence_weights": tuple(float(w) for w in conf.coef_[0]),
                       "confidence_bias": float(conf.intercept_[0]), "found_threshold": threshold,
                       "min_feature_answerable": min_fa, "min_model_logit": min_logit,
                       "answer_model_sha256": json.loads(METADATA.read_text())["weights_sha256"]})
    if args.write:
        data = {
            "format": 1,
            "selection": {k: list(v) if isinstance(v, tuple) else v for k, v in sel.__dict__.items()},
            "provenance": {
                "script": "training/fit_selection.py", "arguments": {k: str(v) for k, v in vars(args).items()},
                "data_sha256": [sha256_file(d) for d in args.dump], "questions": len(qs), "answerable": len(answerable),
                "depends_on": {name: dependency_sha256(name)
                               for name in (METADATA.name, SCORER, abstain.MODEL)},
                "fitted": datetime.date.today().isoformat(),
            },
        }
        SELECTION.write_text(json.dumps(data, indent=2) + "\n")
        print(f"wrote {SELECTION}")


if __name__ == "__main__":
    main()
