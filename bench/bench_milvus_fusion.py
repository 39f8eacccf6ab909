"""Which fusion for the Milvus store: askkhorasan's own, or Milvus's hybrid_search?

On the same Milvus Lite collections (the seed article with its test and dev questions, and
the SQuAD sample), the passages of `Index.search` — askkhorasan's fusion of passage cosine,
best-sentence cosine and BM25 over its best — against Milvus's `hybrid_search` over the same
two searches (dense and BM25, 50 candidates each), with RRF (k=60) and with weights 0.5/0.4
(the dense and lexical weights of the own fusion). hit@k: an answer string in the top k.

    python bench/bench_milvus_fusion.py
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import squad  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def measure(location: str, questions: list[tuple[str, tuple[str, ...]]], embedder) -> dict[str, list]:
    from pymilvus import AnnSearchRequest, RRFRanker, WeightedRanker

    from askkhorasan import Index
    from askkhorasan.evaluate import first_hit
    from askkhorasan.lexical import question_terms
    from askkhorasan.milvus_store import term_key

    index = Index(location, embedder=embedder)
    state = index._loaded()
    client, passages, shown = index._client, state.names["p"], state.visible  # the rows its generation shows
    ranks: dict[str, list] = {"own fusion": [], "Milvus RRF": [], "Milvus weighted": []}
    for question, answers in questions:
        ranks["own fusion"].append(first_hit([p.text for p in index.search(question, 5)], answers))
        vector = embedder.encode_query(question).tolist()
        terms = " ".join(term_key(t) for t in question_terms(question)) or "-"
        for name, ranker in (("Milvus RRF", RRFRanker(60)), ("Milvus weighted", WeightedRanker(0.5, 0.4))):
            found = client.hybrid_search(passages, [
                AnnSearchRequest([vector], "vec", {"metric_type": "IP"}, 50, expr=shown),
                AnnSearchRequest([terms], "sparse", {}, 50, expr=shown),
            ], ranker, limit=5, output_fields=["row"])
            ranks[name].append(first_hit([h["entity"]["row"]["text"] for h in found[0]], answers))
    return ranks


def main() -> None:
    from askkhorasan import build_index
    from askkhorasan.embed import shared_embedder
    from askkhorasan.evaluate import load_questions
    from askkhorasan.milvus_store import release

    embedder = shared_embedder()
    root = Path(tempfile.mkdtemp(prefix="bench-fusion-"))
    try:
        seed = [(q.question, q.answers) for path in (ROOT / "tests" / "data" / "seed_questions.jsonl",
                                                     ROOT / "bench" / "data" / "seed_dev.jsonl")
                for q in load_questions(path) if q.answers]
        (root / "seed").mkdir()
        shutil.copy(ROOT / "corpus" / "000_5d501b3f3e1d464e.txt", root / "seed")
        sample = [(q["question"], tuple(q["answers"])) for q in squad.write_corpus(squad.SAMPLE, root / "squad")
                  if q["answers"]]
        print(f"{'questions':<22} {'fusion':<16} {'hit@1':>6} {'hit@3':>6} {'hit@5':>6}")
        for name, corpus, questions in (("seed article", root / "seed", seed), ("SQuAD sample", root / "squad", sample)):
            location = f"milvus-lite:{root / (corpus.name + '.db')}"
            build_index(corpus, location, embedder=embedder)
            for fusion, ranks in measure(location, questions, embedder).items():
                n = len(ranks)
                hit = [sum(r is not None and r < k for r in ranks) / n for k in (1, 3, 5)]
                print(f"{name + f' ({n})':<22} {fusion:<16} {hit[0]:>6.3f} {hit[1]:>6.3f} {hit[2]:>6.3f}")
            release(location)
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
