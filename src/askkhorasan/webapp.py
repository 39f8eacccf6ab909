"""The browser app: ask a question, read the cited answer, check the passages it came from."""

from __future__ import annotations

import contextlib
import gc
import importlib.machinery
import json
import logging
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from .environment import set_defaults
from .errors import AskKhorasanError
from .exposure import UploadPolicy, exposure_warning, hide_paths, read_token, upload_policy
from . import names
from .index import open_index
from .question import prepare_question
from .render import answer_html, build_report_html, build_report_lines, document_html, sources_html
from .settings import DEFAULT_SETTINGS, Settings
from .status import index_status
from .milvus_store import build_lock, location
from .types import AddedFile, BuildReport

if TYPE_CHECKING:  # gradio is imported only to serve: importing it costs two seconds
    import gradio as gr

    from .answering import BaseIndex

# Building (the readers, chunking, the build itself), uploads and the source viewer are imported
# where they are used: a start on a built index needs none of them before the first answer.

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
.ak-hidden { display: none !important; }
.ak-confidence { font-weight: 600; }
.ak-band-strong.ak-confidence { color: #1e7b34; }
.ak-band-likely.ak-confidence { color: #9a6b00; }
.ak-band-weak.ak-confidence { color: #b03a2e; }
.ak-answer-card.ak-band-weak .ak-quote { border-left-color: #b03a2e; border-left-style: dashed; }
.ak-answer-card.ak-band-strong .ak-quote { border-left-color: #1e7b34; }
.ak-weak-flag { margin-left: .6em; padding: 0 .4em; border-radius: 4px; background: #f6d5d1; color: #7b241c; font-size: .85em; }
.ak-runner-up { margin: .4em 0; padding: .3em .6em; border-left: 3px dotted #888; }
.ak-passage.ak-cited { border-left: 4px solid #c58b00; padding-left: .5em; }
.ak-flash { outline: 3px solid #c58b00; }
.ak-viewer { border: 1px solid #999; border-radius: 6px; padding: .6em; }
.ak-viewer-text { max-height: 32em; overflow-y: auto; white-space: normal; font-family: Georgia, serif; line-height: 1.5; }
mark.ak-source-quote { background: #ffe08a; }
.ak-result button, .ak-viewer button { margin: 0 .2em; padding: 0 .4em; border: 1px solid #aaa; border-radius: 4px; font-size: .85em; }
"""

# One delegated listener, installed once: citation links scroll to their passage, "Open in
# source" asks the server for the viewer, "Copy citation" copies. The HTML it reads is ours;
# document text only ever arrives escaped, inside data attributes or text nodes.
JS = """
() => {
  if (window.__akInstalled) return;
  window.__akInstalled = true;
  document.addEventListener('click', (event) => {
    const ref = event.target.closest('[data-ak-cite]');
    if (ref) {
      event.preventDefault();
      const passage = document.querySelector('.ak-passage[data-citations~="' + ref.dataset.akCite + '"]');
      if (passage) {
        passage.open = true;
        passage.scrollIntoView({block: 'center'});
        passage.classList.add('ak-flash');
        setTimeout(() => passage.classList.remove('ak-flash'), 1500);
      }
      return;
    }
    const open = event.target.closest('[data-ak-open]');
    if (open) {
      event.preventDefault();
      const box = document.querySelector('#ak-viewer-request textarea, #ak-viewer-request input');
      box.value = open.dataset.akOpen;
      box.dispatchEvent(new Event('input', {bubbles: true}));
      setTimeout(() => document.getElementById('ak-viewer-go').click(), 60);
      return;
    }
    const copy = event.target.closest('[data-ak-copy]');
    if (copy) {
      const text = copy.dataset.akCopy;
      const done = () => { copy.textContent = 'Copied'; setTimeout(() => { copy.textContent = 'Copy citation'; }, 1500); };
      const fallback = () => {
        const area = document.createElement('textarea');
        area.value = text; document.body.appendChild(area); area.select();
        document.execCommand('copy'); area.remove(); done();
      };
      if (navigator.clipboard && window.isSecureContext) navigator.clipboard.writeText(text).then(done, fallback);
      else fallback();
    }
  });
}
"""

SHOW_QUOTE = """
() => {
  const mark = document.getElementById('ak-source-quote');
  const viewer = document.getElementById('ak-viewer');
  if (viewer) viewer.scrollIntoView({block: 'start'});
  if (mark) mark.scrollIntoView({block: 'center'});
}
"""


def ensure_index(corpus_dir: Path, index_dir: str | Path, settings: Settings = DEFAULT_SETTINGS) -> None:
    """Build the index first when it is missing or behind the corpus, with progress on the console."""
    st = index_status(corpus_dir, index_dir, settings.max_source_mb)
    if not st.stale:
        return

    from .build import build_index
    from .progress import ProgressBars

    print(f"askkhorasan: {'updating' if st.exists else 'building'} the index of {corpus_dir} ...", file=sys.stderr)
    report = build_index(corpus_dir, index_dir, settings=settings, progress=ProgressBars.for_stream(sys.stderr))
    for kind, line in build_report_lines(report):
        print(f"askkhorasan: {line}" if kind == "summary" else f"askkhorasan: {kind}: {line}", file=sys.stderr)


def warm_up(index_dir: str | Path) -> threading.Thread:
    """Open the index and load both models in a thread, answering one question, so that the
    first question asked in the app is not the one that waits for them. An error is left
    for create_app to raise, in the main thread; a question asked before the thread is done
    waits for the models it is loading (open_index and the models are loaded once, under locks)."""

    def run():
        try:
            open_index(index_dir).ask(EXAMPLES[0])
        except AskKhorasanError:
            pass
        except Exception:  # noqa: BLE001 — reported, and create_app meets it again
            log.exception("warming up the models failed")

    thread = threading.Thread(target=run, name="askkhorasan-warm-up", daemon=True)
    thread.start()
    return thread


@contextlib.contextmanager
def _collection_paused():
    """Python's cyclic garbage collector off until the server listens, then on again with what
    start-up made frozen. Importing Gradio makes hundreds of thousands of objects and no
    garbage worth collecting: the collector ran ~900 times there and took ~0.4 s of its
    2.4 s of CPU here, on the path to the first answer. Frozen, start-up's objects are not
    scanned again by later collections."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.freeze()
            gc.enable()


def _leave_stubs_alone(*args, **kwargs) -> None:
    return None


class _StubsLeftAlone:
    """Makes `gradio.component_meta` skip rewriting Gradio's own type stubs as it loads.

    Gradio 6.31 defines every component class through a metaclass that reads the class's
    source file, parses it, renders a .pyi stub and rewrites the installed one if it differs:
    a developer's tool, run on every import, that writes into site-packages. It was 0.93 s of
    the 2.2 s that importing gradio took here (2.21 s -> 1.28 s wall, four runs each way), on
    the path to the app's first answer. Stubs only serve type checkers; nothing reads them at
    run time. If Gradio renames the function, nothing is replaced and the import is as before.
    """

    MODULE = "gradio.component_meta"

    def find_spec(self, name, path, target=None):
        if name != self.MODULE:
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        run = spec.loader.exec_module

        def exec_module(module):
            run(module)
            if callable(getattr(module, "create_or_modify_pyi", None)):
                module.create_or_modify_pyi = _leave_stubs_alone

        spec.loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec


def _import_gradio() -> None:
    # gradio imports IPython only for its notebook magic, which a server started from the
    # command line never uses; without IPython it skips it. Still so in Gradio 6.31: importing
    # gradio took 2.0 s of CPU without IPython against 2.2 s with it here.
    if "IPython" not in sys.modules and "ipykernel" not in sys.modules:
        sys.modules["IPython"] = None  # type: ignore[assignment]  # makes `import IPython` raise ImportError
    finder = _StubsLeftAlone()
    sys.meta_path.insert(0, finder)
    try:
        import gradio  # noqa: F401
    finally:
        sys.meta_path.remove(finder)


_adding = threading.Lock()


def add_and_build(files, corpus_dir: Path, index_dir: str | Path, policy: UploadPolicy, token: str | None = None,
                  progress=None, settings: Settings = DEFAULT_SETTINGS) -> tuple[BuildReport | None, list[AddedFile]]:
    """Copy uploaded files into the corpus and refresh the index: one upload at a time.

    Uploads in this process wait their turn; a build running in another process refuses the
    upload before anything is copied, so a refused upload leaves no file behind. Files already
    in the corpus are not copied again; when nothing was copied, nothing is built (report None)."""
    from .build import build_index
    from .upload import add_to_corpus

    policy.check(token)
    with _adding, build_lock(index_dir):
        added = [add_to_corpus(f, corpus_dir, max_source_mb=settings.max_source_mb) for f in files]
        if not any(a.copied for a in added):
            return None, added
        report = build_index(corpus_dir, index_dir, settings=settings, progress=progress)
    return report, added


def create_app(index_dir: str | Path = "index", corpus_dir: str | Path = "corpus",
               settings: Settings = DEFAULT_SETTINGS, policy: UploadPolicy | None = None) -> gr.Blocks:
    import gradio as gr

    index_dir, corpus_dir = location(index_dir), Path(corpus_dir)
    index: BaseIndex = open_index(index_dir)
    policy = policy or upload_policy("127.0.0.1", read_token())

    def fail(exc: AskKhorasanError) -> gr.Error:
        return gr.Error(hide_paths(str(exc), index_dir, corpus_dir, Path.cwd()), print_exception=False)

    def ask_html(question: str) -> str:
        try:
            prepare_question(question)
            return answer_html(index.ask(question, explain=True))
        except AskKhorasanError as exc:
            raise fail(exc) from None
        finally:
            names.warm_in_background()  # for "who" questions (fact_kind.py), off the first answer's path

    def ask_json(question: str) -> dict:
        """Ask the sources a question; returns the answer with its citations, passages, band and explanation."""
        try:
            return index.ask(question, explain=True).to_dict()
        except AskKhorasanError as exc:
            raise fail(exc) from None
        finally:
            names.warm_in_background()

    def view(source: str, start: int, end: int, window_start: int | None = None, window_end: int | None = None):
        from .viewer import document_view

        return document_view(corpus_dir, index.documents, index.source_passages(source), source, start, end,
                             window_start, window_end)

    def viewer_html(request: str) -> str:
        try:
            r = json.loads(request)
            return document_html(view(str(r["source"]), int(r["start"]), int(r["end"]),
                                      r.get("window_start"), r.get("window_end")))
        except (ValueError, KeyError, TypeError):
            raise gr.Error("That link is not a passage of the index.", print_exception=False) from None
        except AskKhorasanError as exc:
            raise fail(exc) from None

    def document_json(source: str, start: int, end: int, window_start: int | None = None,
                      window_end: int | None = None) -> dict:
        """A window of a source's document text around characters start:end, with its title, date and publisher."""
        try:
            return view(source, start, end, window_start, window_end).to_dict()
        except AskKhorasanError as exc:
            raise fail(exc) from None

    def sources() -> str:
        st = index_status(corpus_dir, index_dir, settings.max_source_mb)
        skipped = [s for s in st.sources if s.state == "skipped"]
        line = (
            f"{st.passages} passages from {len(index.documents)} sources; model {st.model}; built {st.built_at}; "
            + ("the index is behind the corpus — add a document or run `askkhorasan build`." if st.stale else "up to date.")
            + "".join(f" Skipped: {s.reason}" for s in skipped)
        )
        return sources_html(index.documents, line)

    def add_documents(files, token=None, progress=gr.Progress()):
        if not files:
            raise gr.Error("Choose one or more files to add first.", print_exception=False)
        labels = {"read": "Reading sources", "embed": "Embedding new passages", "write": "Writing the index"}
        try:
            report, added = add_and_build(
                files, corpus_dir, index_dir, policy, token, settings=settings,
                progress=lambda stage, done, total: progress(done / max(1, total), desc=labels.get(stage, stage)),
            )
        except AskKhorasanError as exc:
            raise fail(exc) from None
        return build_report_html(report, added), sources(), None

    limit = f"{settings.max_source_mb:g} MB"
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
            viewer = gr.HTML(elem_id="ak-viewer")
            viewer_request = gr.Textbox(elem_id="ak-viewer-request", elem_classes="ak-hidden", container=False)
            viewer_go = gr.Button("Open", elem_id="ak-viewer-go", elem_classes="ak-hidden")
            question.submit(ask_html, question, result, api_name=False)
            ask_button.click(ask_html, question, result, api_name=False)
            viewer_go.click(viewer_html, viewer_request, viewer, api_name=False).then(
                None, None, None, js=SHOW_QUOTE, api_name=False)
        with gr.Tab("Sources"):
            sources_view = gr.HTML(elem_id="ak-sources")
            refresh = gr.Button("Refresh")
            refresh.click(sources, None, sources_view, api_name=False)
            if policy.enabled:
                from .readers import SUPPORTED

                gr.Markdown(f"### Add documents\n.txt, .md, .pdf or .html, up to {limit} each (`--max-source-mb`). "
                            "They are copied into the corpus folder and the index is refreshed.")
                uploads = gr.File(label="Documents", file_count="multiple", type="filepath",
                                  file_types=list(SUPPORTED), elem_id="ak-upload")
                token = gr.Textbox(label="Upload token", type="password", visible=policy.token is not None,
                                   elem_id="ak-token")
                add_button = gr.Button("Add to corpus and refresh the index", elem_id="ak-add")
                add_report = gr.HTML(elem_id="ak-add-report")
                add_button.click(add_documents, [uploads, token], [add_report, sources_view, uploads], api_name=False,
                                 concurrency_limit=1)
            else:
                gr.Markdown(f"### Add documents\n{policy.why_off[0].upper()}{policy.why_off[1:]}.",
                            elem_id="ak-uploads-off")
        app.load(sources, None, sources_view, api_name=False)
        app.load(None, None, None, js=JS, api_name=False)
        gr.api(ask_json, api_name="ask")
        gr.api(document_json, api_name="document")
    return app


def serve(corpus_dir: str | Path = "corpus", index_dir: str | Path = "index",
          host: str = "127.0.0.1", port: int = 7860, max_source_mb: float | None = None,
          token_file: str | Path | None = None, allow_uploads_without_token: bool = False,
          **launch) -> gr.Blocks:
    """Build the index if it is missing or stale, start the app and serve until interrupted; with
    `prevent_thread_lock=True`, return the running app once it listens."""
    set_defaults()
    corpus_dir, index_dir = Path(corpus_dir), location(index_dir)
    settings = Settings(max_source_mb=max_source_mb) if max_source_mb else DEFAULT_SETTINGS
    block = not launch.pop("prevent_thread_lock", False)
    try:
        policy = upload_policy(host, read_token(token_file), allow_uploads_without_token)
        ensure_index(corpus_dir, index_dir, settings)  # a build is long: it runs with the collector on
    except AskKhorasanError as exc:
        raise SystemExit(f"Error: {exc}") from None
    with _collection_paused():
        # The models load while Gradio imports (compiling them is native code, off the GIL),
        # and go on loading while the server starts: the first question waits for them if it
        # comes sooner. create_app waits only for the index to open.
        warm_up(index_dir)
        _import_gradio()
        try:
            app = create_app(index_dir, corpus_dir, settings, policy)
        except AskKhorasanError as exc:
            raise SystemExit(f"Error: {exc}") from None
        warning = exposure_warning(host, port, policy)
        if warning:
            print(warning, file=sys.stderr)
        app.launch(server_name=host, server_port=port, css=CSS, max_file_size=settings.max_source_bytes,
                   prevent_thread_lock=True, **launch)
    if block:
        app.block_thread()
    return app
