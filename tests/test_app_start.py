"""What the app does before it serves: the models load while Gradio imports, and Gradio
imports without IPython."""

import os
import subprocess
import sys

import pytest

from conftest import ROOT


def test_warm_up_opens_the_index_and_loads_both_models(seed_built):
    from askkhorasan.index import forget_open_indexes, open_index
    from askkhorasan.webapp import warm_up

    forget_open_indexes()
    warm_up(seed_built.index_dir).join(timeout=300)
    index = open_index(seed_built.index_dir)
    assert index._answer_model is not None  # it answered a question, so the first real one is warm
    forget_open_indexes()


@pytest.mark.slow
def test_gradio_is_imported_only_when_serving_and_then_without_ipython():
    code = (
        "import sys\n"
        "import askkhorasan.webapp as w\n"
        "assert 'gradio' not in sys.modules, 'importing the app module must not import gradio'\n"
        "w._import_gradio()\n"
        "import gradio\n"
        "assert sys.modules.get('IPython') is None\n"
        "with gradio.Blocks() as app:\n"
        "    gradio.Markdown('ok')\n"
        "print('served')\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "GRADIO_ANALYTICS_ENABLED": "False"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "served"
