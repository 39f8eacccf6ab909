"""What the app does before it serves: the models load while Gradio imports, Gradio imports
without IPython and with the garbage collector paused, and nothing is loaded that the first
answer does not need."""

import gc
import json
import os
import subprocess
import sys

import pytest

from conftest import ROOT, _free_port


def test_warm_up_opens_the_index_and_loads_both_models(seed_built):
    from askkhorasan.index import forget_open_indexes, open_index
    from askkhorasan.webapp import warm_up

    forget_open_indexes()
    warm_up(seed_built.index_dir).join(timeout=300)
    index = open_index(seed_built.index_dir)
    assert index._answer_model is not None  # it answered a question, so the first real one is warm
    forget_open_indexes()


@pytest.mark.slow
def test_gradio_is_imported_only_when_serving_and_then_without_ipython_or_rewriting_its_stubs():
    code = (
        "import sys\n"
        "import askkhorasan.webapp as w\n"
        "assert 'gradio' not in sys.modules, 'importing the app module must not import gradio'\n"
        "w._import_gradio()\n"
        "import gradio, gradio.component_meta as meta\n"
        "assert sys.modules.get('IPython') is None\n"
        "assert meta.create_or_modify_pyi is w._leave_stubs_alone\n"
        "assert not any(isinstance(f, w._StubsLeftAlone) for f in sys.meta_path)\n"
        "with gradio.Blocks() as app:\n"
        "    gradio.Markdown('ok')\n"
        "    box = gradio.Textbox(label='question')\n"
        "    box.submit(lambda q: q, box, box)\n"
        "print('served')\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "GRADIO_ANALYTICS_ENABLED": "False"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "served"


def test_collection_is_paused_while_starting_then_on_with_start_ups_objects_frozen():
    from askkhorasan.webapp import _collection_paused

    assert gc.isenabled()
    frozen = gc.get_freeze_count()
    try:
        with pytest.raises(RuntimeError), _collection_paused():
            kept = [[] for _ in range(1000)]
            assert not gc.isenabled()
            raise RuntimeError("start-up failed")
        assert gc.isenabled()  # on again after a failed start too
        assert gc.get_freeze_count() >= frozen + len(kept)
        gc.disable()
        with _collection_paused():
            pass
        assert not gc.isenabled()  # a caller's choice to run without it is left alone
    finally:
        gc.enable()
        gc.unfreeze()


def test_answering_on_openvino_imports_no_onnxruntime(seed_built):
    from askkhorasan.embed import DEFAULT_BACKEND

    if DEFAULT_BACKEND != "openvino":
        pytest.skip("OpenVINO is not the default backend on this CPU")
    code = (
        "import sys, askkhorasan as ak\n"
        f"a = ak.ask('Why is the group shrouded in secrecy?', index_dir={str(seed_built.index_dir)!r})\n"
        "assert a.found, a\n"
        "print('onnxruntime' in sys.modules)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "ASKKHORASAN_BACKEND": "openvino"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


@pytest.mark.slow
def test_the_app_starts_with_only_what_the_first_answer_needs(seed_built):
    """`serve` in its own process: once it listens, the collector is on again with start-up's
    objects frozen, questions run four at a time, and building, uploading and the source viewer
    are not loaded until used; the first question gets its answer."""
    code = (
        "import gc, json, sys\n"
        "from askkhorasan.webapp import serve\n"
        f"app = serve(corpus_dir={str(seed_built.corpus)!r}, index_dir={str(seed_built.index_dir)!r}, "
        f"port={_free_port()}, prevent_thread_lock=True, quiet=True)\n"
        "loaded = sorted(m for m in ('askkhorasan.build', 'askkhorasan.sources', 'askkhorasan.chunk', "
        "'askkhorasan.upload', 'askkhorasan.viewer', 'onnxruntime', 'torch') if m in sys.modules)\n"
        "state = {'gc': gc.isenabled(), 'frozen': gc.get_freeze_count(), 'loaded': loaded,\n"
        "         'ipython': sys.modules.get('IPython', 'absent'), 'limit': app._queue.default_concurrency_limit}\n"
        "from gradio_client import Client\n"
        "state['answer'] = Client(app.local_url, verbose=False).predict("
        "'Why is the group shrouded in secrecy?', api_name='/ask')['found']\n"
        "import time\n"
        "from askkhorasan import names\n"
        "deadline = time.monotonic() + 60\n"
        "while names._loaded is None and time.monotonic() < deadline:\n"
        "    time.sleep(0.1)\n"
        "state['names'] = names._loaded is not None\n"
        "state['torch_after'] = 'torch' in sys.modules\n"
        "print('state:', json.dumps(state))\n"
        "app.close()\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "GRADIO_ANALYTICS_ENABLED": "False"}
    env.pop("GRADIO_DEFAULT_CONCURRENCY_LIMIT", None)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=600)
    assert out.returncode == 0, out.stderr
    state = json.loads(next(line for line in out.stdout.splitlines() if line.startswith("state:"))[6:])
    assert state["gc"] and state["frozen"] > 100_000
    # Of the libraries checked, only the one that embeds the question on this CPU's default backend.
    from askkhorasan.embed import BACKENDS, default_backend

    library = BACKENDS[default_backend()][0]
    assert state["loaded"] == ([library] if library in ("onnxruntime", "torch") else [])
    assert state["ipython"] is None
    assert state["limit"] == 4
    # After the first answer the name recogniser loads in the background, and still without torch.
    assert state["names"] and not state["torch_after"]
    assert state["answer"] is True
