"""Index files checked against their manifest hashes once per machine, not on every load.

Hashing every file of a million-passage index (gigabytes) on each load would cost tens of
seconds. So a file that was read in full and matched its manifest hash is remembered, in the
user's cache (`~/.cache/askkhorasan/verified.json`, beside the graph cache; `ASKKHORASAN_CACHE`
moves it), under everything a change to it would alter: its path, device and inode, size,
modification and status-change times (ctime, which no program can set back), and the hash
the manifest expects. The record is outside the index folder, so editing the index cannot
switch the check off: any edit changes the times, and a rewritten manifest changes the
expected hash; either way the file is hashed in full again.

A file changed within the timestamp resolution of its last change could keep the same times;
so, as git does with its index, a file whose ctime is less than RACY_SECONDS before the
hashing began is checked but not remembered (a just-built index is hashed again on its next
load, and remembered then).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import time
from pathlib import Path

from .graph_cache import cache_root
from .hashing import sha256_file

MEMO = "verified.json"
RACY_SECONDS = 2.0
MAX_REMEMBERED = 10_000


def _key(path: Path, expected_sha256: str) -> str:
    st = path.stat()
    return f"{st.st_dev}:{st.st_ino}:{st.st_size}:{st.st_mtime_ns}:{st.st_ctime_ns}:{expected_sha256}"


class Verifier:
    """Checks files against (bytes, sha256); `save()` remembers the new verifications."""

    def __init__(self, remembered: bool = True) -> None:
        """`remembered=False` hashes every file, as `status --verify` asks (and remembers the result)."""
        self.path = cache_root() / MEMO
        self._memo = self._read() if remembered else {}
        self._new: dict[str, str] = {}
        self.hashed: list[Path] = []  # files read in full by this verifier, for tests and logs

    def _read(self) -> dict[str, str]:
        try:
            memo = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return {k: v for k, v in memo.items() if isinstance(k, str) and isinstance(v, str)} if isinstance(memo, dict) else {}

    def matches(self, path: Path, expected_bytes: int, expected_sha256: str) -> bool:
        """Whether the file has the size and hash expected; hashed only when not remembered."""
        real = str(path.resolve())
        key = _key(path, expected_sha256)
        if path.stat().st_size != expected_bytes:
            return False
        if self._memo.get(real) == key:
            return True
        started = time.time_ns()
        self.hashed.append(path)
        if sha256_file(path) != expected_sha256:
            return False
        st = path.stat()
        if _key(path, expected_sha256) == key and st.st_ctime_ns < started - int(RACY_SECONDS * 1e9):
            self._new[real] = key
        return True

    def save(self) -> None:
        """Add the new verifications to the record; entries of files gone from disk are dropped.
        A cache that cannot be written costs only the hashing next time."""
        if not self._new:
            return
        memo = self._read() | self._new
        memo = {k: v for k, v in memo.items() if os.path.exists(k)}
        memo = dict(list(memo.items())[-MAX_REMEMBERED:])
        with contextlib.suppress(OSError):
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_name(f".{MEMO}.{secrets.token_hex(4)}")
            tmp.write_text(json.dumps(memo, indent=0), encoding="utf-8")
            os.replace(tmp, self.path)
        self._new = {}
