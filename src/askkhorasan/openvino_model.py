"""An exported ONNX graph on OpenVINO, in bfloat16 where the CPU computes it natively. No torch.

    model = OpenVinoModel(graph_path, WordPieces(model_dir, 256))
    model.run(["a sentence", "another"])            # embedder: (2, 384) normalized vectors
    model.run([("question", "passage"), ...])       # cross-encoder: (n, num_labels) logits

It reads the same cached graph as ONNX Runtime (graph_cache.py): nothing new is exported;
OpenVINO's conversion of it is kept beside it, checked like it (see _read).
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import secrets
import sys
import threading
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from .environment import temporarily
from .graph_cache import remembered_sha256
from .onnx_model import batch_threads
from .wordpieces import WordPieces

IR_FILES = ("openvino.xml", "openvino.bin")
IR_RECORD = "openvino.json"

# Up to this many inputs are small: a question runs on one thread, the answer model's eight
# candidates on at most two (fewer with ASKKHORASAN_THREADS=1). Measured on this 2-core machine
# with each call after 20 ms idle, as questions come: quiet, the eight pairs took 14.6 ms on two
# threads against 23-24 ms on one (back to back, warm `ask` p50 27.9 against 44.6 ms), while a
# question took 4.4-4.6 ms either way; with another process busy on one core, the eight pairs
# took 28-33 ms on two against 25-27 ms on one, and a question 15-17 ms on two against 4.7 ms on
# one (a sleeping second thread is slow to wake beside other work). So a question never waits
# for a second thread, and a busy shared server is better served by ASKKHORASAN_THREADS=1.
# Larger batches (building) use every core.
SMALL_BATCH = 8
SMALL_THREADS_MAX = 2
BATCH_WIDTH_STEP = 32  # batches are padded to a multiple of this many word pieces (see run)
# Small inputs run on graphs compiled for a fixed shape, padded up to it (the padding is
# masked, so the results do not change: cosine 0.9999998 to the unpadded vectors). Measured
# in CPU time on this machine under load: a question 3.7 ms at [1, 16] against 6.9 ms with
# dynamic shapes; the answer model's eight pairs 23.7 ms at [8, 64] against 34.8 ms. Each
# shape costs ~60 MB and ~0.6 s to compile, at its first use, so there are few of them:
# rows -> widths. Other inputs use the dynamic graph.
SHAPES = {1: (16, 32, 64), SMALL_BATCH: (64, 96)}


def small_threads(rows: int = SMALL_BATCH) -> int:
    """Threads for up to SMALL_BATCH inputs: one for a single input; for more, the batch
    threads, at most two."""
    return 1 if rows == 1 else min(SMALL_THREADS_MAX, batch_threads())


def _compile(core, model, threads: int, precision: str):
    return core.compile_model(model, "CPU", {
        "INFERENCE_PRECISION_HINT": precision,
        "INFERENCE_NUM_THREADS": threads,
        "PERFORMANCE_HINT": "LATENCY",
    })


def import_openvino():
    """`import openvino`, without its usage telemetry.

    Importing openvino (its model converter, `openvino.tools.ovc`) counts the import in
    ~/intel and sends an event to Google Analytics unless the user has opted out with
    openvino_telemetry's `opt_in_out --opt_out`; a tool that promises to run offline on
    analysts' sources must not call out. The telemetry turns itself off for the whole
    process when it starts inside CI (`CI=true`), its only switch that needs no file in
    the user's home, so that variable is set for the import alone."""
    if "openvino" in sys.modules:
        return sys.modules["openvino"]
    with temporarily("CI", "true"):
        import openvino
    return openvino


def kept_ir(core, folder: Path, files: tuple[str, str], record_name: str, wanted: dict):
    """The OpenVINO model kept in `folder` as `files` (.xml, .bin), if its record there says it
    was made from `wanted` and each file still has the size and sha256 recorded; else None."""
    with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
        record = json.loads((folder / record_name).read_text(encoding="utf-8"))
        if all(record[k] == v for k, v in wanted.items()) and all(
            (folder / name).stat().st_size == record["files"][name]["bytes"]
            and remembered_sha256(folder / name) == record["files"][name]["sha256"] for name in files
        ):
            return core.read_model(str(folder / files[0]))
    return None


def keep_ir(ov, model, folder: Path, files: tuple[str, str], record_name: str, record: dict) -> None:
    """Save `model` into `folder` as `files`, then the record (`record` with each file's size and
    sha256) that kept_ir checks. Each file is written whole or not at all; a read-only folder only
    costs remaking the model next time."""
    with contextlib.suppress(OSError):
        tag = secrets.token_hex(4)
        tmp = folder / f".{Path(files[0]).stem}.{tag}.xml"
        ov.save_model(model, str(tmp), compress_to_fp16=False)
        (folder / record_name).unlink(missing_ok=True)
        for suffix, name in zip((".xml", ".bin"), files):
            os.replace(tmp.with_suffix(suffix), folder / name)
        record = {**record, "files": {name: {"bytes": (folder / name).stat().st_size,
                                             "sha256": remembered_sha256(folder / name)} for name in files}}
        tmp_record = folder / f".{record_name}.{tag}"
        tmp_record.write_text(json.dumps(record, indent=2), encoding="utf-8")
        os.replace(tmp_record, folder / record_name)


