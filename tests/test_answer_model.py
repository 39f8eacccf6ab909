"""The trained answer model and its selection settings: real weights, checked like index files."""

import json
import shutil

import numpy as np
import pytest

from pathlib import Path

from askkhorasan import abstain, answer_model, linear_model, rerank
from askkhorasan.answer import FEATURES
from askkhorasan.errors import ModelError
from askkhorasan.hashing import sha256_file


@pytest.fixture(scope="module")
def model():
    return answer_model.shared_answer_model()


def test_the_shipped_artefacts_are_small_and_described():
    meta = json.loads(answer_model.METADATA.read_text())
    assert answer_model.ARTEFACT.stat().st_size <= 30 * 1024 * 1024
    assert meta["weights_sha256"] == sha256_file(answer_model.ARTEFACT)
    for key in ("data_sha256", "arguments", "script", "minutes"):
        assert key in meta["training"], key
    assert meta["versions"]["torch"] and meta["metrics"]
    selection = json.loads(rerank.SELECTION.read_text())
    assert selection["selection"]["answer_model_sha256"] == meta["weights_sha256"], \
        "answer_selection.json was fitted against another answer model: rerun training/fit_selection.py --write"
    assert selection["provenance"]["depends_on"]["answer_model.json"] == sha256_file(answer_model.METADATA)
    sel = rerank.Selection.load()
    assert set(sel.confidence_features) <= {"score", "model_logit", "feature_logit", "margin", "feature_answerable"}
    assert len(sel.weights) == 2 and 1 <= sel.read <= 32 and 0.0 <= sel.found_threshold < 1.0 and sel.min_feature_answerable >= 0.0


LINEAR_MODELS = {"feature_scorer.json": FEATURES, "answerability.json": abstain.FEATURES}


@pytest.mark.parametrize("name", sorted(LINEAR_MODELS))
def test_each_fitted_model_is_data_with_its_provenance(name):
    data = linear_model.read(name)
    assert tuple(data["features"]) == LINEAR_MODELS[name], f"{name} names other features than the code computes"
    assert len(data["weights"]) == len(data["features"]) and isinstance(data["bias"], float)
    assert (Path(__file__).parents[1] / data["training"]["script"]).is_file()
    assert data["training"]["arguments"] and all(len(h) == 64 for h in data["training"]["data"].values())
    assert data["metrics"], f"{name} records no metrics"
    for dep, sha in data["depends_on"].items():
        assert linear_model.dependency_sha256(dep) == sha, f"{name} was fitted against another {dep}"


def test_the_chain_of_fitted_artefacts_agrees():
    # The answerability model reads the scorer's logit; the selection reads both and the answer model.
    assert "feature_scorer.json" in linear_model.read("answerability.json")["depends_on"]
    selection = json.loads(rerank.SELECTION.read_text())["provenance"]["depends_on"]
    assert set(selection) == {"answer_model.json", "feature_scorer.json", "answerability.json"}
    for dep, sha in selection.items():
        assert linear_model.dependency_sha256(dep) == sha, f"answer_selection.json was fitted against another {dep}"


def test_the_features_the_code_computes_are_the_named_ones(seed_index):
    gen, table, hits, cands = seed_index.candidates("Why is the group shrouded in secrecy?")
    assert cands and all(c.features.shape == (len(FEATURES),) for c in cands)
    assert abstain.features(gen, table, "Why is the group shrouded in secrecy?", hits, cands).shape == (len(abstain.FEATURES),)


@pytest.fixture()
def models_copy(tmp_path):
    shutil.copytree(linear_model.MODELS, tmp_path / "models")
    yield tmp_path / "models"
    linear_model.load.cache_clear()


def _edit(path, change):
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


def test_a_retrained_scorer_invalidates_what_depends_on_it(models_copy):
    assert linear_model.load("answerability.json", abstain.FEATURES, models_copy).features == abstain.FEATURES
    _edit(models_copy / "feature_scorer.json", lambda d: d["weights"].__setitem__(0, 1.0))
    linear_model.load.cache_clear()
    with pytest.raises(ModelError, match=r"answerability.json was fitted against another feature_scorer.json — rerun bench/train_abstention.py --write"):
        linear_model.load("answerability.json", abstain.FEATURES, models_copy)
    with pytest.raises(ModelError, match="fitted against another feature_scorer.json — rerun training/fit_selection.py --write"):
        rerank.Selection.load(models_copy / "answer_selection.json")


