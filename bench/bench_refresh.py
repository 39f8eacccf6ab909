"""What adding one document to an indexed corpus costs, against indexing that document alone.

Corpus: the seed article and the five SQuAD sample articles. Added: one SQuAD 1.1
article that is not among them. Each round times, with the model already loaded,
  - the refresh: `build_index` on the corpus plus the new article, against the existing index;
  - the document alone: `build_index` of a corpus holding only the new article, into an empty folder;
  - the full rebuild: `build_index(force=True)` of the whole corpus.

    python bench/bench_refresh.py [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import squad  # noqa: E402

import askkhorasan as ak  # noqa: E402
from askkhorasan.embed import shared_embedder  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def timed(fn) -> tuple[float, ak.BuildReport]:
    t = time.perf_counter()
    report = fn()
    return time.perf_counter() - t, report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    embedder = shared_embedder()
    work = Path(tempfile.mkdtemp(prefix="askkhorasan-refresh-"))
    base = work / "base"
    squad.write_corpus(squad.SAMPLE, base)
    shutil.copy(ROOT / "corpus" / "000_5d501b3f3e1d464e.txt", base)
    sample_titles = {a["title"] for a in json.loads(squad.SAMPLE.read_text())["data"]}
    article = next(a for a in json.loads(squad.FULL.read_text())["data"] if a["title"] not in sample_titles)
    extra = work / "extra"
    squad.write_corpus_articles([article], extra)
    new_file = next(extra.iterdir())

    refresh, alone, full = [], [], []
    for r in range(args.rounds):
        corpus, index_dir = work / f"corpus{r}", work / f"index{r}"
        shutil.copytree(base, corpus)
        ak.build_index(corpus, index_dir, embedder=embedder)
        shutil.copy(new_file, corpus)
        seconds, report = timed(lambda: ak.build_index(corpus, index_dir, embedder=embedder))
        assert report.added == (new_file.name,) and report.embedded_passages < report.passages
        refresh.append(seconds)
        only = work / f"only{r}"
        only.mkdir()
        shutil.copy(new_file, only)
        alone.append(timed(lambda: ak.build_index(only, work / f"only-index{r}", embedder=embedder))[0])
        full.append(timed(lambda: ak.build_index(corpus, index_dir, embedder=embedder, force=True))[0])

    r, a, f = statistics.median(refresh), statistics.median(alone), statistics.median(full)
    print(f"added {new_file.name} ({report.embedded_passages} of {report.passages} passages embedded) "
          f"to a corpus of {len(list(base.iterdir()))} sources; median of {args.rounds} rounds:")
    print(f"  refresh (add one document)   {r:6.2f}s")
    print(f"  that document indexed alone  {a:6.2f}s   refresh / alone  x{r / a:.2f}")
    print(f"  full rebuild (--force)       {f:6.2f}s   refresh / full   x{r / f:.2f}")


if __name__ == "__main__":
    main()
