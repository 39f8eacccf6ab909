"""The graph backends (ONNX Runtime fp32, OpenVINO bf16) against torch, the reference: same
word pieces, same vectors, and answering without importing torch. An index records which
backend made its vectors; fp32 and bf16 vectors are searched with each other's questions."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from askkhorasan import Index, IndexIncompatibleError, build_index, cpu
from askkhorasan.embed import BACKENDS, DEFAULT_BACKEND, Embedder, compatible
from askkhorasan.environment import temporarily
from askkhorasan.graph_cache import GRAPH, RECORD, _checked
from askkhorasan.question_graph import SWITCH
from askkhorasan.settings import MODEL_WINDOW
from askkhorasan.sentences import sentence_spans
from askkhorasan.store import current_generation

from conftest import ROOT, SEED

EDGE_CASES = [
    "Why is the group shrouded in secrecy?",
    "  leading and trailing spaces  ",
    "a",
    "",
    "ISKP’s émigré fighters — in Nangarhar, 2015…",
    "word " * 400,  # past the window: both cut at 256 word pieces
    "中文 text, ﬁ ligatures\tand\ttabs\n\nnew lines",
    "WHO LEADS ISKP IN KUNAR??",
]


@pytest.fixture(scope="module")
def reference():
    return Embedder(backend="torch")


@pytest.fixture(scope="module")
def seed_sentences():
    text = SEED.read_text(encoding="utf-8")
    return [text[s:e] for s, e in sentence_spans(text)][:150]


@pytest.mark.slow
def test_word_pieces_match_sentence_transformers(reference, seed_sentences):
    tokenizer = reference._runner.model.tokenizer
    for text in EDGE_CASES + seed_sentences[:40]:
        expected = tokenizer(text, truncation=True, max_length=MODEL_WINDOW)["input_ids"]
        assert reference.tokenizer.batch([text])["input_ids"][0].tolist() == expected, text[:60]
        assert reference.count_tokens([text]) == [len(tokenizer(text, add_special_tokens=False)["input_ids"])]


@pytest.fixture(scope="module")
def bf16():
    """OpenVINO in bf16 for every input, questions included (the int8 question graph off)."""
    with temporarily(SWITCH, "0"):
        return Embedder(backend="openvino")


@pytest.fixture(scope="module")
def int8_questions():
    """The OpenVINO backend with questions on the int8 question graph: as shipped on a CPU
    with an int8 dot-product unit, turned on by hand elsewhere so that it is checked there too."""
    with temporarily(SWITCH, "1"):
        embedder = Embedder(backend="openvino")
    assert embedder._runner.question_precision == "int8", "no int8 question graph: is nncf installed?"
    return embedder


@pytest.fixture(scope="module")
def fp32():
    return Embedder(backend="onnx")


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["onnx", "openvino"])
def test_graph_vectors_match_torch(backend, fp32, bf16, reference, seed_sentences):
    """The fidelity gate for fp32 and bf16 graphs: cosine >= 0.999 to torch, batched and alone."""
    embedder = {"onnx": fp32, "openvino": bf16}[backend]
    assert BACKENDS[backend][1] in ("fp32", "bf16")
    texts = EDGE_CASES + seed_sentences
    expected = reference.encode(texts)
    batched = embedder.encode(texts)
    assert np.min(np.sum(batched * expected, axis=1)) >= 0.999
    alone = np.stack([embedder.encode_query(t) for t in EDGE_CASES])
    assert np.min(np.sum(alone * expected[: len(EDGE_CASES)], axis=1)) >= 0.999
    assert np.allclose(np.linalg.norm(batched, axis=1), 1.0, atol=1e-3)


def test_default_backend_is_openvino_where_the_cpu_computes_bf16():
    assert DEFAULT_BACKEND == ("openvino" if cpu.has_bf16() else "onnx")


def test_bf16_questions_search_an_fp32_index_like_fp32_questions(seed_built, fp32, bf16):
    """What makes bf16 and fp32 vectors compatible, measured: the same passages, in the same
    order, whichever of the two embeds the questions (and bf16 vectors stay close to fp32's)."""
    from askkhorasan.evaluate import load_questions

    assert compatible({"precision": "fp32"}, "bf16") and compatible({"precision": "bf16"}, "fp32")
    assert not compatible({"precision": "bf16"}, "int8")
    questions = [q.question for q in load_questions(ROOT / "tests" / "data" / "seed_questions.jsonl")]
    by = {name: Index(seed_built.index_dir, embedder=e) for name, e in (("fp32", fp32), ("bf16", bf16))}
    for q in questions:
        a = [p.chunk_id for p in by["fp32"].search(q, k=5)]
        b = [p.chunk_id for p in by["bf16"].search(q, k=5)]
        assert a[:3] == b[:3], q
        assert float(fp32.encode_query(q) @ bf16.encode_query(q)) >= 0.9995, q


@pytest.mark.slow
def test_int8_questions_answer_the_held_out_questions_as_torch_does(seed_built, reference, int8_questions):
    """The fidelity gate for the quantized question graph, on any CPU: the project's held-out
    questions get the same figures as with torch's question vectors (within half a point:
    here, all 23 the same)."""
    from askkhorasan.evaluate import evaluate_index, load_questions

    questions = load_questions(ROOT / "tests" / "data" / "seed_questions.jsonl")
    figures = {name: evaluate_index(Index(seed_built.index_dir, embedder=e), questions)
               for name, e in (("torch", reference), ("int8", int8_questions))}
    for key in ("hit@1", "hit@3", "mrr@10", "answer_accuracy", "refused_answerable", "refused_unanswerable"):
        assert abs(figures["int8"][key] - figures["torch"][key]) <= 0.005, (key, figures)


@pytest.mark.slow
def test_int8_question_vectors_stay_close_to_torch_and_find_the_same_passages(seed_built, reference, bf16, int8_questions):
    """Where the graph is on by default (an int8 dot-product unit), each question vector stays
    close to torch's and finds bf16's top passages. On AVX2 alone, where it is off unless asked
    for, it drifts further (cosine 0.9963 on average, 0.9906 at least; one seed question's third
    passage differs), which is one reason it is off there; see question_graph.enabled."""
    from askkhorasan.evaluate import load_questions

    if not cpu.has_int8_dot():
        pytest.skip("no int8 dot-product unit: the int8 question graph is off on this CPU")
    questions = load_questions(ROOT / "tests" / "data" / "seed_questions.jsonl")
    texts = [q.question for q in questions] + [t for t in EDGE_CASES if len(t.strip()) > 1]
    expected = reference.encode(texts)
    got = np.stack([int8_questions.encode_query(t) for t in texts])
    cosine = np.sum(got * expected, axis=1)
    assert cosine.min() >= 0.99 and cosine.mean() >= 0.997, cosine
    by_bf16, by_int8 = Index(seed_built.index_dir, embedder=bf16), Index(seed_built.index_dir, embedder=int8_questions)
    for q in questions:  # the same best passage and the same top three (their order may differ)
        got, want = ([p.chunk_id for p in index.search(q.question, k=3)] for index in (by_int8, by_bf16))
        assert got[0] == want[0] and set(got) == set(want), q.question


def test_int8_questions_only_change_questions(bf16, int8_questions):
    """Passages come from the bf16 graph either way, one at a time too, so an index's vectors do not change."""
    texts = ["Why is the group shrouded in secrecy?", "It keeps its leaders hidden.", "ISKP recruits in the north."]
    assert np.allclose(int8_questions.encode(texts), bf16.encode(texts), atol=1e-6)
    assert np.allclose(int8_questions.encode(texts[:1]), bf16.encode(texts[:1]), atol=1e-6)
    assert not np.allclose(int8_questions.encode_query(texts[0]), bf16.encode_query(texts[0]), atol=1e-4)
    assert int8_questions.precision == bf16.precision == "bf16"


@pytest.mark.slow
def test_int8_question_graph_is_kept_and_checked(int8_questions, tmp_path):
    """Made once beside the graph with a record of what made it; a damaged file is remade, never read."""
    import shutil

    from askkhorasan.openvino_model import OpenVinoModel
    from askkhorasan.question_graph import FILES, RECORD, int8_question_model

    graph = tmp_path / "model.onnx"
    shutil.copy(int8_questions._runner.graph, graph)
    text = ["Why is the group shrouded in secrecy?"]
    expected = OpenVinoModel(graph, int8_questions.tokenizer, question_model=int8_question_model).run_question(text[0])
    assert np.allclose(expected, int8_questions.encode_query(text[0]))
    record = json.loads((tmp_path / RECORD).read_text())
    assert record["calibration_sha256"] and record["nncf"] and set(record["files"]) == set(FILES)
    weights = tmp_path / FILES[1]
    size = weights.stat().st_size
    weights.write_bytes(weights.read_bytes()[: size // 2])
    again = OpenVinoModel(graph, int8_questions.tokenizer, question_model=int8_question_model)
    assert again.question_precision == "int8" and np.allclose(again.run_question(text[0]), expected)
    assert weights.stat().st_size == size


def test_int8_questions_can_be_turned_off(monkeypatch):
    monkeypatch.setenv("ASKKHORASAN_INT8_QUESTIONS", "0")
    assert Embedder(backend="openvino")._runner.question_precision == "bf16"


def test_int8_questions_are_on_only_where_the_cpu_has_int8_units_unless_asked(monkeypatch):
    from askkhorasan import question_graph

    monkeypatch.delenv("ASKKHORASAN_INT8_QUESTIONS", raising=False)
    for cpu_flags, on in (({"avx2", "avx512_vnni"}, True), ({"avx2", "avx_vnni"}, True),
                          ({"amx_int8"}, True), ({"avx2", "fma"}, False), (set(), False)):
        monkeypatch.setattr(cpu, "flags", lambda f=frozenset(cpu_flags): f)
        assert question_graph.enabled() is on, cpu_flags
        monkeypatch.setenv("ASKKHORASAN_INT8_QUESTIONS", "0")
        assert not question_graph.enabled()
        monkeypatch.setenv("ASKKHORASAN_INT8_QUESTIONS", "1")
        assert question_graph.enabled()
        monkeypatch.delenv("ASKKHORASAN_INT8_QUESTIONS")


def _child_output(code: str, without: tuple[str, ...]) -> list[str]:
    """The words a fresh Python prints running `code`, with these variables unset (CI markers:
    telemetry switches itself off when it sees them)."""
    env = {k: v for k, v in os.environ.items() if k not in without}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout.split()


@pytest.mark.slow
def test_nncf_is_imported_without_its_usage_telemetry():
    """nncf.quantize sends Google Analytics events unless NNCF_CI is set when nncf is imported."""
    pytest.importorskip("nncf")
    code = (
        "import os\n"
        "from askkhorasan.question_graph import _import_nncf\n"
        "_import_nncf()\n"
        "from nncf.telemetry import wrapper\n"
        "print(isinstance(wrapper.telemetry, wrapper.NNCFTelemetry), os.environ.get('NNCF_CI'))\n"
    )
    assert _child_output(code, without=("NNCF_CI", "NNCF_DEV", "CI")) == ["False", "None"]  # a stub; NNCF_CI put back


def test_answering_imports_no_torch(seed_built):
    from askkhorasan.answer_model import shared_answer_model

    shared_answer_model()  # the answer model's graph is exported (with torch) once, here, not in the child
    code = (
        "import sys, askkhorasan as ak\n"
        f"a = ak.ask('Why is the group shrouded in secrecy?', index_dir={str(seed_built.index_dir)!r})\n"
        "assert a.found, a\n"
        "heavy = sorted({m.split('.')[0] for m in sys.modules} & {'torch', 'sentence_transformers', 'transformers', "
        "'sklearn', 'gradio', 'pandas'})\n"
        "print(','.join(heavy))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "ASKKHORASAN_BACKEND": DEFAULT_BACKEND}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == ""


def test_manifest_records_the_backend(seed_built, embedder):
    manifest = seed_built.index.manifest
    assert manifest["embedding"]["backend"] == embedder.backend
    assert manifest["embedding"]["precision"] == embedder.precision == BACKENDS[embedder.backend][1]
    assert manifest["embedding"]["graph_sha256"] == embedder.graph_sha256


def test_index_from_another_backend_is_refused_then_rebuilt(corpus_copy, embedder):
    corpus, index_dir = corpus_copy
    build_index(corpus, index_dir, embedder=embedder)
    path = current_generation(index_dir) / "manifest.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    manifest["embedding"] = {"backend": "onnx-int8", "library": "onnxruntime", "precision": "int8"}
    path.write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(IndexIncompatibleError, match=r"askkhorasan build --index .*ASKKHORASAN_BACKEND"):
        Index(index_dir, embedder=embedder)
    again = build_index(corpus, index_dir, embedder=embedder)
    assert again.embedded_passages == again.passages  # nothing reused across backends
    assert Index(index_dir, embedder=embedder).search("secrecy", k=1)


def test_index_from_before_backends_were_recorded_is_torch_fp32(embedder):
    assert compatible(None, embedder.precision) and compatible({}, embedder.precision)
    assert not compatible({"precision": "int8"}, embedder.precision)


def test_damaged_cached_graph_is_not_used(embedder, tmp_path, monkeypatch):
    monkeypatch.setenv("ASKKHORASAN_CACHE", str(tmp_path / "cache"))
    folder = tmp_path / "cache" / "onnx" / "embedder-fp32-x"
    folder.mkdir(parents=True)
    graph = embedder._runner.graph
    (folder / GRAPH).write_bytes(graph.read_bytes()[:1000])
    (folder / RECORD).write_text((graph.parent / RECORD).read_text())
    assert _checked(folder) is None and not folder.exists()


@pytest.fixture
def corpus_copy(tmp_path):
    import shutil

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(SEED, corpus / SEED.name)
    return corpus, tmp_path / "index"


@pytest.mark.slow
def test_cross_encoder_exports_and_runs_like_torch(tmp_path, embedder):
    """The same exporter and runner serve a one-logit BERT cross-encoder over (question, passage) pairs."""
    import torch
    from transformers import BertConfig, BertForSequenceClassification

    from askkhorasan.onnx_export import export_onnx
    from askkhorasan.onnx_model import OnnxModel

    torch.manual_seed(0)
    config = BertConfig(vocab_size=30522, hidden_size=64, num_hidden_layers=2, num_attention_heads=4,
                        intermediate_size=128, num_labels=1)
    model = BertForSequenceClassification(config).eval()
    graph = export_onnx(model, "cross-encoder", tmp_path / "ce.onnx")
    runner = OnnxModel(graph, embedder.tokenizer)
    pairs = [("Why is the group shrouded in secrecy?", "As such factors have remained unexplored."),
             ("Who?", "word " * 300), ("a", "b")]
    logits = runner.run(pairs)
    assert logits.shape == (3, 1)
    feed = {k: torch.from_numpy(v) for k, v in embedder.tokenizer.batch(pairs).items()}
    assert (feed["token_type_ids"].sum(1) > 0).all()  # the second text is marked as such
    with torch.no_grad():
        expected = model(**feed).logits.numpy()
    assert np.allclose(logits, expected, atol=1e-4)
    assert np.allclose(runner.run(pairs[:1]), expected[:1], atol=1e-4)


def test_stop_words_are_bm25s_own():
    import bm25s.stopwords

    from askkhorasan.lexical import STOPWORDS, question_terms

    assert set(STOPWORDS) == set(bm25s.stopwords.STOPWORDS_EN_PLUS) - {"won"}
    # The words questions are made of go; content words that other lists drop stay searchable.
    terms = question_terms("What did the system find about the fire, and which bill won first?")
    assert not {"what", "did", "the", "about", "which", "and"} & set(terms)
    assert {"system", "find", "fire", "bill", "first", "won"} <= set(terms)


def test_status_calls_an_index_from_another_backend_stale(seed_built, monkeypatch):
    from askkhorasan.status import index_status

    assert not index_status(seed_built.corpus, seed_built.index_dir).stale
    monkeypatch.setenv("ASKKHORASAN_BACKEND", "onnx-int8")
    status = index_status(seed_built.corpus, seed_built.index_dir)
    assert status.stale and "askkhorasan build" in status.problem


def test_openvino_conversion_is_kept_and_checked(bf16, tmp_path):
    """OpenVINO's converted graph is kept beside the ONNX graph; a damaged one is remade, never read."""
    import shutil

    from askkhorasan.openvino_model import IR_FILES, IR_RECORD, OpenVinoModel

    graph = tmp_path / "model.onnx"
    shutil.copy(bf16._runner.graph, graph)
    text = ["Why is the group shrouded in secrecy?"]
    expected = OpenVinoModel(graph, bf16.tokenizer).run(text)
    assert (tmp_path / IR_RECORD).is_file() and all((tmp_path / name).is_file() for name in IR_FILES)
    assert np.allclose(OpenVinoModel(graph, bf16.tokenizer).run(text), expected)  # read from the kept files
    weights = tmp_path / IR_FILES[1]
    size = weights.stat().st_size
    weights.write_bytes(weights.read_bytes()[: size // 2])
    assert np.allclose(OpenVinoModel(graph, bf16.tokenizer).run(text), expected)
    assert weights.stat().st_size == size


@pytest.mark.parametrize("setting, expected", [(None, min(2, len(os.sched_getaffinity(0)))), ("1", 1)])
def test_openvino_runs_a_question_on_one_thread_and_the_answer_models_pairs_on_two(bf16, monkeypatch, setting,
                                                                                  expected):
    """The answer model's eight pairs were faster on two threads on a quiet 2-core machine, a
    question was not; ASKKHORASAN_THREADS=1 is the way back to one thread on a busy server, and
    it reaches the compiled graphs."""
    from askkhorasan.openvino_model import SMALL_BATCH, OpenVinoModel

    if setting is None:
        monkeypatch.delenv("ASKKHORASAN_THREADS", raising=False)
    else:
        monkeypatch.setenv("ASKKHORASAN_THREADS", setting)
    model = OpenVinoModel(bf16._runner.graph, bf16.tokenizer)
    model.run(["Why is the group shrouded in secrecy?"])
    model.run([("Why is the group shrouded in secrecy?", "It keeps its leaders hidden.")] * SMALL_BATCH)
    threads = {key[0]: compiled.get_property("INFERENCE_NUM_THREADS") for key, (compiled, _) in model._compiled.items()}
    assert threads == {1: 1, SMALL_BATCH: expected}


def test_openvino_is_imported_without_its_usage_telemetry():
    """`import openvino` sends a Google Analytics event and counts itself in ~/intel unless
    opted out; the product imports it with the telemetry off, and leaves CI as it found it."""
    pytest.importorskip("openvino")
    code = (
        "import os\n"
        "from askkhorasan.openvino_model import import_openvino\n"
        "import_openvino()\n"
        "import openvino_telemetry\n"
        "print(openvino_telemetry.Telemetry().consent, os.environ.get('CI'))\n"
    )
    assert _child_output(code, without=("CI", "TF_BUILD", "JENKINS_URL")) == ["False", "None"]


def test_a_build_frees_the_models_batch_buffers_once_it_has_embedded(tmp_path):
    """The batch graph keeps the activations of its widest batch (~150 MB at 16 passages): a
    build drops it after embedding, before FAISS and BM25 reach its peak; batches after it still work."""
    embedder = Embedder()
    texts = [f"Sentence number {i} about couriers and the routes they took through the valley." for i in range(40)]
    first = embedder.encode(texts)
    runner = embedder._runner
    held = (lambda: "batch" in runner._compiled) if hasattr(runner, "_compiled") else (lambda: runner._batch is not None)
    assert held()
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "notes.txt").write_text(" ".join(texts))
    build_index(corpus, tmp_path / "index", embedder=embedder)
    assert not held()
    assert np.allclose(embedder.encode(texts), first, atol=1e-6)