def test_a_description_can_be_corrected_without_invalidating_anything(models_copy):
    _edit(models_copy / "feature_scorer.json", lambda d: d["training"].update(note="corrected"))
    assert linear_model.load("answerability.json", abstain.FEATURES, models_copy)


@pytest.mark.parametrize("change, message", [
    (lambda d: d["features"].reverse(), "other features than the code computes — rerun bench/train_answer.py --write"),
    (lambda d: d["weights"].pop(), "other features than the code computes"),
    (lambda d: d.pop("bias"), "damaged"),
    (lambda d: d.update(format=99), "missing or damaged"),
])
def test_a_stale_or_damaged_model_file_is_refused(models_copy, change, message):
    _edit(models_copy / "feature_scorer.json", change)
    with pytest.raises(ModelError, match=message):
        linear_model.load("feature_scorer.json", FEATURES, models_copy)


BRIDGE = [
    "The bridge was opened to traffic in the spring of 1932.",
    "Its construction was funded by a loan from the city's merchants' guild.",
    "Engineers chose steel over stone because of the river's width.",
]


@pytest.mark.parametrize("question, answer", [
    ("How was the bridge financed?", 1),
    ("When did the bridge open?", 0),
    ("What material did engineers choose for the bridge?", 2),
])
def test_the_answering_sentence_outscores_its_neighbours(model, question, answer):
    logits = model.logits(question, BRIDGE)
    assert logits.shape == (3,) and int(np.argmax(logits)) == answer, logits


def test_a_question_in_other_words_finds_its_sentence(model):
    # "paid" never meets "funded": the model trained with half its questions' shared words masked finds it
    assert int(np.argmax(model.logits("Who paid for the new bridge?", BRIDGE))) == 1


def test_a_sentence_that_talks_around_the_question_scores_low(model):
    # The passage is about the subject but never says who leads it.
    logits = model.logits("Who is the current leader of the movement?", [
        "The movement grew quickly in the northern provinces during the 1990s.",
        "Its members are known for their strict discipline and secrecy.",
    ])
    assert (logits < 0).all(), logits


def test_altered_weights_are_refused(tmp_path):
    meta = json.loads(answer_model.METADATA.read_text())
    shutil.copy(answer_model.METADATA, tmp_path / answer_model.METADATA.name)
    damaged = bytearray(answer_model.ARTEFACT.read_bytes())
    damaged[len(damaged) // 2] ^= 0xFF
    (tmp_path / meta["weights_file"]).write_bytes(bytes(damaged))
    with pytest.raises(ModelError, match="reinstall"):
        answer_model.AnswerModel(tmp_path / answer_model.METADATA.name)


def test_missing_weights_are_refused(tmp_path):
    shutil.copy(answer_model.METADATA, tmp_path / answer_model.METADATA.name)
    with pytest.raises(ModelError, match="missing or altered"):
        answer_model.AnswerModel(tmp_path / answer_model.METADATA.name)


@pytest.mark.slow
@pytest.mark.parametrize("backend, within", [("onnx", 1e-3), ("openvino", 0.1)])
def test_graph_logits_match_torch(backend, within):
    """fp32 on ONNX Runtime gives torch's logits; bf16 on OpenVINO within 0.1 (measured at most
    0.041 over 800 SQuAD pairs), which the selection weights, fitted on fp32 logits, absorb."""
    fast_model = answer_model.AnswerModel(backend=backend)
    torch_model = answer_model.AnswerModel(backend="torch")
    questions = ["How was the bridge financed?", "Who is the current leader of the movement?"]
    for q in questions:
        fast, reference = fast_model.logits(q, BRIDGE), torch_model.logits(q, BRIDGE)
        assert np.abs(fast - reference).max() < within, (fast, reference)
