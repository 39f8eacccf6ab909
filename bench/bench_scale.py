"""The local index folder at 10k, 100k and 1M passages, through the real pipeline: build time,
resident memory after load, `search` and `ask` latency, and recall@10 of the approximate index.

Passages are real SQuAD 1.1 train paragraphs (../shared/bench/squad-v1.1-train.json.gz), one
source file per article, built by `build_index` with the real model. Their sentence vectors are
embedded once and cached (bench_scale_stores.CachedEmbedder, ~/.cache/askkhorasan/bench), so the
build time printed is the pipeline's own work (reading, chunking, BM25, FAISS, writing, hashing);
the embedding time is printed beside it when it was not cached.

Larger sizes repeat that generation's rows with distinct sources, hashes and ids, written
through the store's own writer (`store.write_generation`, with the rows, sentence vectors and
BM25 terms streamed copy by copy): at 100k the vectors are the real ones repeated; at 1M each
copy's sentence vectors are the real ones with Gaussian noise, renormalized (synthetic vectors
shaped like real ones, so that copies are near, not equal, and recall is measurable). Passage
vectors are the length-weighted means of their sentences', as a build makes them.

Each index is then opened by the real `Index` in a fresh process that has loaded and run both
models (the embedder and the answer model) first, so the RSS that follows is the index's: the
first open (every file hashed against the manifest) and a second one (verified before) in two
processes; memory is the second process's RSS, after opening and after the questions, split
into anonymous memory and pages of mapped index and model files (page cache the kernel can
drop; reading a row of a mapped file maps its neighbours too). Latency is over real train
questions of those paragraphs, single queries, beside the raw query embedding
(`embedder.encode_query`) measured in the same process: the machine is shared and noisy, so
the ratio is the figure to compare. Recall@10 is the IVF index as loaded (nprobe as served)
against exact inner-product search over the same passage vectors.

    python bench/bench_scale.py [--paragraphs 10000] [--sizes 10000 100000 1000000] [--questions 200]
                                [--work DIR] [--keep]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
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
from bench_scale_stores import CACHE, CachedEmbedder, corpus  # noqa: E402

NOISE_1M = 0.06  # per-dimension noise of the synthetic vectors (bench_scale.py's before: recall 0.997)


def synthetic(base: np.ndarray, rng: np.random.Generator, noise: float) -> np.ndarray:
    """Real vectors with Gaussian noise, renormalized: shaped like real ones, near but not equal."""
    v = base.astype(np.float32) + rng.standard_normal(base.shape, dtype=np.float32) * np.float32(noise)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def replicate(base_dir: Path, out_dir: Path, copies: int, noise: float, queries: np.ndarray) -> dict:
    """Write a generation of `copies` copies of base_dir's rows through the store's writer.

    Returns its counts, the seconds the writing took, and the exact top-10 passages of every
    query vector (for recall)."""
    from askkhorasan.chunk import lexical_text
    from askkhorasan.embed import passage_vectors
    from askkhorasan.lexical import LexicalIndex, tokenize
    from askkhorasan.settings import MODEL_DIMENSION, Settings
    from askkhorasan.store import faiss_index_from_blocks, load_generation, new_manifest, write_generation

    base = load_generation(base_dir)
    rows = list(base.passages)
    documents = list(base.documents)
    spans = np.asarray(base.sentence_spans)
    n_sent, n_pass = len(spans), len(rows)

    def doc_hash(h: str, c: int) -> str:
        return hashlib.sha256(f"{c}:{h}".encode()).hexdigest()

    def sentence_block(c: int) -> np.ndarray:
        v = np.asarray(base.sentence_vectors, dtype=np.float32)
        return synthetic(v, np.random.default_rng(c), noise) if noise else v

    truth = {"scores": np.full((len(queries), 10), -np.inf, np.float32), "rows": np.zeros((len(queries), 10), np.int64)}

    def passage_blocks():
        truth["scores"][:] = -np.inf
        for c in range(copies):
            pv = passage_vectors(rows, spans, sentence_block(c))
            s = queries @ pv.T  # exact search, kept as the blocks go by
            both = np.concatenate([truth["scores"], s], axis=1)
            ids = np.concatenate([truth["rows"], np.arange(c * n_pass, (c + 1) * n_pass)[None, :].repeat(len(queries), 0)], axis=1)
            top = np.argsort(-both, axis=1)[:, :10]
            truth["scores"], truth["rows"] = np.take_along_axis(both, top, 1), np.take_along_axis(ids, top, 1)
            yield pv

    def passage_rows():
        for c in range(copies):
            for p in rows:
                q = dict(p)
                q["source"] = f"copy{c:03d}/{p['source']}"
                q["doc_hash"] = doc_hash(p["doc_hash"], c)
                q["sent_lo"], q["sent_hi"] = p["sent_lo"] + c * n_sent, p["sent_hi"] + c * n_sent
                yield q  # type: ignore[misc]

    def document_rows():
        for c in range(copies):
            for d in documents:
                yield d | {"source": f"copy{c:03d}/{d['source']}", "hash": doc_hash(d["hash"], c)}

    t = time.perf_counter()
    vocab: dict[str, int] = {}
    ids = [[vocab.setdefault(t_, len(vocab)) for t_ in terms]
           for terms in tokenize([lexical_text(p["context"], p["text"]) for p in rows])]
    lexical = LexicalIndex.from_term_ids(ids * copies, vocab)  # the same lists, referenced `copies` times
    lexical_s = time.perf_counter() - t
    faiss_index, faiss_type = faiss_index_from_blocks(n_pass * copies, MODEL_DIMENSION, passage_blocks)
    faiss_s = time.perf_counter() - t - lexical_s
    settings = Settings.from_dict(base.manifest["settings"])
    sources = {f"copy{c:03d}/{d['source']}": doc_hash(d["hash"], c) for c in range(copies) for d in documents}
    counts = {"sources": len(documents) * copies, "passages": n_pass * copies, "sentences": n_sent * copies}
    manifest = new_manifest(settings, sources, counts, faiss_index, faiss_type) | {
        "embedding": base.manifest["embedding"], "failed": {}, "duplicates": {}, "file_stats": {}}
    write_generation(out_dir, manifest=manifest, faiss_index=faiss_index, passages=passage_rows(),
                     documents=document_rows(), sentence_vectors=(sentence_block(c) for c in range(copies)),
                     sentence_spans=np.concatenate([spans + 0 for _ in range(copies)]), lexical=lexical)
    del faiss_index, lexical, ids
    return {"counts": counts, "seconds": time.perf_counter() - t, "lexical_s": lexical_s, "faiss_s": faiss_s, "noise": noise,
            "faiss_type": faiss_type, "truth": truth["rows"]}


PROBE = r"""
import json, os, sys, time
def rss():
    return int(open("/proc/self/statm").read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
def rss_parts():  # anonymous memory, and pages of mapped files (the kernel drops those under pressure)
    fields = dict(line.split(":", 1) for line in open("/proc/self/status"))
    return [int(fields[k].split()[0]) / 1024 for k in ("RssAnon", "RssFile")]
from askkhorasan import Index
from askkhorasan.embed import shared_embedder
from askkhorasan.answer_model import shared_answer_model
embedder = shared_embedder()
embedder.encode_query("warm up")
answer_model = shared_answer_model()  # both models loaded and run first: what follows is the index's
answer_model.logits("warm up", ["The answer model reads eight sentences.", "Two of them here."] * 4)
before = rss()
t = time.perf_counter()
index = Index(sys.argv[1], embedder=embedder, answer_model=answer_model)
load = time.perf_counter() - t
after = rss()
out = {"load_s": load, "rss_model_mb": before, "rss_after_load_mb": after, "rss_parts_after_load_mb": rss_parts()}
questions = json.loads(sys.argv[2])
if questions:
    index.ask(questions[0])
    def timed(f):  # wall p50, p95; CPU time of the process (all its threads) p50
        ms, cpu = [], []
        for q in questions:
            t, c = time.perf_counter(), time.process_time(); f(q)
            ms.append(1000 * (time.perf_counter() - t)); cpu.append(1000 * (time.process_time() - c))
        ms.sort(); cpu.sort()
        return ms[len(ms) // 2], ms[max(0, int(len(ms) * 0.95) - 1)], cpu[len(cpu) // 2]
    out["encode"] = timed(embedder.encode_query)
    out["search"] = timed(lambda q: index.search(q, 5))
    out["ask"] = timed(index.ask)
    out["rss_after_questions_mb"] = rss()
    out["rss_parts_mb"] = rss_parts()
print(json.dumps(out))
"""


def probe(index_dir: Path, questions: list[str]) -> dict:
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    run = subprocess.run([sys.executable, "-c", PROBE, str(index_dir), json.dumps(questions)], env=env,
                         capture_output=True, text=True)
    if run.returncode:
        raise SystemExit(run.stderr)
    return json.loads(run.stdout.strip().splitlines()[-1])


def recall(index_dir: Path, queries: np.ndarray, truth: np.ndarray) -> float:
    from askkhorasan.retrieve import faiss_search
    from askkhorasan.store import load_generation

    gen = load_generation(index_dir)
    found = [faiss_search(gen.faiss_index, q, 10)[1][0] for q in queries]
    return float(np.mean([len(set(f) & set(t)) / 10 for f, t in zip(found, truth)]))


def disk_mb(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--paragraphs", type=int, default=10_000, help="SQuAD train paragraphs embedded and built")
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000],
                        help="passages; the first is the real build, larger ones repeat it")
    parser.add_argument("--questions", type=int, default=200)
    parser.add_argument("--work", type=Path, default=None, help="folder for the indexes (deleted after unless --keep)")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()

    from askkhorasan import build_index
    from askkhorasan.embed import shared_embedder

    work = Path(tempfile.mkdtemp(prefix="bench-scale-", dir=args.work))
    try:
        questions = squad.evenly_spaced(corpus(args.paragraphs, work / "corpus"), args.questions)
        key = hashlib.sha256(f"{args.paragraphs}".encode()).hexdigest()[:8]
        embedder = CachedEmbedder(shared_embedder(), CACHE / f"squad-train-{args.paragraphs}-{key}")
        queries = np.stack([embedder.encode_query(q) for q in questions])
        t = time.perf_counter()
        report = build_index(work / "corpus", work / "index-real", embedder=embedder)
        build_s = time.perf_counter() - t - embedder.seconds
        print(f"real build: {args.paragraphs:,} SQuAD train paragraphs -> {report.passages:,} passages; "
              f"{build_s:.1f} s without embedding ({1000 * build_s / report.passages:.2f} s per 1,000 passages)"
              + (f"; embedding {embedder.seconds:.0f} s ({1000 * embedder.seconds / report.passages:.1f} s per 1,000)"
                 if embedder.seconds else "; sentence vectors from the cache"))
        results = []
        for size in args.sizes:
            if size <= report.passages * 1.05:
                folder, made = work / "index-real", {"seconds": build_s, "counts": {"passages": report.passages},
                                                     "faiss_type": None, "truth": None}
            else:
                copies = math.ceil(size / report.passages)
                folder = work / f"index-{size}"
                noise = NOISE_1M if size >= 1_000_000 else 0.0
                made = replicate(work / "index-real", folder, copies, noise, queries)
                print(f"{made['counts']['passages']:,} passages ({copies} copies, noise {noise}): written in "
                      f"{made['seconds']:.0f} s (BM25 {made['lexical_s']:.0f} s, {made['faiss_type']} "
                      f"{made['faiss_s']:.0f} s); {disk_mb(folder):,.0f} MB on disk", flush=True)
            first = probe(folder, [])  # the first load on this machine: every file hashed
            m = probe(folder, questions)
            # Recall only where copies differ: among exact duplicates the top 10 is a draw between ties.
            r = recall(folder, queries, made["truth"]) if made.get("noise") and made["faiss_type"] != "Flat" else None
            results.append((made["counts"]["passages"], made, first, m, r))
            if folder != work / "index-real" and not args.keep:
                shutil.rmtree(folder)
        print(f"\n{len(questions)} questions; latency p50 / p95 ms, then the CPU time's p50; x = p50 over the raw query "
              f"embedding's p50 in the same process; RSS MB of a fresh process: both models loaded and run, after opening "
              f"the index, after the questions")
        print(f"{'passages':>10} {'build s/1k':>10} {'1st open s':>10} {'open s':>7} {'RSS model':>9} {'RSS loaded':>10} "
              f"{'after Qs (anon+file)':>20} {'encode':>19} {'search':>26} {'ask':>28} {'recall@10':>9}")
        for n, made, first, m, r in results:
            e, s, a = m["encode"], m["search"], m["ask"]
            print(f"{n:>10,} {1000 * made['seconds'] / n:>10.2f} {first['load_s']:>10.2f} {m['load_s']:>7.2f} "
                  f"{m['rss_model_mb']:>9.0f} {m['rss_after_load_mb']:>10.0f} "
                  f"{m['rss_after_questions_mb']:>6.0f} ({m['rss_parts_mb'][0]:.0f}+{m['rss_parts_mb'][1]:.0f}){'':>3} "
                  f"{e[0]:>6.2f}/{e[1]:<6.2f} {e[2]:>5.2f} {s[0]:>6.2f}/{s[1]:<6.2f} {s[2]:>5.2f} x{s[0] / e[0]:<5.2f} "
                  f"{a[0]:>7.2f}/{a[1]:<7.2f} {a[2]:>6.2f} x{a[0] / e[0]:<5.2f} {'—' if r is None else f'{r:.3f}':>9}")
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
