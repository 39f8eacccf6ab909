"""Answers as Markdown (CLI) and HTML (app). Document text is untrusted: always escaped."""

from __future__ import annotations

import html
import json
import re
import urllib.parse
from collections.abc import Sequence

from .confidence import DESCRIPTIONS
from .printable import printable
from .types import (
    NEAREST_SHOWN, NOT_FOUND, REFUSAL_LEAD, AddedFile, Answer, BuildReport, Citation, DocumentRow, DocumentView, Passage,
)

_MD_INLINE = re.compile(r"([\\`*_\[\]<>|~&])")  # what can start markup anywhere in a line
_MD_LINE_START = re.compile(r"^(\s*)([#+=-]|\d+(?=[.)]))")  # what starts a heading or list at a line's start


def escape_markdown(text: str) -> str:
    """Text, on one line, that a CommonMark renderer shows as exactly itself, with as few backslashes as that takes."""
    text = _MD_INLINE.sub(r"\\\1", " ".join(text.split()))
    return _MD_LINE_START.sub(lambda m: m.group(1) + (m.group(2) + "\\" if m.group(2)[0].isdigit() else "\\" + m.group(2)), text, count=1)


def _code(text: str) -> str:
    """A code span that holds any text, backticks included; control characters escaped (file names can hold them)."""
    text = printable(text)
    fence = "`" * (max((len(r) for r in re.findall(r"`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def citation_label(c: Citation | Passage) -> str:
    parts = [c.title or c.source]
    if c.section:
        parts.append(c.section)
    if c.page is not None:
        parts.append(f"p. {c.page}")
    return printable(", ".join(parts))


def full_citation(c: Citation) -> str:
    """Title — publisher, date, file, page, characters: everything needed to find the quote again."""
    where = [x for x in (c.publisher, c.date) if x]
    where.append(printable(c.source))
    if c.section:
        where.append(c.section)
    if c.page is not None:
        where.append(f"p. {c.page}")
    where.append(f"characters {c.start}–{c.end}")
    return f"{printable(c.title or c.source)} — {', '.join(where)}"


def plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n:,} {one if n == 1 else (many or one + 's')}"


def _band_line(answer: Answer) -> str:
    return f"Confidence: {answer.band} ({answer.confidence:.2f})"


def _refusal(answer: Answer) -> str:
    """The refusal said once: what the note adds beyond "the sources do not answer"."""
    note = answer.note or ""
    for lead in (f"{REFUSAL_LEAD}. ", f"{REFUSAL_LEAD}: "):
        note = note.replace(lead, "")
    note = note.replace(NEAREST_SHOWN, "").strip()
    return (NOT_FOUND + (f": {note[0].lower()}{note[1:]}" if note else ".")).replace("..", ".")


def answer_text(answer: Answer) -> str:
    """Plain text for a terminal or a log: no Markdown syntax."""
    lines: list[str] = []
    if not answer.found:
        lines.append(_refusal(answer))
        if answer.passages:
            lines += ["", "Nearest passages:"]
            for i, p in enumerate(answer.passages[:3], 1):
                lines.append(f"  {i}. {citation_label(p)} — {printable(p.source)}, characters {p.start}–{p.end}")
        return "\n".join(lines)
    if answer.note:
        lines += [answer.note, ""]
    for i, c in enumerate(answer.citations, 1):
        lines.append(f"“{' '.join(c.quote.split())}” [{i}]")
        lines.append("")
    lines.append(_band_line(answer))
    if answer.band == "weak" and answer.runner_up:
        r = answer.runner_up
        lines.append(f"A weak answer: check it. Runner-up: “{' '.join(r.quote.split())}” — {printable(r.source)}, "
                     f"characters {r.start}–{r.end}")
    lines += ["", "Sources:"]
    for i, c in enumerate(answer.citations, 1):
        lines.append(f"[{i}] {full_citation(c)}")
    return "\n".join(lines)


def explanation_text(answer: Answer) -> str:
    e = answer.explanation
    if e is None:
        return ""
    lines = [
        "Why this answer?",
        f"  decided by: {e.stage} — {e.reason}",
        f"  question words: {', '.join(e.question_words) or '(none)'}",
        f"  confidence: {e.answerable:.2f} (cut-off {e.threshold:g})",
        "  candidate sentences, best first (final score = 3 × answer model logit + feature scorer logit; "
        "feature scorer probability; passage rank, retrieval score = dense, best sentence, lexical):",
    ]
    for c in e.candidates:
        final = f"{c.score:+7.2f} (model {c.model_logit:+.2f})" if c.score is not None else "   unread        "
        lines.append(
            f"  {final}  {c.probability:.3f}  passage {c.passage_rank}, {c.passage_score:.2f} = {c.dense:.2f}, "
            f"{c.best_sentence:.2f}, {c.lexical:.2f}; matched: {', '.join(c.matched_words) or '(none)'}"
        )
        text = " ".join(c.text.split())
        lines.append(f"         “{text[:200]}{'…' if len(text) > 200 else ''}” — {printable(c.source)} {c.start}–{c.end}")
    return "\n".join(lines)


def answer_markdown(answer: Answer, with_question: bool = False) -> str:
    lines: list[str] = []
    if with_question:
        lines += [f"**Question:** {escape_markdown(answer.question)}", ""]
    if answer.note and answer.found:
        lines += [f"_{escape_markdown(answer.note)}_", ""]
    if not answer.found:
        lines.append(f"**{escape_markdown(_refusal(answer))}**")
        if answer.passages:
            lines += ["", "Nearest passages:"]
            for i, p in enumerate(answer.passages[:3], 1):
                lines.append(f"{i}. {escape_markdown(citation_label(p))} — {_code(p.source)} {p.start}–{p.end}")
        return "\n".join(lines)
    for i, c in enumerate(answer.citations, 1):
        lines.append(f"> {escape_markdown(c.quote)} [{i}]")
        lines.append("")
    lines.append(escape_markdown(_band_line(answer)))
    if answer.band == "weak" and answer.runner_up:
        lines += ["", "A weak answer: check it. Runner-up:", "", f"> {escape_markdown(answer.runner_up.quote)}"]
    lines += ["", "Sources:", ""]
    for i, c in enumerate(answer.citations, 1):
        lines.append(f"[{i}] {escape_markdown(full_citation(c))}  ")
    return "\n".join(lines).rstrip()


def _esc(text: str) -> str:
    return html.escape(text, quote=True)


def _open_button(source: str, start: int, end: int, label: str = "Open in source") -> str:
    request = json.dumps({"source": source, "start": start, "end": end})
    return f'<button type="button" class="ak-open" data-ak-open="{_esc(request)}">{label}</button>'


def highlighted_passage_html(passage: Passage, citations: tuple[Citation, ...]) -> str:
    """The passage text with the cited spans inside it marked; every piece escaped."""
    marks = sorted(
        (max(c.start, passage.start) - passage.start, min(c.end, passage.end) - passage.start, n)
        for n, c in enumerate(citations, 1)
        if c.source == passage.source and c.start < passage.end and passage.start < c.end
    )
    out, pos = [], 0
    for lo, hi, n in marks:
        if lo < pos:
            continue
        out.append(_esc(passage.text[pos:lo]))
        out.append(f'<mark class="ak-answer" data-citation="{n}">{_esc(passage.text[lo:hi])}</mark>')
        pos = hi
    out.append(_esc(passage.text[pos:]))
    return "".join(out).replace("\n\n", "<br><br>")


def _passage_html(p: Passage, citations: tuple[Citation, ...], numbers: list[int]) -> str:
    label = "".join(f"[{n}]" for n in numbers)
    attrs = f' id="ak-passage-{numbers[0]}" data-citations="{" ".join(map(str, numbers))}" open' if numbers else ""
    kind = "ak-cited" if numbers else "ak-other"
    return (
        f'<details class="ak-passage {kind}"{attrs}><summary>{label + " " if label else ""}'
        f'{_esc(citation_label(p))} <small>retrieval score {p.score:.2f}</small></summary>'
        f'<p class="ak-passage-text">{highlighted_passage_html(p, citations)}</p>'
        f'<p class="ak-span"><code>{_esc(p.source)}</code> characters {p.start}–{p.end} '
        f'{_open_button(p.source, p.start, p.end)}</p></details>'
    )


def explanation_html(answer: Answer) -> str:
    e = answer.explanation
    if e is None:
        return ""
    rows = "".join(
        f"<tr><td>{'' if c.score is None else f'{c.score:+.2f}'}</td>"
        f"<td>{'' if c.model_logit is None else f'{c.model_logit:+.2f}'}</td>"
        f"<td>{c.probability:.3f}</td><td>{c.passage_rank}</td><td>{c.passage_score:.2f}</td>"
        f"<td>{c.dense:.2f} / {c.best_sentence:.2f} / {c.lexical:.2f}</td>"
        f"<td>{_esc(', '.join(c.matched_words))}</td><td>{_esc(c.text)}</td></tr>"
        for c in e.candidates
    )
    return (
        '<details class="ak-explain"><summary>Why this answer?</summary>'
        f'<p><strong>Decided by: {_esc(e.stage)}</strong> — {_esc(e.reason)}.</p>'
        f'<p>Question words used: {_esc(", ".join(e.question_words)) or "none"}. '
        f"Confidence {e.answerable:.2f} (cut-off {e.threshold:g}).</p>"
        '<table class="ak-candidates"><thead><tr><th>final score</th><th>answer model</th><th>feature scorer</th>'
        "<th>passage rank</th><th>retrieval</th>"
        "<th>dense / best sentence / lexical</th><th>question words matched</th><th>sentence</th></tr></thead>"
        f"<tbody>{rows}</tbody></table></details>"
    )


def answer_html(answer: Answer) -> str:
    parts = ['<div class="ak-result">']
    numbers: dict[int, list[int]] = {}  # passage position -> citation numbers it holds
    for n in range(1, len(answer.citations) + 1):
        p = answer.cited_passage(n)
        if p is not None:
            numbers.setdefault(answer.passages.index(p), []).append(n)
    band = answer.band  # None when not found
    if band is not None:
        if answer.note:
            parts.append(f'<p class="ak-note">{_esc(answer.note)}</p>')
        parts.append(f'<div class="ak-answer-card ak-band-{band}">')
        for i, c in enumerate(answer.citations, 1):
            flag = '<span class="ak-weak-flag">weak answer — check it</span>' if band == "weak" and i == 1 else ""
            parts.append(f'<blockquote class="ak-quote" data-citation="{i}">{_esc(c.quote)} '
                         f'<a class="ak-cite-ref" href="#ak-cite-{i}" data-ak-cite="{i}">[{i}]</a>{flag}</blockquote>')
        parts.append(f'<p class="ak-confidence ak-band-{band}"><span class="ak-band">{_esc(DESCRIPTIONS[band])}</span> '
                     f"<small>(confidence {answer.confidence:.2f})</small></p>")
        if band == "weak" and answer.runner_up:
            r = answer.runner_up
            parts.append(f'<div class="ak-runner-up"><strong>Runner-up:</strong> <q>{_esc(r.quote)}</q> '
                         f"<small>{_esc(citation_label(r))}, <code>{_esc(r.source)}</code> characters {r.start}–{r.end}</small> "
                         f"{_open_button(r.source, r.start, r.end)}</div>")
        parts.append('<ol class="ak-citations">')
        for i, c in enumerate(answer.citations, 1):
            parts.append(
                f'<li id="ak-cite-{i}"><span class="ak-cite-full">{_esc(full_citation(c))}</span> '
                f'<button type="button" class="ak-copy" data-ak-copy="{_esc(full_citation(c))}">Copy citation</button> '
                f"{_open_button(c.source, c.start, c.end)}</li>"
            )
        parts.append("</ol>")
        md = answer_markdown(answer, with_question=True)
        parts.append(f'<a class="ak-download" download="askkhorasan-answer.md" '
                     f'href="data:text/markdown;charset=utf-8,{urllib.parse.quote(md)}">Download as Markdown</a></div>')
    else:
        parts.append(f'<div class="ak-not-found">{_esc(_refusal(answer))}</div>')
    parts.append(explanation_html(answer))
    if answer.passages:
        cited = sorted(numbers, key=lambda i: numbers[i][0])  # in citation order; the rest in search order
        others = [i for i in range(len(answer.passages)) if i not in numbers]
        if cited:
            parts.append('<h3>Cited passages</h3>')
            parts += [_passage_html(answer.passages[i], answer.citations, numbers[i]) for i in cited]
        if others:
            parts.append(f'<h3>{"Other passages" if cited else "Nearest passages"}</h3>')
            parts += [_passage_html(answer.passages[i], answer.citations, []) for i in others]
    parts.append("</div>")
    return "".join(parts)


def document_html(view: DocumentView) -> str:
    """The source viewer: a window of the document text around a span, the span marked."""
    meta = " · ".join(_esc(x) for x in (view.publisher, view.date, view.section,
                                         f"p. {view.page}" if view.page is not None else None) if x)
    head = (f'<div class="ak-viewer-head"><strong>{_esc(view.title or view.source)}</strong>'
            f'{" — " + meta if meta else ""}<br><code>{_esc(view.source)}</code>, characters {view.start}–{view.end} '
            f"(showing {view.window_start}–{view.window_end} of {view.length:,})</div>")
    buttons = []
    if view.window_start > 0:
        buttons.append(_load_button(view, max(0, view.window_start - view.step), view.window_end, "Load more before"))
    if view.window_end < view.length:
        buttons.append(_load_button(view, view.window_start, min(view.length, view.window_end + view.step), "Load more after"))
    text = view.text
    lo, hi = view.start - view.window_start, view.end - view.window_start
    body = (_esc(text[:lo]) + f'<mark class="ak-source-quote" id="ak-source-quote">{_esc(text[lo:hi])}</mark>'
            + _esc(text[hi:])).replace("\n", "<br>")
    return (f'<div class="ak-viewer">{head}<div class="ak-viewer-buttons">{"".join(buttons)}</div>'
            f'<div class="ak-viewer-text">{body}</div></div>')


def _load_button(view: DocumentView, lo: int, hi: int, label: str) -> str:
    request = json.dumps({"source": view.source, "start": view.start, "end": view.end, "window_start": lo, "window_end": hi})
    return f'<button type="button" class="ak-open ak-more" data-ak-open="{_esc(request)}">{label}</button>'


def sources_html(documents: Sequence[DocumentRow], status_line: str) -> str:
    rows = "".join(
        f"<tr><td>{_esc(d.get('title') or d['source'])}</td><td>{_esc(d.get('date') or '')}</td>"
        f"<td>{_esc(d.get('publisher') or '')}</td><td>{int(d.get('passages', 0))}</td>"
        f"<td><code>{_esc(d['source'])}</code></td></tr>"
        for d in documents
    )
    return (
        f'<p class="ak-status">{_esc(status_line)}</p>'
        '<table class="ak-sources"><thead><tr><th>Title</th><th>Date</th><th>Publisher</th>'
        f"<th>Passages</th><th>File</th></tr></thead><tbody>{rows}</tbody></table>"
    )


def build_summary(report: BuildReport) -> str:
    """One line for what a build did, with plurals that agree."""
    if not (report.added or report.updated or report.removed or report.embedded_passages):
        return (f"Nothing new, changed or removed: the index of {plural(len(report.unchanged), 'source')} "
                f"({plural(report.passages, 'passage')}) is up to date ({report.seconds:.2f}s).")
    return (
        f"Indexed {plural(len(report.added) + len(report.updated) + len(report.unchanged), 'source')} "
        f"({plural(report.passages, 'passage')}, {report.embedded_passages:,} embedded now) in {report.seconds:.1f}s: "
        f"{len(report.added)} added, {len(report.updated)} updated, {len(report.unchanged)} unchanged, "
        f"{len(report.removed)} removed."
    )


def build_report_lines(report: BuildReport) -> list[tuple[str, str]]:
    """What a build did, as (kind, line): the summary, then each duplicate, warning and skipped
    source; names with control characters escaped. The one wording of a BuildReport for every face."""
    lines = [("summary", build_summary(report))]
    lines += [("duplicate", f"{printable(dup)} is the same file as {printable(original)}; indexed once")
              for dup, original in report.duplicates]
    lines += [("warning", printable(w)) for w in report.warnings]
    lines += [("skipped", printable(f.reason)) for f in report.failed]
    return lines


def build_report_html(report: BuildReport | None, added: list[AddedFile]) -> str:
    lines = []
    copied = [a.source for a in added if a.copied]
    if copied:
        lines.append(f"Added {', '.join(copied)}.")
    lines += [f"{a.name} is already in the corpus as {a.source}; nothing copied." for a in added if not a.copied]
    if report is not None:
        lines += [text if kind == "summary" else f"{kind.capitalize()}: {text}" for kind, text in build_report_lines(report)]
    return '<div class="ak-build-report">' + "".join(f"<p>{_esc(line)}</p>" for line in lines) + "</div>"
