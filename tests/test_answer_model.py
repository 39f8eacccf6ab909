"""The trained answer model and its selection settings: real weights, checked like index files."""

import json
import shutil

import numpy as np
import pytest

from askkhorasan import answer_model, rerank
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


def test_the_scorer_features_are_the_ones_the_code_computes():
    from askkhorasan.answer import WEIGHTS
    assert len(FEATURES) == len(WEIGHTS)


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


@pytest.mark.xfail(strict=True, reason="known gap: trained on SQuAD, the model still leans on shared words "
                                       "(\"paid\" never meets \"funded\"); see README, What is not solved")
def test_a_question_in_other_words_finds_its_sentence(model):
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
