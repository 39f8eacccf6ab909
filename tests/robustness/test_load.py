"""A bounded loopback load on the running app: 50 concurrent clients, 300 questions, every reply checked."""

import json
import statistics
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from askkhorasan import Index

from conftest import ARTIFACTS

QUESTIONS = [
    "Why is the group shrouded in secrecy?", "Where did the three groups reconvene?",
    "What is the Voice of Khurasan?", "How do the Taliban view the Islamic State caliphate?",
    "What is the capital of Australia?", "Which provinces of Afghanistan have a Salafi presence?",
    "Who serves as the public face of the group?", "When did ISKP warn of a new era of global jihad?",
    "How many Pakistani soldiers did ISKP report killing?", "What did the Taliban instruct Afghan media to do?",
]
CLIENTS, PER_CLIENT = 50, 6


@pytest.mark.slow
def test_fifty_concurrent_clients(app_url, embedder):
    from gradio_client import Client

    url, root = app_url
    expected = {q: json.loads(json.dumps(Index(root / "index", embedder=embedder).ask(q).to_dict())) for q in QUESTIONS}

    def one_client(n):
        client = Client(url, verbose=False)
        out = []
        for i in range(PER_CLIENT):
            q = QUESTIONS[(n + i) % len(QUESTIONS)]
            t = time.perf_counter()
            try:
                reply = client.predict(q, api_name="/ask")
                out.append((q, reply, time.perf_counter() - t, None))
            except Exception as exc:  # counted as an error below, with its message
                out.append((q, None, time.perf_counter() - t, repr(exc)))
        return out

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        results = [r for batch in pool.map(one_client, range(CLIENTS), timeout=600) for r in batch]
    wall = time.perf_counter() - started
    errors = [r[3] for r in results if r[3]]
    assert not errors, errors[:3]
    assert len(results) == CLIENTS * PER_CLIENT
    for question, reply, _, _ in results:
        assert reply["question"] == question
        assert reply["text"] == expected[question]["text"] and reply["found"] == expected[question]["found"]
        assert reply["citations"] == expected[question]["citations"]
    latencies = [r[2] for r in results]
    figures = {
        "clients": CLIENTS, "questions": len(results), "errors": 0, "seconds": round(wall, 2),
        "p50_ms": round(1000 * statistics.median(latencies), 1),
        "p95_ms": round(1000 * float(np.percentile(latencies, 95)), 1),
    }
    print("load:", figures)
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "load.json").write_text(json.dumps(figures, indent=2))
