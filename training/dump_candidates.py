"""Run retrieval and the feature scorer on tuning questions and record what the answer model reads.

One JSON line per question: its set, whether it is answerable, the old answerability
features, and for the best candidates (by the feature scorer) their features, the
answer model's logit, their passage's rank and score, and whether they hold an answer
string (alone, and joined with the next sentence). training/fit_selection.py fits the
selection weights and the refusal model from this file. Only the "tune" part of the
paraphrase sets, the seed dev questions and SQuAD dev articles outside the benchmark
sample and the mixed set are used.

    python training/dump_candidates.py --out /tmp/candidates.jsonl
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
from pathlib import Path


ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
import paraphrase  # noqa: E402
import squad  # noqa: E402

import askkhorasan as ak  # noqa: E402
from askkhorasan.abstain import features as abstention_features  # noqa: E402
from askkhorasan.answer_model import AnswerModel, METADATA  # noqa: E402
from askkhorasan.embed import shared_embedder  # noqa: E402

READ = 16  # candidates per question recorded (more than the product reads, to choose how many)
SQUAD_ARTICLES = ["Super_Bowl_50", "Warsaw", "Nikola_Tesla", "Martin_Luther", "Huguenot", "Steam_engine",
                  "Oxygen", "Apollo_program", "Black_Death", "Kenya", "Yuan_dynasty", "Scottish_Parliament"]


def squad_sets(work: Path, per_article: int, seed: int) -> list[tuple[str, Path, list[dict]]]:
    """Answerable questions over whole articles, and near-topic ones over the same articles with
    the paragraphs that answer them removed (the article talks about it, the answer is gone)."""
    full = {a["title"]: a for a in json.loads(squad.FULL.read_text())["data"]}
    rng = random.Random(seed)
    whole, gapped, qs_whole, qs_gapped = [], [], [], []
    for title in SQUAD_ARTICLES:
        a = full[title]
        keep = [i % 2 == 0 for i in range(len(a["paragraphs"]))]
        whole.append(a)
        gapped.append({"title": a["title"], "paragraphs": [p for p, k in zip(a["paragraphs"], keep) if k]})
        qs = [(p, qa) for p in a["paragraphs"] for qa in p["qas"]]
        for p, qa in rng.sample(qs, min(per_article, len(qs))):
            qs_whole.append({"question": qa["question"], "answers": sorted({x["text"] for x in qa["answers"]})})
        removed = [(p, qa) for p, k in zip(a["paragraphs"], keep) if not k for qa in p["qas"]]
        for p, qa in rng.sample(removed, min(per_article // 3, len(removed))):
            answers = {x["text"] for x in qa["answers"]}
            kept_text = " ".join(p2["context"] for p2, k in zip(a["paragraphs"], keep) if k)
            if not any(x in kept_text for x in answers):
                qs_gapped.append({"question": qa["question"], "answers": None})
    out = []
    for name, data, qs in (("squad", whole, qs_whole), ("squad-gapped", gapped, qs_gapped)):
        corpus = work / name
        squad.write_corpus_articles(data, corpus)
        out.append((name, corpus, qs))
    return out


OFFTOPIC_ARTICLES = ["Pharmacy", "Immune_system", "Prime_number", "Doctor_Who", "Rhine", "Geology", "Oxygen", "Force"]


def offtopic_questions(seed: int, per_article: int = 10) -> list[dict]:
    """SQuAD questions about other subjects, asked of the ISKP article: nothing there answers them."""
    full = {a["title"]: a for a in json.loads(squad.FULL.read_text())["data"]}
    rng = random.Random(seed)
    out = []
    for title in OFFTOPIC_ARTICLES:
        qs = [qa["question"] for p in full[title]["paragraphs"] for qa in p["qas"]]
        out.extend({"question": q, "answers": None} for q in rng.sample(qs, per_article))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--model", type=Path, default=METADATA)
    ap.add_argument("--squad-per-article", type=int, default=30)
    ap.add_argument("--seed", type=int, default=5)
    ap.add_argument("--only", nargs="+", help="only these sets (iskp sample mixed seed_dev squad squad-gapped offtopic)")
    args = ap.parse_args()

    embedder = shared_embedder()
    model = AnswerModel(args.model)
    work = Path(tempfile.mkdtemp(prefix="askkhorasan-tune-"))
    sets = [(name, paraphrase.SETS[name][0], paraphrase.load(name, "tune")) for name in paraphrase.SETS]
    sets.append(("seed_dev", ROOT / "corpus",
                 [json.loads(l) for l in (ROOT / "bench/data/seed_dev.jsonl").read_text().splitlines() if l.strip()]))
    sets.extend(squad_sets(work, args.squad_per_article, args.seed))
    sets.append(("offtopic", ROOT / "corpus", offtopic_questions(args.seed)))
    if args.only:
        sets = [s for s in sets if s[0] in args.only]

    with args.out.open("w", encoding="utf-8") as out:
        for name, corpus, questions in sets:
            index_dir = work / f"index-{name}"
            ak.build_index(corpus, index_dir, embedder=embedder)
            index = ak.Index(index_dir, embedder=embedder)
            for q in questions:
                answers = q.get("answers")
                question, _ = index._question(q["question"])
                gen, table, hits, cands = index.candidates(question, 10)
                old = abstention_features(gen, table, question, hits, cands)
                top = cands[:READ]
                texts = [table.text(gen, c.sentence) for c in top]
                logits = model.logits(question, texts)
                rows = []
                for c, text, z in zip(top, texts, logits):
                    nxt = c.sentence + 1
                    p = gen.passages[c.passage]
                    next_text = table.text(gen, nxt) if nxt < p["sent_hi"] else ""
                    rows.append({
                        "sentence": int(c.sentence), "passage": int(c.passage), "rank": c.rank,
                        "features": [round(float(x), 5) for x in c.features], "probability": round(c.probability, 6),
                        "logit": round(float(z), 4), "words": len(text.split()), "next_words": len(next_text.split()),
                        "hit": bool(answers) and any(a in text for a in answers),
                        "hit_next": bool(answers) and bool(next_text) and any(a in text + " " + next_text for a in answers),
                        "question_like": text.rstrip().endswith("?"),
                    })
                passage_hits = [bool(answers) and any(a in gen.passages[h.row]["text"] for a in answers) for h in hits[:10]]
                out.write(json.dumps({
                    "set": name, "question": q["question"], "answerable": answers is not None,
                    "abstain_features": [round(float(x), 5) for x in old], "candidates": rows,
                    "passage_hits": passage_hits, "passage_scores": [round(h.score, 5) for h in hits[:10]],
                    "passage_rows": [int(h.row) for h in hits[:10]],
                }) + "\n")
            print(f"{name}: {len(questions)} questions", flush=True)


if __name__ == "__main__":
    main()
