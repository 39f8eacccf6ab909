"""Answers as Markdown (CLI) and HTML (app). Document text is untrusted: always escaped."""

from __future__ import annotations

import html
import re

from .printable import printable
from .types import Answer, BuildReport, Citation, Passage

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


def answer_markdown(answer: Answer) -> str:
    lines: list[str] = []
    if answer.note and answer.found:
        lines += [f"_{escape_markdown(answer.note)}_", ""]
    if not answer.found:
        lines.append(f"**Not found in the sources.** {escape_markdown(answer.note or '')}".rstrip())
        if answer.passages:
            lines += ["", "Nearest passages:"]
            for i, p in enumerate(answer.passages[:3], 1):
                lines.append(f"{i}. {escape_markdown(citation_label(p))} — {_code(p.source)} {p.start}–{p.end}")
        return "\n".join(lines)
    for i, c in enumerate(answer.citations, 1):
        lines.append(f"> {escape_markdown(c.quote)} [{i}]")
        lines.append("")
    lines.append(f"Confidence: {answer.confidence:.2f}")
    lines += ["", "Sources:"]
    for i, c in enumerate(answer.citations, 1):
        lines.append(f"[{i}] {escape_markdown(citation_label(c))} — {_code(c.source)}, characters {c.start}–{c.end}")
    return "\n".join(lines)


def _esc(text: str) -> str:
    return html.escape(text, quote=True)


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


def answer_html(answer: Answer) -> str:
    parts = ['<div class="ak-result">']
    if answer.note:
        parts.append(f'<p class="ak-note">{_esc(answer.note)}</p>')
    if answer.found:
        parts.append('<div class="ak-answer-card">')
        for i, c in enumerate(answer.citations, 1):
            parts.append(f'<blockquote class="ak-quote">{_esc(c.quote)} <sup>[{i}]</sup></blockquote>')
        parts.append(f'<p class="ak-confidence">Confidence {answer.confidence:.2f}</p><ol class="ak-citations">')
        for c in answer.citations:
            parts.append(
                f'<li><span class="ak-cite-label">{_esc(citation_label(c))}</span> '
                f'<code>{_esc(c.source)}</code> characters {c.start}–{c.end}</li>'
            )
        parts.append("</ol></div>")
    else:
        parts.append('<div class="ak-not-found"><strong>Not found in the sources.</strong> '
                     "The nearest passages are shown below for reference.</div>")
    if answer.passages:
        parts.append('<h3>Passages</h3>')
        for rank, p in enumerate(answer.passages, 1):
            parts.append(
                f'<details class="ak-passage" {"open" if rank <= 3 else ""}><summary>[{rank}] '
                f'{_esc(citation_label(p))} <small>score {p.score:.2f}</small></summary>'
                f'<p>{highlighted_passage_html(p, answer.citations)}</p>'
                f'<p class="ak-span"><code>{_esc(p.source)}</code> characters {p.start}–{p.end}</p></details>'
            )
    parts.append("</div>")
    return "".join(parts)


def sources_html(documents: list[dict], status_line: str) -> str:
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


def build_report_html(report: BuildReport, added: list[str]) -> str:
    lines = [
        f"Added {', '.join(added)}. The index now holds {report.passages} passages "
        f"({report.embedded_passages} embedded now, {report.seconds:.1f}s): {len(report.added)} new, "
        f"{len(report.updated)} updated, {len(report.unchanged)} unchanged, {len(report.removed)} removed sources."
    ]
    lines += [f"Duplicate: {dup} is the same file as {original}; indexed once." for dup, original in report.duplicates]
    lines += [f"Warning: {w}" for w in report.warnings]
    lines += [f"Skipped: {f.reason}" for f in report.failed]
    return '<div class="ak-build-report">' + "".join(f"<p>{_esc(line)}</p>" for line in lines) + "</div>"
