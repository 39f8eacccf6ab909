"""The browser app: ask a question, read the cited answer, check the passages it came from."""

from __future__ import annotations

import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # before gradio is imported

import logging  # noqa: E402
import sys  # noqa: E402
import threading  # noqa: E402
from pathlib import Path  # noqa: E402

import gradio as gr  # noqa: E402

from .build import build_index  # noqa: E402
from .errors import AskKhorasanError  # noqa: E402
from .exposure import UploadPolicy, exposure_warning, hide_paths, read_token, upload_policy  # noqa: E402
from .index import Index, open_index  # noqa: E402
from .question import prepare_question  # noqa: E402
from .readers import SUPPORTED  # noqa: E402
from .render import answer_html, build_report_html, sources_html  # noqa: E402
from .status import index_status  # noqa: E402
from .store import BuildLock  # noqa: E402
from .types import BuildReport  # noqa: E402
from .upload import MAX_UPLOAD_BYTES, add_to_corpus  # noqa: E402

log = logging.getLogger(__name__)

EXAMPLES = [
    "Why is the group shrouded in secrecy?",
    "Where did TTP operatives pledge allegiance to the Islamic State?",
    "What does the Voice of Khurasan report?",
    "How do the Taliban view the Islamic State caliphate?",
]

CSS = """
.ak-quote { font-size: 1.1em; border-left: 4px solid #c58b00; padding: .4em .8em; margin: .6em 0; }
mark.ak-answer { background: #ffe08a; padding: 0 .1em; }
.ak-not-found { padding: .6em; border: 1px solid #c0392b; border-radius: 6px; }
.ak-note { font-style: italic; }
.ak-sources td, .ak-sources th { padding: .2em .6em; text-align: left; }
"""


def ensure_index(corpus_dir: Path, index_dir: Path) -> None:
    """Build the index first when it is missing or behind the corpus, with progress on the console."""
    st = index_status(corpus_dir, index_dir)
    if not st.stale:
        return
    from .cli import _ProgressBars

    print(f"askkhorasan: {'updating' if st.exists else 'building'} the index of {corpus_dir} ...", file=sys.stderr)
    report = build_index(corpus_dir, index_dir, progress=_ProgressBars())
    print(f"askkhorasan: indexed {report.passages} passages in {report.seconds:.1f}s", file=sys.stderr)
    for failure in report.failed:
        print(f"askkhorasan: skipped {failure.reason}", file=sys.stderr)


_adding = threading.Lock()


def add_and_build(files, corpus_dir: Path, index_dir: Path, policy: UploadPolicy, token: str | None = None,
                  progress=None) -> tuple[BuildReport, list[str]]:
    """Copy uploaded files into the corpus and refresh the index: one upload at a time.

    Uploads in this process wait their turn; a build running in another process refuses the
    upload before anything is copied, so a refused upload leaves no file behind."""
    policy.check(token)
    with _adding, BuildLock(index_dir):
        added = [add_to_corpus(f, corpus_dir).name for f in files]
        report = build_index(corpus_dir, index_dir, progress=progress)
    return report, added


