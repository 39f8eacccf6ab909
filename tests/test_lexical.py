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
