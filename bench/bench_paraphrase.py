"""askkhorasan on paraphrased questions, beside a plain baseline measured in the same run.

Three sets (bench/data/paraphrase/): the bundled ISKP article; the five SQuAD sample
articles; and a mixed corpus (the ISKP article, four other articles, twenty unrelated
notes). For each set and each part (tune / test) it prints: answer accuracy (the quote
holds an answer string), mean quote length in words, hit@3 (an answering passage in
the top three), share of near-topic unanswerable questions refused, share of answerable
ones refused, and how often an answer given with confidence >= 0.5 is right. The
baseline is reciprocal-rank fusion of BM25 and dense search over paragraphs, answering
with the most similar sentence of its top three paragraphs; it never refuses.

    python bench/bench_paraphrase.py [--sets iskp sample mixed] [--report FILE]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
import paraphrase  # noqa: E402
from bench_squad import PlainBaselines  # noqa: E402

import askkhorasan as ak  # noqa: E402
from askkhorasan.embed import shared_embedder  # noqa: E402
from askkhorasan.evaluate import first_hit  # noqa: E402


def paragraphs_of(corpus: Path) -> list[str]:
    out = []
    for f in sorted(corpus.rglob("*")):
        if f.is_file():
            text = ak.document_text(f)
            out.extend(p.strip() for p in text.split("\n\n") if len(p.split()) >= 5)
    return out


def figures(rows: list[dict]) -> dict:
    ans = [r for r in rows if r["expected"] is not None]
    una = [r for r in rows if r["expected"] is None]
    given = [r for r in rows if r["found"]]
    sure = [r for r in given if r["confidence"] >= 0.5]
    return {
        "answerable": len(ans),
        "accuracy": np.mean([bool(r["correct"]) for r in ans]) if ans else float("nan"),
        "words": np.mean([len(r["answer"].split()) for r in given]) if given else float("nan"),
        "hit@3": np.mean([r["rank"] is not None and r["rank"] < 3 for r in ans]) if ans else float("nan"),
        "near_topic": len(una),
        "near_refused": np.mean([not r["found"] for r in una]) if una else float("nan"),
        "ans_refused": np.mean([not r["found"] for r in ans]) if ans else float("nan"),
        "sure": len(sure),
        "sure_right": np.mean([bool(r["correct"]) for r in sure]) if sure else float("nan"),
    }


def run_set(name: str, work: Path, embedder) -> list[dict]:
    corpus, _ = paraphrase.SETS[name]
    index_dir = work / name
    ak.build_index(corpus, index_dir, embedder=embedder)
    index = ak.Index(index_dir, embedder=embedder)
    base = PlainBaselines(paragraphs_of(corpus), embedder)
    rows = []
    questions = paraphrase.load(name)
    qvecs = embedder.encode([q["question"] for q in questions])
    for q, qv in zip(questions, qvecs):
        expected = tuple(q["answers"]) if q["answers"] else None
        answer = index.ask(q["question"], k=10)
        ranking = base.rank_fusion(q["question"], qv, 10)
        plain_quote = base.answer(qv, ranking)
        row = {
            "set": name, "part": q["part"], "question": q["question"], "expected": expected,
            "found": answer.found, "answer": answer.text, "confidence": answer.confidence,
            "correct": None if expected is None else bool(answer.found and any(a in answer.text for a in expected)),
            "rank": None if expected is None else first_hit([p.text for p in answer.passages], expected),
        }
        base_row = {
            "found": True, "answer": plain_quote, "confidence": 0.0, "expected": expected,
            "correct": None if expected is None else any(a in plain_quote for a in expected),
            "rank": None if expected is None else first_hit([base.paragraphs[d] for d in ranking], expected),
        }
        row["baseline"] = base_row
        rows.append(row)
    return rows


def print_table(rows: list[dict]) -> None:
    head = (f"{'set':<8} {'part':<5} {'method':<11} {'n':>4} {'answer':>7} {'words':>6} {'hit@3':>6} "
            f"{'near':>5} {'near refused':>13} {'ans refused':>12} {'conf>=.5 right':>15}")
    print(head)
    groups = {}
    for r in rows:
        groups.setdefault((r["set"], r["part"]), []).append(r)
    for part in ("tune", "test"):
        for name in paraphrase.SETS:
            group = groups.get((name, part))
            if not group:
                continue
            for method, rs in (("RRF plain", [r["baseline"] for r in group]), ("askkhorasan", group)):
                f = figures(rs)
                sure = f"{f['sure_right']:.3f} ({f['sure']})" if f["sure"] else "—"
                print(f"{name:<8} {part:<5} {method:<11} {f['answerable']:>4} {f['accuracy']:>7.3f} {f['words']:>6.1f} "
                      f"{f['hit@3']:>6.3f} {f['near_topic']:>5} {f['near_refused']:>13.3f} {f['ans_refused']:>12.3f} {sure:>15}")
        allp = [r for r in rows if r["part"] == part]
        if allp:
            for method, rs in (("RRF plain", [r["baseline"] for r in allp]), ("askkhorasan", allp)):
                f = figures(rs)
                sure = f"{f['sure_right']:.3f} ({f['sure']})" if f["sure"] else "—"
                print(f"{'ALL':<8} {part:<5} {method:<11} {f['answerable']:>4} {f['accuracy']:>7.3f} {f['words']:>6.1f} "
                      f"{f['hit@3']:>6.3f} {f['near_topic']:>5} {f['near_refused']:>13.3f} {f['ans_refused']:>12.3f} {sure:>15}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sets", nargs="+", default=list(paraphrase.SETS))
    ap.add_argument("--report", type=Path, help="write one JSON line per question here")
    args = ap.parse_args()
    embedder = shared_embedder()
    work = Path(tempfile.mkdtemp(prefix="askkhorasan-para-"))
    rows = []
    for name in args.sets:
        rows.extend(run_set(name, work, embedder))
    print_table(rows)
    if args.report:
        args.report.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


if __name__ == "__main__":
    main()
