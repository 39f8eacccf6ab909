"""The real pipeline at scale, index folder against Milvus Lite: build, memory after load, search and ask latency.

Passages are real SQuAD 1.1 train paragraphs (../shared/bench/squad-v1.1-train.json.gz,
18,896 of them), one source file per article; questions are the train questions of those
paragraphs. Both stores index the same corpus with the same model. Sentence vectors are
embedded once and cached (~/.cache/askkhorasan/bench), so the build times below are the
stores' own work: reading, chunking, BM25, writing; embedding is timed on its own.
Memory and latency are measured in a fresh process per store, with the model loaded first,
so "index RSS" is what opening the index adds. The folder is the baseline each ratio is against.

    python bench/bench_scale_stores.py [--passages 10000] [--questions 100]
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
import squad  # noqa: E402

TRAIN = squad.SHARED_BENCH / "squad-v1.1-train.json.gz"
CACHE = Path.home() / ".cache" / "askkhorasan" / "bench"


class CachedEmbedder:
    """The real embedder, remembering sentence vectors across builds and runs."""

    def __init__(self, inner, path: Path):
        self.inner, self.path = inner, path
        self.seconds = 0.0
        self.vectors: dict[str, np.ndarray] = {}
        if path.with_suffix(".npy").exists():
            texts = json.loads(path.with_suffix(".json").read_text())
            self.vectors = dict(zip(texts, np.load(path.with_suffix(".npy"))))

    def encode(self, texts, progress=None):
        missing = list(dict.fromkeys(t for t in texts if t not in self.vectors))
        if missing:
            t = time.perf_counter()
            self.vectors.update(zip(missing, self.inner.encode(missing, progress=progress)))
            self.seconds += time.perf_counter() - t
            self.path.parent.mkdir(parents=True, exist_ok=True)
            keys = list(self.vectors)
            self.path.with_suffix(".json").write_text(json.dumps(keys))
            np.save(self.path.with_suffix(".npy"), np.stack([self.vectors[k] for k in keys]))
        return np.stack([self.vectors[t] for t in texts]) if texts else np.zeros((0, 384), np.float32)

    def __getattr__(self, name):
        return getattr(self.inner, name)


def corpus(n: int, folder: Path) -> list[str]:
    """The first `n` train paragraphs, one file per article; their questions."""
    data = json.loads(gzip.open(TRAIN).read())["data"]
    folder.mkdir(parents=True)
    questions, taken = [], 0
    for article in data:
        paragraphs = article["paragraphs"][: n - taken]
        if not paragraphs:
            break
        title = article["title"].replace("_", " ")
        text = title + "\n\n" + "\n\n".join(p["context"].strip() for p in paragraphs) + "\n"
        (folder / squad.article_filename(title)).write_text(text, encoding="utf-8")
        questions += [qa["question"] for p in paragraphs for qa in p["qas"]]
        taken += len(paragraphs)
    return questions


PROBE = r"""
import json, os, statistics, sys, time
def rss():
    return int(open("/proc/self/statm").read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
from askkhorasan import Index
from askkhorasan.embed import shared_embedder
embedder = shared_embedder()
embedder.encode_query("warm up")
before = rss()
t = time.perf_counter()
index = Index(sys.argv[1], embedder=embedder)
load = time.perf_counter() - t
after = rss()
questions = json.loads(sys.argv[2])
index.ask(questions[0])
def timed(f):
    out = []
    for q in questions:
        t = time.perf_counter(); f(q); out.append(1000 * (time.perf_counter() - t))
    out.sort()
    return out[len(out) // 2], out[int(len(out) * 0.95) - 1]
s50, s95 = timed(lambda q: index.search(q, 5))
a50, a95 = timed(lambda q: index.ask(q))
print(json.dumps({"load_s": load, "rss_model_mb": before, "rss_index_mb": after - before, "rss_after_mb": rss(),
                  "search_p50": s50, "search_p95": s95, "ask_p50": a50, "ask_p95": a95}))
"""


def probe(location: str, questions: list[str]) -> dict:
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    out = subprocess.run([sys.executable, "-c", PROBE, location, json.dumps(questions)], env=env,
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--passages", type=int, default=10_000, help="train paragraphs to index")
    parser.add_argument("--questions", type=int, default=100)
    args = parser.parse_args()

    from askkhorasan import build_index
    from askkhorasan.embed import shared_embedder
    from askkhorasan.milvus_store import release

    root = Path(tempfile.mkdtemp(prefix="bench-scale-"))
    try:
        questions = squad.evenly_spaced(corpus(args.passages, root / "corpus"), args.questions)
        key = hashlib.sha256(f"{args.passages}".encode()).hexdigest()[:8]
        embedder = CachedEmbedder(shared_embedder(), CACHE / f"squad-train-{args.passages}-{key}")
        rows = []
        for name, location in (("folder", str(root / "index")), ("Milvus Lite", f"milvus-lite:{root / 'index.db'}")):
            embedded_before = embedder.seconds
            t = time.perf_counter()
            report = build_index(root / "corpus", location if name != "folder" else Path(location), embedder=embedder)
            build = time.perf_counter() - t - (embedder.seconds - embedded_before)
            release(location) if name != "folder" else None
            size = sum(p.stat().st_size for p in (root / ("index" if name == "folder" else "index.db")).rglob("*") if p.is_file())
            rows.append((name, report.passages, build, size, probe(location, questions)))
        print(f"{rows[0][1]:,} passages ({args.passages:,} SQuAD train paragraphs), {len(questions)} questions; "
              f"embedding the sentences once took {embedder.seconds:.0f} s (not in the build times)"
              if embedder.seconds else f"{rows[0][1]:,} passages; sentence vectors from the cache")
        head = f"{'store':<12} {'build s/1k':>10} {'on disk MB':>10} {'load s':>7} {'index RSS MB':>12} {'search p50/p95 ms':>18} {'ask p50/p95 ms':>16}"
        print(head)
        base = rows[0]
        for name, passages, build, size, m in rows:
            print(f"{name:<12} {1000 * build / passages:>10.2f} {size / 2**20:>10.1f} {m['load_s']:>7.2f} {m['rss_index_mb']:>12.0f} "
                  f"{m['search_p50']:>8.1f}/{m['search_p95']:<8.1f} {m['ask_p50']:>7.1f}/{m['ask_p95']:<7.1f}")
        for name, passages, build, size, m in rows[1:]:
            b = base[4]
            print(f"{name} / folder: build x{build / base[2]:.2f}, index RSS x{m['rss_index_mb'] / max(b['rss_index_mb'], 1):.2f}, "
                  f"search p50 x{m['search_p50'] / b['search_p50']:.2f}, ask p50 x{m['ask_p50'] / b['ask_p50']:.2f}")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
