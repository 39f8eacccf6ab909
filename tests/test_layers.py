"""The package's shape: imports that run one way, cheap imports, the public table of contents."""

import os
import subprocess
import sys

import grimp
import pytest

import askkhorasan

from conftest import ROOT

HEAVY = ("torch", "faiss", "bm25s", "sentence_transformers", "transformers", "onnxruntime", "gradio")


def _graph():
    return grimp.build_graph("askkhorasan", exclude_type_checking_imports=True, cache_dir=None)


def _cycles(graph) -> list[list[str]]:
    """One import chain per module that leads back to itself."""
    found = []
    for module in sorted(graph.modules):
        for imported in sorted(graph.find_modules_directly_imported_by(module)):
            back = graph.find_shortest_chain(importer=imported, imported=module)
            if back:
                found.append([module, *back])
                break
    return found


def test_no_module_imports_itself_through_others():
    # Every import counts, also those inside functions: a cycle there is a cycle in the design.
    graph = _graph()
    assert len(graph.modules) > 30
    cycles = _cycles(graph)
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(c) for c in cycles)


def test_the_cycle_check_sees_a_cycle():
    graph = _graph()
    graph.add_import(importer="askkhorasan.types", imported="askkhorasan.render")  # what types.py once did
    assert ["askkhorasan.render", "askkhorasan.types", "askkhorasan.render"] in _cycles(graph)


def test_lower_layers_do_not_import_the_faces():
    graph = _graph()
    faces = {"askkhorasan.cli", "askkhorasan.webapp", "askkhorasan.api", "askkhorasan.__main__"}
    for module in graph.modules - faces - {"askkhorasan"}:
        assert not graph.find_modules_directly_imported_by(module) & faces, module
    assert not graph.find_modules_directly_imported_by("askkhorasan.types") - {"askkhorasan.confidence"}
    # Status, upload and the viewer hash sources and hold them to the size limit as the build
    # does, through the same modules, not through the build.
    for module in ("askkhorasan.status", "askkhorasan.upload", "askkhorasan.viewer"):
        imported = graph.find_modules_directly_imported_by(module)
        assert "askkhorasan.build" not in imported and "askkhorasan.hashing" in imported, module
    for module in ("askkhorasan.status", "askkhorasan.upload", "askkhorasan.build"):
        assert "askkhorasan.corpus" in graph.find_modules_directly_imported_by(module), module


def _loaded_after(code: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE",
                                                             "TOKENIZERS_PARALLELISM", "GRADIO_ANALYTICS_ENABLED")}
    probe = (
        f"import json, os, sys\n{code}\n"
        f"print(json.dumps({{'heavy': [m for m in {HEAVY!r} if m in sys.modules],"
        f" 'env': [k for k in ('HF_HUB_OFFLINE', 'TOKENIZERS_PARALLELISM') if k in os.environ]}}))"
    )
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120,
                         env=env | {"PYTHONPATH": str(ROOT / "src")})
    assert run.returncode == 0, run.stderr
    import json

    return json.loads(run.stdout.strip().splitlines()[-1])


def test_import_loads_no_model_or_index_library_and_sets_no_environment():
    loaded = _loaded_after("import askkhorasan\nfrom askkhorasan import Answer, BuildReport, Settings, SourceError")
    assert loaded == {"heavy": [], "env": []}


def test_help_loads_no_model_or_index_library():
    code = ("from askkhorasan.cli import main\n"
            "for args in (['--help'], ['ask', '--help'], ['build', '--help'], ['serve', '--help']):\n"
            "    try:\n        main(args)\n    except SystemExit:\n        pass")
    assert _loaded_after(code)["heavy"] == []


def test_every_public_name_resolves():
    for name in askkhorasan.__all__:
        assert getattr(askkhorasan, name) is not None, name
    assert set(askkhorasan.__all__) <= set(dir(askkhorasan))
    with pytest.raises(AttributeError, match="no attribute 'nonexistent'"):
        askkhorasan.nonexistent  # noqa: B018


def test_python_dash_m_runs_the_app_with_the_serve_options():
    run = subprocess.run([sys.executable, "-m", "askkhorasan", "--help"], capture_output=True, text=True, timeout=120,
                         env={**os.environ, "PYTHONPATH": str(ROOT / "src")})
    assert run.returncode == 0, run.stderr
    for option in ("--host", "--port", "--corpus", "--index", "--max-source-mb", "--token-file",
                   "--allow-uploads-without-token", "ASKKHORASAN_INDEX"):
        assert option in run.stdout, option
