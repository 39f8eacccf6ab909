"""The real pipeline at scale, index folder against Milvus Lite: build, memory after load, search and ask latency, refresh.

Passages are real SQuAD 1.1 train paragraphs (../shared/bench/squad-v1.1-train.json.gz,
18,896 of them), one source file per article; past 18,896 the articles come round again as
copies with their own title line ("Title (copy 2)"), distinct sources whose sentences are texts
already embedded. Questions are the train questions of the first round. Both stores index the
same corpus with the same model. Sentence vectors are embedded once per distinct text and cached
(--cache, .json + .npy), so the build times below are the stores' own work: reading, chunking,
BM25, writing; embedding is timed on its own (--embed-only MINUTES fills the cache in blocks).
Memory and latency are measured in a fresh process per store, with the model loaded first,
so "index RSS" is what opening the index adds. The folder is the baseline each ratio is against.
Last, every 100th source gets a sentence more and each store is refreshed: its time and the rows
it wrote, against its full build.

    python bench/bench_scale_stores.py [--passages 10000] [--questions 100] [--cache FILE] [--embed-only MINUTES]
"""

from __future__ import annotations

import argparse
import gzip
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
    """The first `n` train paragraphs, one file per article; their questions. Past the 18,896
    paragraphs the articles come round again as copies ("Title (copy 2)"): the title line makes
    each copy a distinct source with distinct passages, while its paragraphs' sentences are
    texts already embedded, so the embedder (cached by text) computes each distinct one once."""
    data = json.loads(gzip.open(TRAIN).read())["data"]
    folder.mkdir(parents=True)
    questions, taken, copy = [], 0, 1
    while taken < n:
        for article in data:
            paragraphs = article["paragraphs"][: n - taken]
            if not paragraphs:
                break
            title = article["title"].replace("_", " ") + (f" (copy {copy})" if copy > 1 else "")
            text = title + "\n\n" + "\n\n".join(p["context"].strip() for p in paragraphs) + "\n"
            (folder / squad.article_filename(title)).write_text(text, encoding="utf-8")
            if copy == 1:
                questions += [qa["question"] for p in paragraphs for qa in p["qas"]]
            taken += len(paragraphs)
        copy += 1
    return questions


def embed_only(folder: Path, embedder: CachedEmbedder, minutes: float) -> None:
    """Embed the corpus's sentences into the cache, a block at a time, for at most `minutes`:
    100,000 passages' worth is more than one run should hold both cores for."""
    from askkhorasan.corpus import discover
    from askkhorasan.settings import DEFAULT_SETTINGS
    from askkhorasan.sources import read_corpus

    read = read_corpus(discover(folder, []), folder, DEFAULT_SETTINGS, embedder, None, None, [])
    texts = list(dict.fromkeys(t for d in read.docs for t in d.sentence_texts if t not in embedder.vectors))
    print(f"{len(texts):,} sentences to embed", flush=True)
    stop = time.perf_counter() + 60 * minutes
    for lo in range(0, len(texts), 4_000):
        if time.perf_counter() > stop:
            print(f"stopped at {lo:,}; run again to go on", flush=True)
            return
        embedder.encode(texts[lo : lo + 4_000])
        print(f"{min(lo + 4_000, len(texts)):,} embedded ({embedder.seconds:.0f} s)", flush=True)


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


def refresh(root: Path, rows: list, embedder: CachedEmbedder) -> None:
    """A refresh after 1% of the sources changed (every 100th file gets a sentence more), against
    each store's full build: time (embedding the new sentences not counted) and rows written."""
    from askkhorasan import build_index
    from askkhorasan.milvus_store import milvus_target, read_meta, release

    files = sorted((root / "corpus").iterdir())
    changed = files[::100]
    for n, path in enumerate(changed):
        path.write_text(path.read_text(encoding="utf-8") + f"\nRevision {n}: this source was edited for the refresh.\n",
                        encoding="utf-8")
    print(f"refresh: {len(changed)} of {len(files):,} sources changed")
    print(f"{'store':<12} {'refresh s':>9} {'full build s':>12} {'rows written (refresh / full build)':>40}")
    for (name, passages, build, _, _), location in zip(rows, (root / "index", f"milvus-lite:{root / 'index.db'}")):
        embedded_before = embedder.seconds
        t = time.perf_counter()
        report = build_index(root / "corpus", location, embedder=embedder)
        seconds = time.perf_counter() - t - (embedder.seconds - embedded_before)
        if name == "folder":  # a folder generation is written whole: every passage row, vector and BM25 entry
            written = f"{report.passages:,} passages / {passages:,} passages"
        else:
            w = read_meta(milvus_target(str(location)))[0]["store"]["written"]
            written = (f"{w['passages']:,} passages, {w['sentences']:,} sentences, {w['terms']:,} terms, "
                       f"{w['records']:,} records / {passages:,} passages and all their rows")
            release(str(location))
        assert len(report.updated) == len(changed), report
        print(f"{name:<12} {seconds:>9.2f} {build:>12.2f}   {written}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--passages", type=int, default=10_000, help="train paragraphs to index")
    parser.add_argument("--questions", type=int, default=100)
    parser.add_argument("--cache", type=Path, default=CACHE / "squad-train-sentences",
                        help="sentence vectors by text (.json + .npy), shared by every --passages")
    parser.add_argument("--embed-only", type=float, metavar="MINUTES",
                        help="only embed the corpus's sentences into the cache, for at most MINUTES")
    args = parser.parse_args()

    from askkhorasan import build_index
    from askkhorasan.embed import shared_embedder
    from askkhorasan.milvus_store import release

    root = Path(tempfile.mkdtemp(prefix="bench-scale-"))
    try:
        questions = squad.evenly_spaced(corpus(args.passages, root / "corpus"), args.questions)
        embedder = CachedEmbedder(shared_embedder(), args.cache)
        if args.embed_only:
            return embed_only(root / "corpus", embedder, args.embed_only)
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
        refresh(root, rows, embedder)
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
