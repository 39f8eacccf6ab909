"""The `askkhorasan` command.

Exit codes: 0 success; 1 an error the message explains (no index, bad question...);
2 a usage error; 3 done, but something needs attention (a build that skipped
sources, a stale index in `status`, a question the sources do not answer).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sys
from pathlib import Path

import click

from .environment import set_defaults, temporarily
from .errors import AskKhorasanError, QuestionError
from .printable import printable
from .progress import ProgressBars

EXIT_ERROR = 1
EXIT_ATTENTION = 3

CORPUS_ENV = "ASKKHORASAN_CORPUS"
INDEX_ENV = "ASKKHORASAN_INDEX"

corpus_option = click.option(
    "--corpus", "corpus_dir", default="corpus", show_default=True, envvar=CORPUS_ENV, show_envvar=True,
    type=click.Path(file_okay=False, path_type=Path), help="Folder of source files.",
)


class IndexLocation(click.Path):
    """An index folder, or a Milvus location kept as written (a Path would fold milvus:// to milvus:/)."""

    def convert(self, value, param, ctx):
        from .milvus_store import milvus_target

        try:
            if milvus_target(value) is not None:
                return value
        except AskKhorasanError as exc:
            self.fail(str(exc), param, ctx)
        return super().convert(value, param, ctx)


index_option = click.option(
    "--index", "index_dir", default="index", show_default=True, envvar=INDEX_ENV, show_envvar=True,
    type=IndexLocation(file_okay=False, path_type=Path),
    help="Folder the index lives in, or milvus-lite:FILE.db, or milvus://HOST:PORT[/NAME] "
         "(credentials in ASKKHORASAN_MILVUS_TOKEN or ASKKHORASAN_MILVUS_USER/_PASSWORD).",
)
json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
format_option = click.option(
    "--format", "fmt", type=click.Choice(["text", "markdown", "json"]), default=None,
    help="Output: plain text (the default, on a terminal or piped), Markdown, or JSON.  [--json: --format json]",
)
max_source_option = click.option(
    "--max-source-mb", type=click.FloatRange(min=0.001), default=None,
    help="Size limit for one source, in MB: larger ones are skipped, and refused as uploads (default 20).",
)


def _format(fmt: str | None, as_json: bool) -> str:
    if as_json and fmt not in (None, "json"):
        raise click.UsageError(f"--json and --format {fmt} disagree; give one of them")
    return "json" if as_json else (fmt or "text")


def _echo_json(data) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False))


