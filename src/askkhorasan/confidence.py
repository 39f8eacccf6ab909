"""Confidence in words: which band an answer's confidence falls in.

The thresholds were derived by bench/calibrate_confidence.py from answers whose
correctness is known (the seed article's test and dev questions and 400 SQuAD
sample questions; see the README). Recalibrating is a change to BANDS alone.
"""

from __future__ import annotations

# (band, lowest confidence in it), highest first; the sources are taken not to answer below the floors in models/answer_selection.json.
BANDS = (("strong", 0.73), ("likely", 0.40), ("weak", 0.0))

DESCRIPTIONS = {
    "strong": "strong — answers this confident were nearly always right in evaluation",
    "likely": "likely — usually right, but check the quote",
    "weak": "weak — often wrong in evaluation: check the quote and the runner-up",
}


def band(confidence: float) -> str:
    for name, lowest in BANDS:
        if confidence >= lowest:
            return name
    return BANDS[-1][0]
