"""askkhorasan against plain baselines on the SQuAD sample, all measured in one run.

Each of the five articles is one source document. For evenly spaced answerable
questions it prints hit@1, hit@5, MRR@10 and answer accuracy for:
  - BM25 only (bm25s, stemmed) over paragraphs,
  - dense only (FAISS flat, cosine) over paragraphs,
  - reciprocal-rank fusion of both,
each answering with the plain method (the best-cosine sentence of its top three
paragraphs), and askkhorasan's own `search` and `ask`. Then the timings: build
against raw `model.encode` of the same passage texts, and `search` / `ask`
latency against one raw `model.encode` of the query.

    python bench/bench_squad.py [--questions 400] [--data squad.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import bm25s
import faiss
import numpy as np
import Stemmer

sys.path.insert(0, str(Path(__file__).parent))
import squad  # noqa: E402

import askkhorasan as ak  # noqa: E402
from askkhorasan.embed import shared_embedder  # noqa: E402
from askkhorasan.evaluate import RetrievalScores, first_hit  # noqa: E402
from askkhorasan.sentences import sentence_spans  # noqa: E402


class PlainBaselines:
    """Paragraph chunks, all-MiniLM-L6-v2 and bm25s, with nothing added."""

    def __init__(self, paragraphs: list[str], embedder):
        self.paragraphs = paragraphs
        self.embedder = embedder
        self.stemmer = Stemmer.Stemmer("english")
        self.bm25 = bm25s.BM25()
        self.bm25.index(bm25s.tokenize(paragraphs, stemmer=self.stemmer, show_progress=False), show_progress=False)
        vectors = embedder.encode(paragraphs)
        self.faiss = faiss.IndexFlatIP(vectors.shape[1])
        self.faiss.add(vectors)
        self.sentences = []
        for p in paragraphs:
            self.sentences.append([p[s:e] for s, e in sentence_spans(p)])
        flat = [s for ss in self.sentences for s in ss]
        self.sentence_vectors = embedder.encode(flat)
        self.offsets = np.cumsum([0] + [len(ss) for ss in self.sentences])

    def rank_bm25(self, q: str, k: int) -> list[int]:
        k = min(k, len(self.paragraphs))
        docs, _ = self.bm25.retrieve(bm25s.tokenize([q], stemmer=self.stemmer, show_progress=False), k=k, show_progress=False)
        return [int(d) for d in docs[0]]

    def rank_dense(self, qv: np.ndarray, k: int) -> list[int]:
        k = min(k, len(self.paragraphs))
        return [int(i) for i in self.faiss.search(qv.reshape(1, -1), k)[1][0]]

    def rank_fusion(self, q: str, qv: np.ndarray, k: int, depth: int = 50) -> list[int]:
        scores: dict[int, float] = {}
        for ranking in (self.rank_bm25(q, depth), self.rank_dense(qv, depth)):
            for r, d in enumerate(ranking):
                scores[d] = scores.get(d, 0.0) + 1 / (60 + r + 1)
        return sorted(scores, key=lambda d: -scores[d])[:k]

    def answer(self, qv: np.ndarray, ranking: list[int]) -> str:
        best, text = -2.0, ""
        for d in ranking[:3]:
            lo, hi = self.offsets[d], self.offsets[d + 1]
            sims = self.sentence_vectors[lo:hi] @ qv
            if sims.size and float(sims.max()) > best:
                best, text = float(sims.max()), self.sentences[d][int(sims.argmax())]
        return text


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.array(values), q))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--questions", type=int, default=400, help="evenly spaced answerable questions (0: all)")
    parser.add_argument("--data", type=Path, default=squad.SAMPLE)
    parser.add_argument("--latency-queries", type=int, default=200)
    parser.add_argument("--unanswerable", type=int, default=400,
                        help="evenly spaced SQuAD 2.0 impossible questions to ask (0: none; the sample has 702)")
    args = parser.parse_args()

    embedder = shared_embedder()
    work = Path(tempfile.mkdtemp(prefix="askkhorasan-bench-"))
    all_questions = squad.write_corpus(args.data, work / "corpus")
    questions = [q for q in all_questions if q["answers"]]
    impossible = squad.evenly_spaced([q for q in all_questions if not q["answers"]], args.unanswerable) if args.unanswerable else []
    if args.questions:
        questions = squad.evenly_spaced(questions, args.questions)
    data = json.loads(args.data.read_text())["data"]
    paragraphs = [p["context"].strip() for a in data for p in a["paragraphs"]]

    # Build: end to end against encoding the same passage texts alone.
    embedder.encode(["warm up"] * 8)
    report = ak.build_index(work / "corpus", work / "index", embedder=embedder)
    index = ak.Index(work / "index", embedder=embedder)
    texts = [p["text"] for p in index.generation.passages]
    t = time.perf_counter()
    embedder.encode(texts)
    encode_seconds = time.perf_counter() - t

    baselines = PlainBaselines(paragraphs, embedder)
    methods = {name: (RetrievalScores(), []) for name in ("BM25", "dense", "RRF fusion", "askkhorasan")}
    words = {name: [] for name in methods}
    given: list[tuple[float, bool]] = []  # (confidence, right) of every answer askkhorasan gave
    qvecs = embedder.encode([q["question"] for q in questions])
    for q, qv in zip(questions, qvecs):
        answers = tuple(q["answers"])
        for name, ranking in (
            ("BM25", baselines.rank_bm25(q["question"], 10)),
            ("dense", baselines.rank_dense(qv, 10)),
            ("RRF fusion", baselines.rank_fusion(q["question"], qv, 10)),
        ):
            methods[name][0].add(first_hit([paragraphs[d] for d in ranking], answers))
            quote = baselines.answer(qv, ranking)
            methods[name][1].append(any(a in quote for a in answers))
            words[name].append(len(quote.split()))
        answer = index.ask(q["question"], k=10)
        methods["askkhorasan"][0].add(first_hit([p.text for p in answer.passages], answers))
        right = answer.found and any(a in answer.text for a in answers)
        methods["askkhorasan"][1].append(right)
        if answer.found:
            words["askkhorasan"].append(len(answer.text.split()))
            given.append((answer.confidence, right))
    refused_answerable = 1 - len(given) / max(1, len(questions))
    refused_impossible = []
    for q in impossible:
        answer = index.ask(q["question"], k=10)
        refused_impossible.append(not answer.found)
        if answer.found:
            given.append((answer.confidence, False))

    print(f"SQuAD: {args.data.name}, {len(questions)} answerable questions, {len(paragraphs)} paragraphs, "
          f"{report.passages} askkhorasan passages")
    print(f"{'method':<14} {'hit@1':>6} {'hit@5':>6} {'MRR@10':>7} {'answer accuracy':>16} {'quote words':>12}")
    for name, (scores, correct) in methods.items():
        s = scores.summary()
        print(f"{name:<14} {s['hit@1']:>6.3f} {s['hit@5']:>6.3f} {s['mrr@10']:>7.3f} {np.mean(correct):>16.3f} "
              f"{np.mean(words[name]):>12.1f}")
    print(f"refusals: {refused_answerable:.3f} of answerable questions; "
          + (f"{np.mean(refused_impossible):.3f} of {len(impossible)} unanswerable (SQuAD 2.0 impossible) questions"
             if impossible else "no unanswerable questions asked"))
    sure = [right for c, right in given if c >= 0.5]
    print(f"answers given with confidence >= 0.5: {len(sure)}, right {np.mean(sure) if sure else float('nan'):.3f} "
          f"(unanswerable questions answered count as wrong)")

    # Latency on a warm index, interleaved so that machine noise hits all three alike.
    lat = {"model.encode": [], "search": [], "ask": []}
    sample = squad.evenly_spaced(questions, args.latency_queries)
    for q in sample[:10]:
        index.ask(q["question"])
    for q in sample:
        t0 = time.perf_counter()
        embedder.encode_query(q["question"])
        t1 = time.perf_counter()
        index.search(q["question"], k=5)
        t2 = time.perf_counter()
        index.ask(q["question"])
        t3 = time.perf_counter()
        lat["model.encode"].append(t1 - t0)
        lat["search"].append(t2 - t1)
        lat["ask"].append(t3 - t2)
    base = statistics.median(lat["model.encode"])
    print(f"latency over {len(sample)} questions (p50 / p95 ms, p50 ratio to raw model.encode):")
    for name, values in lat.items():
        print(f"  {name:<13} {1000 * percentile(values, 50):6.2f} / {1000 * percentile(values, 95):6.2f}"
              f"   x{statistics.median(values) / base:.2f}")
    print(f"build: {report.seconds:.1f}s end to end ({report.passages} passages, sentence vectors included); "
          f"model.encode of the passage texts alone {encode_seconds:.1f}s; ratio x{report.seconds / encode_seconds:.2f}")


if __name__ == "__main__":
    main()