def create_app(index_dir: str | Path = "index", corpus_dir: str | Path = "corpus",
               policy: UploadPolicy | None = None) -> gr.Blocks:
    index_dir, corpus_dir = Path(index_dir), Path(corpus_dir)
    index: Index = open_index(index_dir)
    policy = policy or upload_policy("127.0.0.1", read_token())

    def fail(exc: AskKhorasanError) -> gr.Error:
        return gr.Error(hide_paths(str(exc), index_dir, corpus_dir, Path.cwd()), print_exception=False)

    def ask_html(question: str) -> str:
        try:
            prepare_question(question)
            return answer_html(index.ask(question))
        except AskKhorasanError as exc:
            raise fail(exc) from None

    def ask_json(question: str) -> dict:
        """Ask the sources a question; returns the answer with its citations and passages."""
        try:
            return index.ask(question).to_dict()
        except AskKhorasanError as exc:
            raise fail(exc) from None

    def sources() -> str:
        st = index_status(corpus_dir, index_dir)
        line = (
            f"{st.passages} passages from {len(index.documents)} sources; model {st.model}; built {st.built_at}; "
            + ("the index is behind the corpus — run `askkhorasan build`." if st.stale else "up to date.")
        )
        return sources_html(index.documents, line)

    def add_documents(files, token=None, progress=gr.Progress()) -> tuple[str, str]:
        if not files:
            raise gr.Error("Choose one or more files to add first.", print_exception=False)
        labels = {"read": "Reading sources", "embed": "Embedding new passages", "write": "Writing the index"}
        try:
            report, added = add_and_build(
                files, corpus_dir, index_dir, policy, token,
                progress=lambda stage, done, total: progress(done / max(1, total), desc=labels.get(stage, stage)),
            )
        except AskKhorasanError as exc:
            raise fail(exc) from None
        return build_report_html(report, added), sources()

    with gr.Blocks(title="askkhorasan") as app:
        gr.Markdown(
            "# askkhorasan\nAsk a question about Islamic State-Khorasan. Every answer is a verbatim quote "
            "from the sources, with its citation; when the sources do not answer, it says so."
        )
        with gr.Tab("Ask"):
            with gr.Row():
                question = gr.Textbox(label="Question", placeholder="Why is the group shrouded in secrecy?",
                                      scale=5, max_length=5000, elem_id="ak-question")
                ask_button = gr.Button("Ask", variant="primary", scale=1, elem_id="ak-ask")
            gr.Examples(EXAMPLES, inputs=question)
            result = gr.HTML(elem_id="ak-result")
            question.submit(ask_html, question, result, api_name=False)
            ask_button.click(ask_html, question, result, api_name=False)
        with gr.Tab("Sources"):
            sources_view = gr.HTML(elem_id="ak-sources")
            refresh = gr.Button("Refresh")
            refresh.click(sources, None, sources_view, api_name=False)
            if policy.enabled:
                gr.Markdown("### Add documents\n.txt, .md, .pdf or .html, up to 50 MB each. "
                            "They are copied into the corpus folder and the index is refreshed.")
                uploads = gr.File(label="Documents", file_count="multiple", type="filepath",
                                  file_types=list(SUPPORTED), elem_id="ak-upload")
                token = gr.Textbox(label="Upload token", type="password", visible=policy.token is not None,
                                   elem_id="ak-token")
                add_button = gr.Button("Add to corpus and refresh the index", elem_id="ak-add")
                add_report = gr.HTML(elem_id="ak-add-report")
                add_button.click(add_documents, [uploads, token], [add_report, sources_view], api_name=False,
                                 concurrency_limit=1)
            else:
                gr.Markdown(f"### Add documents\n{policy.why_off[0].upper()}{policy.why_off[1:]}.",
                            elem_id="ak-uploads-off")
        app.load(sources, None, sources_view, api_name=False)
        gr.api(ask_json, api_name="ask")
    return app


def serve(corpus_dir: str | Path = "corpus", index_dir: str | Path = "index",
          host: str = "127.0.0.1", port: int = 7860, token_file: str | Path | None = None,
          allow_uploads_without_token: bool = False, **launch) -> None:
    corpus_dir, index_dir = Path(corpus_dir), Path(index_dir)
    try:
        policy = upload_policy(host, read_token(token_file), allow_uploads_without_token)
        ensure_index(corpus_dir, index_dir)
        app = create_app(index_dir, corpus_dir, policy)
    except AskKhorasanError as exc:
        raise SystemExit(f"Error: {exc}") from None
    warning = exposure_warning(host, port, policy)
    if warning:
        print(warning, file=sys.stderr)
    app.queue(default_concurrency_limit=4).launch(
        server_name=host, server_port=port, css=CSS, max_file_size=MAX_UPLOAD_BYTES, **launch
    )
