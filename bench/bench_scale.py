"""FAISS index types at 100k and 1M passages: build time, memory, single-query latency, recall.

Vectors are synthetic but shaped like real ones: real all-MiniLM-L6-v2 sentence
vectors of the SQuAD sample, each copied many times with Gaussian noise and
renormalized, so that the collection keeps the clusters real text has (uniform
random vectors are an unrealistically hard case for approximate search).
Queries are real question vectors. Recall@10 is measured against exact search.

    python bench/bench_scale.py [--sizes 100000 1000000] [--queries 200]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

import faiss
import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
import squad  # noqa: E402

from askkhorasan.embed import shared_embedder  # noqa: E402
from askkhorasan.retrieve import faiss_search  # noqa: E402
from askkhorasan.store import choose_faiss_index, tune_faiss_index  # noqa: E402


def synthetic(base: np.ndarray, n: int, rng: np.random.Generator, noise: float = 0.06) -> np.ndarray:
    out = np.empty((n, base.shape[1]), dtype=np.float32)
    step = 100_000
    for lo in range(0, n, step):
        hi = min(n, lo + step)
        picks = base[rng.integers(0, len(base), hi - lo)]
        v = picks + rng.normal(0, noise, picks.shape).astype(np.float32)
        out[lo:hi] = v / np.linalg.norm(v, axis=1, keepdims=True)
    return out


def rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    embedder = shared_embedder()
    data = json.loads(squad.SAMPLE.read_text())["data"]
    paragraphs = [p["context"] for a in data for p in a["paragraphs"]]
    sentences = [s.strip() + "." for p in paragraphs for s in p.split(". ") if len(s) > 20]
    base = embedder.encode(sentences)
    questions = [qa["question"] for a in data for p in a["paragraphs"] for qa in p["qas"]]
    queries = embedder.encode(squad.evenly_spaced(questions, args.queries))

    print(f"{'passages':>9} {'index':<22} {'build s':>8} {'memory MB':>10} {'p50 ms':>7} {'p95 ms':>7} {'recall@10':>10}")
    for n in args.sizes:
        vectors = synthetic(base, n, rng)
        exact = faiss.IndexFlatIP(vectors.shape[1])
        exact.add(vectors)
        truth = exact.search(queries, 10)[1]
        candidates = [("Flat", exact, 0.0)]
        chosen_index, chosen_type = None, None
        t = time.perf_counter()
        chosen_index, chosen_type = choose_faiss_index(vectors)
        chosen_seconds = time.perf_counter() - t
        if chosen_type != "Flat":
            candidates.append((chosen_type + " (chosen)", chosen_index, chosen_seconds))
        for name, index, seconds in candidates:
            with tempfile.NamedTemporaryFile(suffix=".faiss") as fh:
                faiss.write_index(index, fh.name)
                size_mb = os.path.getsize(fh.name) / 2**20
                before = rss_mb()
                loaded = faiss.read_index(fh.name)
                tune_faiss_index(loaded)
                memory = rss_mb() - before
            lat, found = [], []
            for q in queries:
                t = time.perf_counter()
                _, ids = faiss_search(loaded, q, 10)
                lat.append(time.perf_counter() - t)
                found.append(ids[0])
            recall = float(np.mean([len(set(f) & set(t_)) / 10 for f, t_ in zip(found, truth)]))
            print(f"{n:>9,} {name:<22} {seconds:>8.1f} {max(memory, size_mb):>10.0f} "
                  f"{1000 * statistics.median(lat):>7.2f} {1000 * float(np.percentile(lat, 95)):>7.2f} {recall:>10.3f}")
            del loaded
        del exact, chosen_index, vectors
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
