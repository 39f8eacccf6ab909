"""LexicalIndex: BM25 over passage text, and the IDF the answer stage weighs question words by."""

import math
from collections import Counter

from askkhorasan.lexical import LexicalIndex, tokenize

TEXTS = [
    "ISKP recruited fighters in Nangarhar and Kunar.",
    "The Taliban fought ISKP fighters in Nangarhar.",
    "Propaganda from the Voice of Khurasan reached Central Asia.",
    "Funding came through hawala networks.",
]


def test_the_bm25_matrix_is_the_one_bm25s_builds_itself(monkeypatch):
    """LexicalIndex.build hands bm25s term ids as arrays and makes its CSC matrix a block at a time
    (lexical._csc_in_blocks); bm25s's own build from lists of ids must give the same arrays."""
    import bm25s
    import numpy as np

    from askkhorasan import lexical
    from askkhorasan.readers import read_document
    from conftest import SEED

    text = read_document(SEED).text
    texts = [text[i : i + 700] for i in range(0, len(text), 350)] * 3  # overlapping, repeated: shared terms
    monkeypatch.setattr(lexical, "_CSC_BLOCK", 97)  # many blocks, a term's entries spread over several
    ours = LexicalIndex.build(texts).retriever

    vocab: dict[str, int] = {}
    ids = [[vocab.setdefault(t, len(vocab)) for t in terms] for terms in tokenize(texts)]
    reference = bm25s.BM25()
    reference.index((ids, vocab), show_progress=False)

    assert ours._np_csc is lexical._csc_in_blocks and reference._np_csc is not lexical._csc_in_blocks
    assert ours.vocab_dict == reference.vocab_dict
    for key in ("data", "indices", "indptr"):
        assert ours.scores[key].dtype == reference.scores[key].dtype, key
        assert np.array_equal(ours.scores[key], reference.scores[key]), key
    assert len(ours.scores["data"]) > 20 * 97


def test_idf_is_bm25s_idf_from_document_frequencies():
    index = LexicalIndex.build(TEXTS)
    df = Counter(term for tokens in tokenize(TEXTS) for term in set(tokens))
    n = len(TEXTS)
    expected = {t: math.log(1 + (n - d + 0.5) / (d + 0.5)) for t, d in df.items()}
    assert index.idf() == expected
    assert index.idf()["nangarhar"] < index.idf()["hawala"]
    assert index.unseen_idf() == math.log(1 + (n + 0.5) / 0.5) > max(expected.values())


def test_an_empty_index_has_no_idf():
    empty = LexicalIndex.build([])
    assert empty.idf() == {} and empty.unseen_idf() == 1.0


def test_lemmas_from_the_streamed_dictionary_are_simplemmas_default_ones():
    # lexical.py reads simplemma's streamed (low-memory) dictionary because it opens faster; the
    # lemmas must be those of the default dictionary that indexes were built with.
    import json
    import re
    from pathlib import Path

    import simplemma

    from askkhorasan.lexical import _lemma

    root = Path(__file__).resolve().parents[1]
    text = " ".join(p.read_text(encoding="utf-8") for p in sorted((root / "corpus").iterdir()) if p.is_file())
    squad = json.loads((root / "tests" / "data" / "squad-v2-dev-5-articles.json").read_text(encoding="utf-8"))
    text += " ".join(p["context"] + " " + " ".join(q["question"] for q in p["qas"])
                     for a in squad["data"] for p in a["paragraphs"])
    words = sorted(set(re.findall(r"[^\W\d_]+", text)))
    words += [w.lower() for w in words] + [w.title() for w in words]
    assert len(words) > 10_000
    assert [_lemma(w) for w in words] == [simplemma.lemmatize(w, lang="en") for w in words]