class _Group(click.Group):
    """Turns the errors a user can cause into one line and exit code 1, not a traceback."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except AskKhorasanError as exc:
            click.echo(f"Error: {printable(str(exc))}", err=True)
            ctx.exit(EXIT_ERROR)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", is_flag=True, help="Log what the library does.")
@click.version_option(package_name="askkhorasan")
def main(verbose: bool) -> None:
    """Cited, verbatim answers to questions about ISKP from a folder of sources.

    Put .txt, .md, .pdf and .html files in corpus/, run `askkhorasan build`, then
    `askkhorasan ask "QUESTION"` (or `askkhorasan serve` for the browser app).
    ASKKHORASAN_CORPUS and ASKKHORASAN_INDEX set other folders than corpus/ and index/.
    """
    set_defaults()
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s: %(message)s", stream=sys.stderr
    )


@main.command()
@corpus_option
@index_option
@click.option("--force", is_flag=True, help="Re-embed every source, not only new and changed ones.")
@max_source_option
@click.option("-q", "--quiet", is_flag=True, help="No progress bars (there are none when stderr is not a terminal).")
@json_option
def build(corpus_dir: Path, index_dir: Path, force: bool, max_source_mb: float | None, quiet: bool, as_json: bool) -> None:
    """Index the files in the corpus folder (only new and changed ones are embedded; with nothing
    new, changed or removed, nothing is written)."""
    from .build import build_index
    from .render import build_report_lines
    from .settings import Settings

    settings = Settings(max_source_mb=max_source_mb) if max_source_mb else None
    progress = None if quiet else ProgressBars.for_stream(sys.stderr)
    report = build_index(corpus_dir, index_dir, settings=settings, force=force, progress=progress)
    if as_json:
        _echo_json(report.to_dict())
    else:
        for kind, line in build_report_lines(report):
            click.echo(line if kind == "summary" else f"  {kind}: {line}", err=kind == "skipped")
    if report.failed:
        sys.exit(EXIT_ATTENTION)


@main.command()
@click.argument("query")
@click.option("-k", default=5, show_default=True, type=click.IntRange(1, 100), help="How many passages.")
@index_option
@format_option
@json_option
def search(query: str, k: int, index_dir: Path, fmt: str | None, as_json: bool) -> None:
    """The passages that best answer QUERY, best first, with citations."""
    from .api import search as run_search
    from .render import citation_label, escape_markdown

    fmt = _format(fmt, as_json)
    with _one_question():
        passages = run_search(query, k=k, index_dir=index_dir)
    if fmt == "json":
        _echo_json([p.to_dict() for p in passages])
        return
    for rank, p in enumerate(passages, 1):
        if fmt == "markdown":
            click.echo(f"{rank}\\. {escape_markdown(citation_label(p))} — `{printable(p.source)}` {p.start}–{p.end}, score {p.score:.3f}")
            click.echo()
            click.echo(f"> {escape_markdown(p.text)}")
        else:
            click.echo(f"[{rank}] {citation_label(p)} — {printable(p.source)}, characters {p.start}–{p.end}, score {p.score:.3f}")
            click.echo(click.wrap_text(" ".join(p.text.split()), width=100, initial_indent="    ", subsequent_indent="    "))
        click.echo()


@main.command()
@click.argument("question", required=False)
@click.option("-k", default=5, show_default=True, type=click.IntRange(1, 100),
              help="How many passages to show with the answer.")
@index_option
@click.option("--questions", "questions_file", type=click.File("r", encoding="utf-8"),
              help="Ask every line of this file (- for stdin), loading the index once; prints JSON Lines.")
@click.option("--explain", is_flag=True,
              help="Also show why: the candidate sentences and their scores, their passages' retrieval scores, "
                   "the question words matched and the stage that decided.")
@format_option
@json_option
def ask(question: str | None, k: int, index_dir: Path, questions_file, explain: bool, fmt: str | None,
        as_json: bool) -> None:
    """A verbatim, cited answer to QUESTION from the sources (exit 3 when they do not answer)."""
    from .api import ask as run_ask
    from .render import answer_markdown, answer_text, explanation_text

    fmt = _format(fmt, as_json)
    if questions_file is not None:
        if question is not None:
            raise click.UsageError("give QUESTION or --questions FILE, not both")
        sys.exit(_ask_many(questions_file, index_dir, explain, k))
    if question is None:
        raise click.UsageError("give a QUESTION, or --questions FILE")
    with _one_question():
        answer = run_ask(question, index_dir=index_dir, k=k, explain=explain)
    if fmt == "json":
        _echo_json(answer.to_dict())
    elif fmt == "markdown":
        click.echo(answer_markdown(answer))
        if explain:
            click.echo("\n```text\n" + explanation_text(answer) + "\n```")
    else:
        click.echo(answer_text(answer))
        if explain:
            click.echo("\n" + explanation_text(answer))
    if not answer.found:
        sys.exit(EXIT_ATTENTION)


@contextlib.contextmanager
def _one_question():
    """A process that embeds one question compiles the question graph for it alone: OpenVINO
    compiles the int8 question graph in 0.40 s against 0.21 s in bf16, and int8 saves about
    1 ms a question, so a one-off `ask` or `search` loads its model with bf16 questions (cold
    `ask` 1.47 s against 1.32 s before the int8 graph). ASKKHORASAN_INT8_QUESTIONS set wins.
    Put back afterwards: in a longer-lived caller (tests) it must not outlast the command."""
    from .question_graph import SWITCH

    if SWITCH in os.environ:
        yield
        return
    with temporarily(SWITCH, "0"):
        yield


def _ask_many(lines, index_dir: Path, explain: bool, k: int) -> int:
    """One JSON line per question, written as each is answered; a question that cannot be asked
    gets {"question", "error"} and the rest go on. Exit 3 when any was not answered."""
    from .index import open_index
    from .question import prepare_question

    index = None
    attention = False
    for line in lines:
        text = line.rstrip("\n")
        if not text.strip():
            continue
        try:
            prepare_question(text)
            index = index or open_index(index_dir)
            row = index.ask(text, k, explain=explain).to_dict()
            attention |= not row["found"]
        except AskKhorasanError as exc:
            if not isinstance(exc, QuestionError):
                raise  # no index, a damaged one: every line would fail the same way
            row = {"question": text, "error": str(exc)}
            attention = True
        click.echo(json.dumps(row, ensure_ascii=False))
        sys.stdout.flush()
    return EXIT_ATTENTION if attention else 0


@main.command(name="eval")
@click.argument("questions", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@index_option
@click.option("--report", "report_path", type=click.Path(dir_okay=False, path_type=Path),
              default=Path("eval-report.jsonl"), show_default=True, help="Per-question results, as JSON Lines.")
@json_option
def evaluate_command(questions: Path, index_dir: Path, report_path: Path, as_json: bool) -> None:
    """Measure retrieval and answers on QUESTIONS.

    QUESTIONS is JSON Lines, one {"question": ..., "answers": [...]} per line
    (answers null: the sources should not answer it), or a SQuAD-format .json file.
    """
    from .evaluate import evaluate

    summary = evaluate(questions, index_dir, report_path)
    if as_json:
        _echo_json(summary)
        return
    click.echo(f"{summary['questions']} answerable questions:")
    for key in ("hit@1", "hit@3", "hit@5", "mrr@10", "answer_accuracy", "refused_answerable"):
        click.echo(f"  {key:<20} {summary[key]:.3f}")
    click.echo(f"{summary['unanswerable']} unanswerable questions:")
    click.echo(f"  {'refused_unanswerable':<20} {summary['refused_unanswerable']:.3f}")
    click.echo(f"Per-question results: {report_path}")


@main.command()
@corpus_option
@index_option
@max_source_option
@click.option("--verify", is_flag=True, help="Check every file of the index against its hash and hash every source "
              "(without it, sources whose size and modification time are unchanged since the build are not re-read).")
@json_option
def status(corpus_dir: Path, index_dir: Path, max_source_mb: float | None, verify: bool, as_json: bool) -> None:
    """What is indexed, and what changed in the corpus since the last build (the size limit
    defaults to the one the index was built with)."""
    from .render import plural
    from .status import index_status

    st = index_status(corpus_dir, index_dir, max_source_mb, verify=verify)
    if as_json:
        _echo_json(st.to_dict())
    else:
        if not st.exists:
            click.echo(f"No usable index at {index_dir}: {printable(st.problem or '')}")
        else:
            click.echo(f"Index {index_dir}: {plural(st.passages, 'passage')}, model {st.model}, built {st.built_at}")
        for s in st.sources:
            meta = printable("; ".join(x for x in (s.title, s.date, s.publisher) if x))
            extra = f" — {meta}" if meta else ""
            count = f" ({plural(s.passages, 'passage')})" if s.state == "indexed" else ""
            why = f": {printable(s.reason)}" if s.reason and s.state in ("skipped", "duplicate") else ""
            click.echo(f"  {s.state:<9} {printable(s.source)}{count}{extra}{why}")
        click.echo("Stale: run `askkhorasan build`." if st.stale else "Up to date.")
    if st.stale:
        sys.exit(EXIT_ATTENTION)


@main.command()
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--start", type=int, default=None, help="Print only the text from this offset...")
@click.option("--end", type=int, default=None, help="...to this one: check a citation's span.")
def text(path: Path, start: int | None, end: int | None) -> None:
    """The document text of a source: the text that citation offsets index into."""
    from .api import document_text

    click.echo(document_text(path)[start:end])


@main.command()
@corpus_option
@index_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=7860, show_default=True, type=int)
@max_source_option
@click.option("--token-file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Require the token in this file for uploads (or set ASKKHORASAN_TOKEN).")
@click.option("--allow-uploads-without-token", is_flag=True,
              help="Allow uploads on a non-loopback --host with no token (anyone reaching the port can add files).")
def serve(corpus_dir: Path, index_dir: Path, host: str, port: int, max_source_mb: float | None,
          token_file: Path | None, allow_uploads_without_token: bool) -> None:
    """Start the browser app (building the index first if it is missing or stale)."""
    set_defaults()  # before gradio is imported
    from .webapp import serve as run_app

    run_app(corpus_dir=corpus_dir, index_dir=index_dir, host=host, port=port, max_source_mb=max_source_mb,
            token_file=token_file, allow_uploads_without_token=allow_uploads_without_token)


def serve_app(args: list[str] | None = None) -> None:
    """`python -m askkhorasan` and `python app.py`: the `serve` command on its own."""
    serve.main(args=args)


if __name__ == "__main__":
    main()
