"""Progress bars for a build, on a terminal: what the command line and the app print while indexing."""

from __future__ import annotations

from typing import IO, Any


class ProgressBars:
    """tqdm bars for the stages build_index reports, each with its own unit and a true rate.
    Only for a terminal: a log gets the one-line summary the command prints at the end."""

    labels = {"read": ("reading sources", "source"), "embed": ("embedding", "sentence"), "write": ("writing index", "step")}

    def __init__(self, stream: IO[str]):
        self.stream = stream
        self.bars: dict[str, Any] = {}

    @classmethod
    def for_stream(cls, stream: IO[str]) -> ProgressBars | None:
        return cls(stream) if getattr(stream, "isatty", lambda: False)() else None

    def __call__(self, stage: str, done: int, total: int) -> None:
        from tqdm import tqdm

        bar = self.bars.get(stage)
        if bar is None:
            desc, unit = self.labels.get(stage, (stage, "item"))
            bar = self.bars[stage] = tqdm(total=total, desc=desc, unit=unit, file=self.stream, leave=False,
                                          dynamic_ncols=True)
        bar.total = total
        bar.update(max(0, done - bar.n))
        if done >= total:
            bar.close()
