"""Retrieval on the seed article, against the plain baselines on the same questions."""

import bm25s
import numpy as np
import pytest
import Stemmer

from askkhorasan.evaluate import first_hit, load_questions

from conftest import DATA, SEED

QUESTIONS = [q for q in load_questions(DATA / "seed_questions.jsonl") if q.answers]


def _our_top3(index) -> float:
    hits = [first_hit([p.text for p in index.search(q.question, k=3)], q.answers) is not None for q in QUESTIONS]
    return float(np.mean(hits))


def _raw_paragraphs() -> list[str]:
    return [p.strip() for p in SEED.read_text(encoding="utf-8").split("\n\n") if p.strip()]


def _dense_baseline(embedder) -> float:
    paragraphs = _raw_paragraphs()
    vectors = embedder.encode(paragraphs)
    hits = []
    for q in QUESTIONS:
        top = np.argsort(-(vectors @ embedder.encode_query(q.question)))[:3]
        hits.append(first_hit([paragraphs[i] for i in top], q.answers) is not None)
    return float(np.mean(hits))


def _bm25_baseline() -> float:
    paragraphs = _raw_paragraphs()
    stemmer = Stemmer.Stemmer("english")
    retriever = bm25s.BM25()
    retriever.index(bm25s.tokenize(paragraphs, stemmer=stemmer, show_progress=False), show_progress=False)
    hits = []
    for q in QUESTIONS:
        docs, _ = retriever.retrieve(bm25s.tokenize([q.question], stemmer=stemmer, show_progress=False), k=3, show_progress=False)
        hits.append(first_hit([paragraphs[i] for i in docs[0]], q.answers) is not None)
    return float(np.mean(hits))


def test_answering_passage_is_in_the_top_three(seed_index):
    assert len(QUESTIONS) >= 20
    assert _our_top3(seed_index) >= 0.95


def test_beats_plain_dense_and_bm25_on_the_same_questions(seed_index, embedder):
    ours, dense, lexical = _our_top3(seed_index), _dense_baseline(embedder), _bm25_baseline()
    print(f"top-3: askkhorasan {ours:.3f}, dense paragraphs {dense:.3f}, BM25 paragraphs {lexical:.3f}")
    assert ours > dense and ours > lexical


def test_design_question_finds_its_passage(seed_index):
    passages = seed_index.search("why is the group shrouded in secrecy?", k=3)
    assert any("they have shrouded the organization in secrecy" in p.text for p in passages)


@pytest.mark.parametrize("phrase", ["Voice of Khurasan", "Tirah Valley", "Amu Darya", "Takhar and Badakhshan"])
def test_names_land_first(seed_index, phrase):
    assert phrase in seed_index.search(phrase, k=1)[0].text


def test_passages_carry_their_citation(seed_index):
    p = seed_index.search("Who resettled foreign fighters?", k=1)[0]
    assert p.source == SEED.name
    assert p.title == "Islamic State-Khorasan’s Transition Into a Transregional Threat"
    assert p.section == "Organizational Structure" and p.page is None
    assert 0 <= p.start < p.end and p.chunk_id >= 0


def test_k_is_honoured_and_ordered(seed_index):
    passages = seed_index.search("Taliban", k=7)
    assert len(passages) == 7
    assert [p.score for p in passages] == sorted((p.score for p in passages), reverse=True)
