"""The embedder's graph in int8 (weights and activations) for questions on OpenVINO.

A question is one short input, so its time goes to reading the model's weights rather than
to arithmetic, and between questions the weights fall out of the CPU's caches: on this
machine a question took 1.6 ms back to back but 3.6-4.4 ms after an `ask`. int8 halves what
is read and runs on the CPU's int8 units: 3.30-3.36 ms against 3.87-3.94 ms in bf16, each
measured after an `ask` (200 SQuAD questions, both graphs taking turns in one process).

Only questions use it. Passages are embedded by the bf16 graph, so an index's vectors do not
change, and a question vector from this graph searches them as well: its cosine to the bf16
vector is 0.998 on average, and the seed questions, the seed dev questions and the SQuAD
sample's 400 gave the same hit@1, MRR and answer accuracy to the last digit either way
(tests/test_fast_backend.py checks the seed set against torch).

It is made once per graph with NNCF's post-training quantization, calibrated on 300 SQuAD
*training* questions (models/question_calibration.json, written by
training/question_calibration.py), in about 10 s, and kept beside the graph with a record
of what made it, checked on load like the graph. Without nncf, when quantizing fails, or
with ASKKHORASAN_INT8_QUESTIONS=0, questions use the bf16 graph; on a CPU without an int8
dot-product unit too, unless ASKKHORASAN_INT8_QUESTIONS=1 (see `enabled`).
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
from pathlib import Path

from . import cpu
from .environment import temporarily
from .graph_cache import remembered_sha256
from .hashing import sha256_file
from .openvino_model import import_openvino, keep_ir, kept_ir

log = logging.getLogger(__name__)

CALIBRATION = Path(__file__).parent / "models" / "question_calibration.json"
FILES = ("question-int8.xml", "question-int8.bin")
RECORD = "question-int8.json"
# PERFORMANCE, everything in int8. MIXED (asymmetric activations) with the two products of
# activations in each attention left in bf16 came closer to the bf16 vectors (cosine 0.99836
# against 0.99792 on average over the seed dev and paraphrase questions) but answered one of
# the four unanswerable seed questions that torch's vectors refuse; this one changes none.
SETTINGS = {"method": "nncf.quantize", "preset": "performance", "model_type": "transformer", "subset_size": 300}
SWITCH = "ASKKHORASAN_INT8_QUESTIONS"


def enabled() -> bool:
    """On where the CPU has an int8 dot-product unit; ASKKHORASAN_INT8_QUESTIONS set wins.
    Without one (AVX2 only) the int8 graph is slower than the graph it replaces, 7.9 ms
    against 6.7 ms a question, and drifts further from torch (cosine 0.9963 on average over
    the seed questions there, against 0.9977 over 475 questions on a CPU with VNNI)."""
    setting = os.environ.get(SWITCH)
    if setting is not None:
        return setting != "0"
    return cpu.has_int8_dot()


def _import_nncf():
    """nncf, without its usage telemetry: it sends Google Analytics events from `quantize`
    unless NNCF_CI is set when it is imported (its switch for CI machines)."""
    with temporarily("NNCF_CI", "1"):
        import nncf
    return nncf


def int8_question_model(core, model, graph: Path, tokenizer, inputs: list[str]):
    """The int8 OpenVINO model for questions, made from `model` (the graph as OpenVINO `core`
    read it) if it is not kept beside `graph`; None when it cannot be had (the bf16 graph
    answers). OpenVinoModel calls it at its first question."""
    ov = import_openvino()
    folder = graph.parent
    try:
        wanted = {"openvino": ov.__version__, "onnx_sha256": remembered_sha256(graph),
                  "calibration_sha256": sha256_file(CALIBRATION), "settings": SETTINGS}
    except OSError as exc:
        log.warning("no int8 question graph (%s); questions use the bf16 graph", exc)
        return None
    kept = kept_ir(core, folder, FILES, RECORD, wanted)
    if kept is not None:
        return kept
    try:
        nncf = _import_nncf()
    except ImportError:
        log.info("nncf is not installed; questions use the bf16 graph")
        return None
    try:
        questions = json.loads(CALIBRATION.read_text(encoding="utf-8"))["questions"]
        feeds = [{k: v for k, v in tokenizer.batch([q]).items() if k in inputs} for q in questions]
        log.info("quantizing the question graph to int8, once, into %s", folder)
        nncf.set_log_level(logging.ERROR)
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):  # its progress bars
            quantized = nncf.quantize(model.clone(), nncf.Dataset(feeds), preset=nncf.QuantizationPreset.PERFORMANCE,
                                      model_type=nncf.ModelType.TRANSFORMER, subset_size=SETTINGS["subset_size"])
    except Exception as exc:  # an optional speed-up: any failure leaves the bf16 graph answering
        log.warning("quantizing the question graph failed (%s); questions use the bf16 graph", exc)
        return None
    keep_ir(ov, quantized, folder, FILES, RECORD, {**wanted, "nncf": nncf.__version__})
    return quantized
