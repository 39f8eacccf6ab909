"""Runs of a paragraph that are data, not prose: base64, data URIs, hex dumps, unbroken runs of symbols.

They are left out of the document text, so nothing downstream sees them: indexing 3 MB of hex as
passages makes tens of thousands of meaningless ones, and a word the tokenizer reads as one
[UNK] can smuggle megabytes into a single passage.
"""

from __future__ import annotations

import re

LONG_RUN = 200  # ASCII characters without a space: longer than any word or ordinary URL
_WORD = re.compile(r"\S+")
_LONG = re.compile(rf"[!-~]{{{LONG_RUN},}}")
_DATA_URI = re.compile(r"data:[\w.+-]+/[\w.+-]+(?:;[\w.+=-]+)*;base64,[A-Za-z0-9+/=]+")
_BASE64 = re.compile(r"[A-Za-z0-9+/]{64,}={0,2}")
_HEX = re.compile(r"(?:0x)?[0-9a-fA-F]{2,16}[:,]?")
_HEX_LETTER = re.compile(r"[a-fA-F]")
_DIGIT = re.compile(r"\d")

MIN_HEX_WORDS = 16  # a hex run shorter than this is a hash or a colour code in prose: kept
MAX_GAP = 3  # words that are not hex inside a dump (xxd's text column) before the run ends


def _encoded(word: str) -> bool:
    if _LONG.fullmatch(word) or _DATA_URI.search(word):
        return True
    m = _BASE64.search(word)
    if m:
        # Random bytes in base64 are about 40% capitals and 15% digits; a long URL path is not.
        run = m.group()
        upper = sum(c.isupper() for c in run) / len(run)
        digits = sum(c.isdigit() for c in run) / len(run)
        return upper >= 0.15 and digits >= 0.05 and any(c.islower() for c in run)
    return False


def junk_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each run of `text` that is encoded data, in order, not overlapping."""
    spans: list[tuple[int, int]] = []
    run: list[tuple[int, int, bool | None]] = []  # words of the current run: start, end, has a letter (None: not hex)
    gap = 0

    def close_run() -> None:
        hexes = [w for w in run if w[2] is not None]
        lettered = sum(1 for w in hexes if w[2])
        if len(hexes) >= MIN_HEX_WORDS and lettered >= 0.2 * len(hexes):
            spans.append((run[0][0], hexes[-1][1]))
        run.clear()

    for m in _WORD.finditer(text):
        word = m.group()
        if _encoded(word):
            close_run()
            gap = 0
            spans.append((m.start(), m.end()))
            continue
        if _HEX.fullmatch(word) and _DIGIT.search(word):
            run.append((m.start(), m.end(), bool(_HEX_LETTER.search(word))))
            gap = 0
        elif run:
            gap += 1
            if gap > MAX_GAP:
                close_run()
                gap = 0
            else:
                run.append((m.start(), m.end(), None))
    close_run()
    return _merge(sorted(spans))


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for s, e in spans:
        if out and s <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(e, out[-1][1]))
        else:
            out.append((s, e))
    return out


def strip_junk(text: str) -> tuple[str, int, int]:
    """`text` without its encoded runs, the number of runs and the characters left out."""
    spans = junk_spans(text)
    if not spans:
        return text, 0, 0
    pieces, at = [], 0
    for s, e in spans:
        pieces.append(text[at:s])
        at = e
    pieces.append(text[at:])
    return "".join(pieces), len(spans), sum(e - s for s, e in spans)
