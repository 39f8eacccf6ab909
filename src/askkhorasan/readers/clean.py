"""Web-page clutter removal for text saved from a browser.

Works on the page's paragraphs (runs of lines between blank lines) and sorts
them into metadata (title, date, author, publisher), article blocks (headings
and paragraphs) and clutter: weather and date lines, breadcrumbs, teasers of
other stories, advertisement markers, subscription prompts. The rules are
generic shapes of web pages, not knowledge of any one site.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

# Words that, alone on a line, announce a list of links to other pages.
_TEASER_MARKERS = {
    "related stories", "related articles", "related posts", "related", "latest stories",
    "latest news", "latest", "latest articles", "read more", "read next", "more stories",
    "more from", "more news", "you may also like", "you might also like", "recommended",
    "recommended stories", "trending", "trending now", "most read", "most popular",
    "popular stories", "popular posts", "editor's picks", "editors' picks", "top stories",
    "see also", "further reading on this site", "in other news", "also read",
}
_NOISE_LINES = {
    "advertisement", "sponsored", "sponsored content", "share", "share this", "share this:",
    "share this article", "print", "email", "comments", "leave a reply", "leave a comment",
    "skip to content", "skip to main content", "menu", "search", "close", "home", "tags",
    "follow us", "subscribe", "newsletter", "sign in", "log in", "login", "register",
    "back to top", "loading...", "continue reading", "story continues below advertisement",
}
_PROMPT = re.compile(
    r"subscri|newsletter|sign ?up|sign ?in|log ?in\b|premium content|notifications|"
    r"full access|devices at once|never miss|unlimited access|free trial|create an? account|"
    r"follow us|share on|cookies?\b|privacy policy|terms of (use|service)|all rights reserved|"
    r"download (our|the) app|join our",
    re.I,
)
_AD_TOKEN = re.compile(r" ?ADVERTISEMENT(?![a-z])")
_WEATHER = re.compile(r"^-?\d{1,3}(?:[.,]\d)?\s*°?\s*[CF]$")
_BREADCRUMB_GLUED = re.compile(r"^Home(?=[A-Z])")
_BREADCRUMB_SEP = re.compile(r"\s(?:>|»|›|/|\|)\s")
_SOURCE_LINE = re.compile(
    r"^(?:Source|Originally published (?:by|in|at|on)|This (?:article|piece|story) "
    r"(?:was )?(?:first|originally) (?:appeared|published) (?:in|on|by|at))\s*:?\s*(.{2,80}?)\.?$",
    re.I,
)
_BYLINE = re.compile(r"^(?:By|Written by|Author:)\s+([A-Z][^\n]{1,80})$")
_LINE = re.compile(r"[^\n\r\x0b\x0c\x1c-\x1e\x85\u2028\u2029]+")  # str.splitlines' lines, lazily
_BULLET = re.compile(r"^\s*(?:[-*•·]|\d+[.)])\s+")
_ELLIPSIS_END = re.compile(r"(?:\.\.\.|…)\s*$")
_TERMINAL = re.compile(r"[.!?:;,…\"”’)]\s*$")
_WEEKDAY = r"(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday|Mon|Tue|Wed|Thu|Fri|Sat|Sun)"
_DATE_FORMATS = (
    "%A, %B %d, %Y", "%B %d, %Y", "%b %d, %Y", "%d %B %Y", "%d %b %Y", "%A %d %B %Y",
    "%A, %d %B %Y", "%Y-%m-%d", "%d/%m/%Y", "%B %Y",
)
_DATE_SHAPE = re.compile(
    rf"^(?:{_WEEKDAY},?\s+)?(?:\d{{1,2}}\s+[A-Z][a-z]+\.?\s+\d{{4}}|[A-Z][a-z]+\.?\s+\d{{1,2}},?\s+\d{{4}}|"
    r"\d{4}-\d{2}-\d{2}|\d{1,2}/\d{1,2}/\d{4})$"
)
_SMALL_WORDS = {
    "a", "an", "and", "as", "at", "but", "by", "for", "from", "in", "into", "is", "of", "on",
    "or", "the", "to", "with", "vs", "via", "its", "their", "how", "why", "what",
}


@dataclass
class CleanPage:
    title: str | None = None
    date: str | None = None
    author: str | None = None
    publisher: str | None = None
    blocks: list[tuple[str, str]] = field(default_factory=list)  # (kind, text)
    removed: list[str] = field(default_factory=list)


def parse_date(line: str) -> str | None:
    """The ISO date a line consists of, or None."""
    text = line.strip().rstrip(".")
    if not _DATE_SHAPE.match(text):
        return None
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text.replace(".", ""), fmt).date().isoformat()
        except ValueError:
            continue
    return None


def remove_ad_markers(text: str) -> str:
    """Drop "ADVERTISEMENT" where a page glued it into (or between) sentences."""
    return _AD_TOKEN.sub("", text)


def _words(text: str) -> list[str]:
    return text.split()


def _count_words(text: str, cap: int) -> int:
    """min(words in text, cap), without splitting a huge paragraph into millions of words."""
    n = 0
    for _ in re.finditer(r"\S+", text):
        n += 1
        if n >= cap:
            break
    return n


def is_headline(text: str, max_words: int = 14) -> bool:
    """A short single line without closing punctuation: a title, heading or link text."""
    if "\n" in text.strip():
        return False
    if len(text) > 120:
        return False
    words = _words(text)
    if not words or len(words) > max_words:
        return False
    if _TERMINAL.search(text) and not text.rstrip().endswith("?"):
        return False
    return text.lstrip()[0].isupper() or text.lstrip()[0].isdigit()


def is_heading(text: str) -> bool:
    """A section heading in saved text: a short title-case line."""
    if not is_headline(text, max_words=10) or text.rstrip().endswith("?"):
        return False
    words = [w for w in re.findall(r"[A-Za-z][\w’'-]*", text)]
    content = [w for w in words if w.lower() not in _SMALL_WORDS]
    if not content:
        return False
    capitalised = sum(1 for w in content if w[0].isupper())
    return capitalised / len(content) >= 0.6


def _is_noise(line: str) -> bool:
    stripped = _BULLET.sub("", line).strip()
    low = stripped.lower().rstrip(" :")
    if not stripped:
        return True
    if low in _NOISE_LINES or _WEATHER.match(stripped):
        return True
    if _BREADCRUMB_GLUED.match(stripped):
        return True
    if len(_BREADCRUMB_SEP.findall(stripped)) >= 2 and len(stripped) < 160:
        return True
    return _count_words(stripped, 17) <= 16 and bool(_PROMPT.search(stripped))


def _is_body(text: str) -> bool:
    """A paragraph of running prose, as opposed to a teaser snippet or a label."""
    return _count_words(text, 25) >= 25 and not _ELLIPSIS_END.search(text)


def clean_page(paragraphs: list[str]) -> CleanPage:
    """Sort a saved page's paragraphs into metadata, article blocks and clutter."""
    page = CleanPage()
    paragraphs = _split_listings(paragraphs)
    first_body = next((i for i, p in enumerate(paragraphs) if _is_body(p)), len(paragraphs))
    headline_counts: dict[str, int] = {}
    for p in paragraphs:
        key = p.strip()
        headline_counts[key] = headline_counts.get(key, 0) + 1

    in_teasers = False
    for i, raw in enumerate(paragraphs):
        text = remove_ad_markers(raw).strip()
        if not text:
            continue
        low = text.lower().rstrip(" :")
        single_line = "\n" not in text

        if single_line and low in _TEASER_MARKERS:
            in_teasers = True
            page.removed.append(text)
            continue
        if in_teasers:
            if _looks_like_teaser(text) or (is_headline(text, max_words=20) and _teaser_follows(paragraphs, i)):
                page.removed.append(text)
                continue
            in_teasers = False

        if single_line:
            date = parse_date(text)
            if date and page.date is None and i < first_body:
                page.date = date
                page.removed.append(text)
                continue
            m = _SOURCE_LINE.match(text)
            if m and len(_words(text)) <= 12:
                page.publisher = page.publisher or m.group(1).strip()
                page.removed.append(text)
                continue
            m = _BYLINE.match(text)
            if m and i < first_body and len(_words(text)) <= 8:
                page.author = page.author or m.group(1).strip()
                page.removed.append(text)
                continue
            if _is_noise(text):
                page.removed.append(text)
                continue
            if _BREADCRUMB_GLUED.match(text):
                page.removed.append(text)
                continue

        if i < first_body:
            if page.title is None and is_headline(text, max_words=20):
                page.title = text
                page.blocks.append(("title", text))
                continue
            if page.title is not None and text == page.title:
                page.removed.append(text)  # the title printed twice
                continue
            if _looks_like_teaser(text):
                page.removed.append(text)
                continue
            if is_headline(text, max_words=20) and headline_counts.get(text, 0) > 1:
                page.removed.append(text)
                continue
        if i > first_body and _ELLIPSIS_END.search(text) and _count_words(text, 25) < 25:
            page.removed.append(text)  # a teaser snippet outside a marked list
            continue
        if not single_line and all(_is_noise(m.group()) for m in _LINE.finditer(text)):
            page.removed.append(text)
            continue
        kind = "heading" if (i > first_body and is_heading(text)) else "paragraph"
        page.blocks.append((kind, text))

    _drop_trailing_labels(page)
    return page