def _read(core, graph: Path):
    """The graph as an OpenVINO model. Converting the ONNX file takes 0.10-0.15 s at every
    load, reading OpenVINO's own format 0.02 s; so the converted model is kept beside the
    ONNX graph in the graph cache, with its size, sha256 and the OpenVINO version in
    openvino.json, and checked on load like the graph (remade from the graph if not whole)."""
    ov = import_openvino()
    wanted = {"openvino": ov.__version__, "onnx_sha256": remembered_sha256(graph)}
    kept = kept_ir(core, graph.parent, IR_FILES, IR_RECORD, wanted)
    if kept is not None:
        return kept
    model = core.read_model(str(graph))
    keep_ir(ov, model, graph.parent, IR_FILES, IR_RECORD, wanted)
    return model


def _shape(rows: int, width: int) -> tuple[int, int] | None:
    """The fixed shape a small input is padded to, or None for the dynamic graph."""
    padded_rows = 1 if rows == 1 else SMALL_BATCH if rows <= SMALL_BATCH else None
    if padded_rows is None:
        return None
    widths = [w for w in SHAPES.get(padded_rows, ()) if w >= width]
    return (padded_rows, widths[0]) if widths else None


class OpenVinoModel:
    """The graph compiled for fixed small shapes on up to two threads, and with dynamic shapes on
    all cores for batches.

    An OpenVINO infer request serves one call at a time, so each call takes one from a pool
    (made when none is free): concurrent questions run side by side, as on ONNX Runtime.
    """

    def __init__(self, graph: str | Path, tokenizer: WordPieces, precision: str = "bf16",
                 question_model: Callable | None = None):
        ov = import_openvino()

        self.graph = Path(graph)
        self.tokenizer = tokenizer
        self.precision = precision
        self._core = ov.Core()
        self._model = _read(self._core, self.graph)
        self._inputs = [i.get_any_name() for i in self._model.inputs]
        # Questions (run_question) on the model `question_model(core, model, graph, tokenizer,
        # inputs)` gives (question_graph.int8_question_model: the int8 graph, or None), asked for at
        # the first question, so that a build never loads it.
        self._make_question_model = question_model
        self._question_model: Any = None  # an openvino.Model
        self._question_model_tried = question_model is None
        self._lock = threading.Lock()
        self._compiled: dict = {}  # shape or "dynamic", "batch" -> (compiled model, pool of requests)

    def _get(self, key):
        with self._lock:
            if key not in self._compiled:
                if isinstance(key, tuple) and key[0] == "question":
                    model = self._question_model.clone()
                    model.reshape({name: list(key[1:]) for name in self._inputs})
                    threads = small_threads(1)
                elif isinstance(key, tuple):
                    model = self._model.clone()
                    model.reshape({name: list(key) for name in self._inputs})
                    threads = small_threads(key[0])
                else:
                    model, threads = self._model, (small_threads() if key == "dynamic" else batch_threads())
                self._compiled[key] = (_compile(self._core, model, threads, self.precision), queue.SimpleQueue())
            return self._compiled[key]

    def release_batch(self) -> None:
        """Drop the graph compiled for batches, with its requests' buffers (activations of the
        widest batch seen: ~150 MB at 16 passages); the next batch compiles it again (~0.3 s)."""
        with self._lock:
            self._compiled.pop("batch", None)

    @property
    def question_precision(self) -> str:
        """What run_question computes in: "int8" when the int8 question graph is in use."""
        return "int8" if self._int8_model() is not None else self.precision

    def _int8_model(self):
        if not self._question_model_tried:  # every question after the first skips the lock
            with self._lock:
                if not self._question_model_tried:
                    assert self._make_question_model is not None
                    self._question_model = self._make_question_model(self._core, self._model, self.graph,
                                                                     self.tokenizer, self._inputs)
                    self._question_model_tried = True
        return self._question_model

    def run_question(self, text: str) -> np.ndarray:
        """One question's output row: on the int8 question graph when there is one, else as run."""
        return self.run([text], question=self._int8_model() is not None)[0]

    def run(self, texts: Sequence[str] | Sequence[tuple[str, str]], question: bool = False) -> np.ndarray:
        """The graph's one output for a batch of texts or text pairs, as float32 rows (`question`:
        one text, on the int8 question graph; see run_question)."""
        rows = len(texts)
        shape: tuple[int, int] | None = None

        def pad_to(rows: int, width: int) -> tuple[int, int]:
            nonlocal shape
            shape = _shape(rows, width)
            if shape is not None:
                return shape
            if rows > SMALL_BATCH:
                # OpenVINO's CPU plugin keeps buffers and kernels for every input shape it has run:
                # 2,048 texts of 20-200 words in batches of 16 grew a build by 527 MB with their own
                # widths, and by 214 MB padded to multiples of 32, at 10% less CPU (vectors within
                # cosine 0.999996; the padding is masked).
                return rows, width + (-width % BATCH_WIDTH_STEP)
            return rows, width

        # Made at the padded shape at once: np.pad of three arrays cost a question ~0.19 ms.
        feed = {k: v for k, v in self.tokenizer.batch(texts, pad_to=pad_to).items() if k in self._inputs}
        key: object = shape or ("dynamic" if rows <= SMALL_BATCH else "batch")
        if question and shape is not None and rows == 1:
            key = ("question", *shape)
        compiled, pool = self._get(key)
        try:
            request = pool.get_nowait()
        except queue.Empty:
            request = compiled.create_infer_request()
        try:
            request.infer(feed, share_inputs=True)
            return np.array(request.get_output_tensor(0).data[:rows], dtype=np.float32)  # a copy: the request is reused
        finally:
            pool.put(request)
