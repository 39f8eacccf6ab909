"""Where paraphrased *tune* questions go wrong: retrieval, the feature scorer's cut, the answer model's ranking, or refusal.

For every tune question of the paraphrase sets it runs `ask` and records, beside the answer,
where the answering sentence was: the rank of the first retrieved passage that holds an
answer string, the feature scorer's rank of the first sentence that holds one (or whose
next sentence completes it), and the final rank among the sentences the answer model read.
Each wrong answer gets one kind:

  retrieval   no answering sentence among the top passages' sentences
  cut         an answering sentence is there, but the feature scorer put it below the read ones
  ranked      the answer model read it, and something else scored higher
  refused     it scored best, and the question was refused
  quote       it scored best and was quoted, but the quote misses the answer string

Only the tune half is read (the test half is for reporting). `--dump FILE` writes, per
question, every candidate with its text, neighbours and the answer model's logit (all of
them, not only the read ones), so that reading more or other text can be tried offline.

    python bench/diagnose_paraphrase.py [--sets iskp sample mixed] [--dump /tmp/diag.jsonl]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import paraphrase  # noqa: E402

import askkhorasan as ak  # noqa: E402
from askkhorasan import rerank  # noqa: E402
from askkhorasan.embed import shared_embedder  # noqa: E402
from askkhorasan.evaluate import first_hit  # noqa: E402

KINDS = ("right", "retrieval", "cut", "ranked", "refused", "quote")


def holds(text: str, answers: tuple[str, ...]) -> bool:
    return any(a in text for a in answers)


def diagnose(index, q: dict, dump: bool) -> dict:
    answers = tuple(q["answers"]) if q["answers"] else None
    answer = index.ask(q["question"], k=10)
    question, _ = index._question(q["question"])
    gen, table, hits, cands = index.candidates(question, 10)
    sel = index.selection
    texts = [table.text(gen, c.sentence) for c in cands]
    logits = index.answer_model.logits(question, texts) if dump else []

    def neighbour(s: int, step: int) -> str:
        t = s + step
        p = gen.passages[int(table.owner[s])]
        return table.text(gen, t) if p["sent_lo"] <= t < p["sent_hi"] else ""

    row: dict = {"set": q["set"], "question": q["question"], "answers": answers, "found": answer.found,
                 "answer": answer.text, "confidence": answer.confidence}
    if answers is None:
        row["kind"] = "near-refused" if not answer.found else "near-answered"
    else:
        good = [holds(t, answers) or holds(t + " " + neighbour(c.sentence, 1), answers) for c, t in zip(cands, texts)]
        feature_rank = next((i for i, g in enumerate(good) if g), None)
        good_sentence = {c.sentence: g for c, g in zip(cands, good)}
        reread = rerank.read(sel, index.answer_model, question, texts[: sel.read], cands)
        final_rank = next((i for i, c in enumerate(reread) if c.model_logit is not None and good_sentence[c.sentence]), None)
        row.update({
            "passage_rank": first_hit([gen.passages[h.row]["text"] for h in hits], answers),
            "feature_rank": feature_rank, "final_rank": final_rank,
            "correct": bool(answer.found and holds(answer.text, answers)),
        })
        if row["correct"]:
            row["kind"] = "right"
        elif feature_rank is None:
            row["kind"] = "retrieval"
        elif feature_rank >= sel.read:
            row["kind"] = "cut"
        elif final_rank != 0:
            row["kind"] = "ranked"
        elif not answer.found:
            row["kind"] = "refused"
        else:
            row["kind"] = "quote"
    if dump:
        row["candidates"] = [{
            "sentence": int(c.sentence), "passage": int(c.passage), "rank": c.rank, "probability": c.probability,
            "features": [float(x) for x in c.features], "logit": float(z), "text": t,
            "prev": neighbour(c.sentence, -1), "next": neighbour(c.sentence, 1),
            "title": gen.passages[c.passage]["title"],
        } for c, t, z in zip(cands, texts, logits)]
        row["hits"] = [{"row": int(h.row), "score": h.score, "dense": h.dense, "sentence": h.sentence,
                        "lexical": h.lexical, "holds": bool(answers) and holds(gen.passages[h.row]["text"], answers)}
                       for h in hits]
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sets", nargs="+", default=list(paraphrase.SETS))
    ap.add_argument("--dump", type=Path, help="write one JSON line per question, every candidate included")
    ap.add_argument("--work", type=Path, help="keep the indexes here (reused when present)")
    args = ap.parse_args()
    embedder = shared_embedder()
    work = args.work or Path(tempfile.mkdtemp(prefix="askkhorasan-diag-"))
    rows = []
    for name in args.sets:
        corpus, _ = paraphrase.SETS[name]
        index_dir = work / name
        ak.build_index(corpus, index_dir, embedder=embedder)
        index = ak.Index(index_dir, embedder=embedder)
        for q in paraphrase.load(name, "tune"):
            rows.append(diagnose(index, {**q, "set": name}, args.dump is not None))
    for name in [*args.sets, None]:
        group = [r for r in rows if name is None or r["set"] == name]
        kinds = Counter(r["kind"] for r in group)
        order = [*KINDS, "near-refused", "near-answered"]
        print(f"{name or 'ALL':<7} " + "  ".join(f"{k} {kinds[k]}" for k in order))
    if args.dump:
        args.dump.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


if __name__ == "__main__":
    main()