def _split_listings(paragraphs: list[str]) -> list[str]:
    """Lines of page furniture printed without blank lines between them become paragraphs."""
    out: list[str] = []
    for para in paragraphs:
        lines = (m.group() for m in re.finditer(r"[^\n]+", para))
        if "\n" in para and any(_is_noise(l) or parse_date(l) or _SOURCE_LINE.match(l.strip()) for l in lines):
            out.extend(l.strip() for l in para.split("\n") if l.strip())
        else:
            out.append(para)
    return out


def _teaser_follows(paragraphs: list[str], i: int) -> bool:
    """After a headline in a list of links comes a snippet, another headline, or the page's end;
    after a section heading comes prose."""
    nxt = next((p.strip() for p in paragraphs[i + 1 :] if p.strip()), None)
    if nxt is None:
        return True
    nxt = remove_ad_markers(nxt)
    return _looks_like_teaser(nxt) or (is_headline(nxt, max_words=20) and not _is_body(nxt))


def _looks_like_teaser(text: str) -> bool:
    return bool(_ELLIPSIS_END.search(text)) and _count_words(text, 40) < 40


def _drop_trailing_labels(page: CleanPage) -> None:
    """Headlines and headings after the article's last paragraph are page furniture."""
    while page.blocks and page.blocks[-1][0] != "paragraph":
        kind, text = page.blocks.pop()
        if kind == "title":
            page.blocks.append((kind, text))
            break
        page.removed.append(text)
    while page.blocks and page.blocks[-1][0] == "paragraph" and is_headline(page.blocks[-1][1], 6):
        page.removed.append(page.blocks.pop()[1])
