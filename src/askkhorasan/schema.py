"""The shape a manifest must have before anything in it is trusted.

A manifest is the index's table of contents and its integrity record: a hand-edited one must
not crash the program with a traceback, and must not switch the file hashes off by leaving
them out. Every field the program reads is checked here, on load.
"""

from __future__ import annotations

import re

_SHA256 = re.compile(r"[0-9a-f]{64}")
REQUIRED_FILES = ("passages.faiss", "passages.sqlite", "documents.sqlite", "sentences.npy", "sentence_spans.npy",
                  "sentence_owner.npy")
SETTINGS_NUMBERS = ("max_tokens", "min_tokens", "overlap_sentences", "max_sentence_tokens")


def _is_sha(value) -> bool:
    return isinstance(value, str) and bool(_SHA256.fullmatch(value))


def _is_count(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def problems(manifest) -> list[str]:
    """What is wrong with a manifest's shape, in words; empty when it can be read."""
    if not isinstance(manifest, dict):
        return ["it is not a JSON object"]
    out: list[str] = []
    if not _is_count(manifest.get("format_version")):
        out.append("no format version")
    model = manifest.get("model")
    if not isinstance(model, dict) or not isinstance(model.get("name"), str) or not _is_sha(model.get("weights_sha256")):
        out.append("`model` is not a model name and weights hash")
    settings = manifest.get("settings")
    if not isinstance(settings, dict) or not all(_is_count(settings.get(k)) for k in SETTINGS_NUMBERS):
        out.append("`settings` lacks the chunking settings")
    counts = manifest.get("counts")
    if not isinstance(counts, dict) or not all(_is_count(counts.get(k)) for k in ("sources", "passages", "sentences")):
        out.append("`counts` is not a set of counts")
    sources = manifest.get("sources")
    if not isinstance(sources, dict) or not all(isinstance(k, str) and _is_sha(v) for k, v in sources.items()):
        out.append("`sources` is not a map of sources to hashes")
    for key in ("failed", "duplicates"):
        if not isinstance(manifest.get(key, {}), dict):
            out.append(f"`{key}` is not a map")
    failed = manifest.get("failed", {})
    if isinstance(failed, dict) and not all(isinstance(v, dict) and isinstance(v.get("reason"), str) for v in failed.values()):
        out.append("`failed` entries lack their reasons")
    duplicates = manifest.get("duplicates", {})
    if isinstance(duplicates, dict) and not all(isinstance(v, str) for v in duplicates.values()):
        out.append("`duplicates` does not name the sources repeated")
    stats = manifest.get("file_stats", {})
    if not isinstance(stats, dict) or not all(
        isinstance(v, list) and len(v) == 2 and all(_is_count(x) for x in v) for v in stats.values()
    ):
        out.append("`file_stats` is not a map of sources to [bytes, mtime_ns]")
    faiss = manifest.get("faiss")
    if not isinstance(faiss, dict) or not isinstance(faiss.get("type"), str):
        out.append("`faiss` does not say the index type")
    if not isinstance(manifest.get("created_at", ""), str):
        out.append("`created_at` is not a time")
    out.extend(file_problems(manifest.get("files")))
    return out


def file_problems(files) -> list[str]:
    """The integrity record: every file of the generation with its size and hash."""
    if not isinstance(files, dict):
        return ["the file hashes are missing"]
    out = []
    for name, entry in files.items():
        if not (isinstance(entry, dict) and _is_count(entry.get("bytes")) and _is_sha(entry.get("sha256"))):
            out.append(f"the hash of {name} is missing or malformed")
    missing = [n for n in REQUIRED_FILES if n not in files]
    if missing:
        out.append(f"no hash for {', '.join(missing)}")
    if not any(isinstance(n, str) and n.startswith("lexical/") for n in files):
        out.append("no hash for the lexical index")
    return out
