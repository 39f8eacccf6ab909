"""The app listens on loopback by default, and document text is always escaped, never rendered."""

import html
import re
import socket
from html.parser import HTMLParser

import pytest

from hypothesis import given, settings
from hypothesis import strategies as st

from markdown_it import MarkdownIt

from askkhorasan.render import answer_html, answer_markdown, escape_markdown, sources_html
from askkhorasan.types import Answer, Citation, Passage

PAYLOADS = [
    "<script>alert(1)</script>", '<img src=x onerror="alert(1)">', '"><svg onload=alert(1)>',
    "<iframe src=javascript:alert(1)>", "</mark><b>bold</b>", "<a href='javascript:alert(1)'>x</a>",
    "&lt;already escaped&gt;", "[link](javascript:alert(1))", "![img](http://example.invalid/x.png)",
]


def _answer(text: str) -> Answer:
    passage = Passage(text=text, score=1.0, source=f"{text[:10]}.md", title=text, section=text, page=2,
                      start=100, end=100 + len(text), chunk_id=0)
    quote = text[: max(1, len(text) // 2)]
    cite = Citation(source=passage.source, title=text, section=text, page=2, start=100, end=100 + len(quote), quote=quote)
    return Answer(question=text, found=True, text=quote, confidence=0.5, citations=(cite,), passages=(passage,), note=text)


def _tags(markup: str) -> set[str]:
    return set(re.findall(r"<\s*([a-zA-Z][\w-]*)", markup))


class _Parsed(HTMLParser):
    """What a browser's parser sees in the markup: every attribute, and the text shown."""

    def __init__(self, markup: str):
        super().__init__(convert_charrefs=True)
        self.attributes: list[tuple[str, str, str]] = []
        self.shown: list[str] = []
        self.feed(markup)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.attributes += [(tag, name, value or "") for name, value in attrs]

    def handle_data(self, data):
        self.shown.append(data)


OUR_ATTRIBUTES = {"class", "id", "type", "open", "href", "download"}


def _unsafe_attributes(markup: str) -> list[tuple[str, str, str]]:
    """Attributes the renderer never writes: event handlers, or links anywhere but our own anchors and download."""
    bad = []
    for tag, name, value in _Parsed(markup).attributes:
        if name not in OUR_ATTRIBUTES and not name.startswith("data-"):
            bad.append((tag, name, value))
        elif name == "href" and not (value.startswith("#ak-cite-") or value.startswith("data:text/markdown;")):
            bad.append((tag, name, value))
    return bad


OUR_TAGS = {"div", "p", "blockquote", "sup", "ol", "li", "span", "code", "h3", "details", "summary", "small", "a", "button", "q",
            "mark", "br", "strong", "table", "thead", "tbody", "tr", "th", "td"}


@settings(max_examples=300, deadline=None)
@given(text=st.one_of(st.sampled_from(PAYLOADS), st.text(min_size=1, max_size=200),
                      st.lists(st.sampled_from(PAYLOADS + ["a", " ", "\n\n"]), min_size=1).map("".join)))
def test_rendered_html_holds_only_our_markup(text):
    for markup in (answer_html(_answer(text)), sources_html([{"source": text, "title": text, "date": text,
                                                              "publisher": text, "passages": 1}], text)):
        assert _tags(markup) <= OUR_TAGS, _tags(markup) - OUR_TAGS
        assert not _unsafe_attributes(markup)
        first = text.split("\n")[0][:20].strip()
        if first and "\r" not in first and "\0" not in first:
            # The text comes back as text: shown to the reader, not taken as markup.
            assert first in "".join(_Parsed(markup).shown)


def test_the_attribute_check_catches_unescaped_payloads():
    # The check above must be able to fail: markup that lets a payload through is caught.
    assert _unsafe_attributes('<p><img src=x onerror="alert(1)"></p>')
    assert _unsafe_attributes("<p><a href='javascript:alert(1)'>x</a></p>")
    assert _unsafe_attributes('<div class="ak-quote">"><svg onload=alert(1)></div>')
    assert not _unsafe_attributes(answer_html(_answer(PAYLOADS[1])))


def test_payloads_appear_escaped():
    for payload in PAYLOADS:
        markup = answer_html(_answer(payload))
        assert html.escape(payload) in markup
        assert payload not in markup or payload == html.escape(payload)


def test_markdown_output_escapes_markup():
    md = answer_markdown(_answer("[link](javascript:alert(1)) <script>x</script> *bold*"))
    assert "[link](javascript" not in md and "<script>" not in md and "*bold*" not in md


MARKDOWN_SPECIALS = list("\\`*_[]()<>#+-=!|~&.:;\"'{}") + ["1.", "2)", "&amp;", "&#x41;", "](", "<b>", "http://x.y", "  ", "\n"]


@settings(max_examples=500, deadline=None)
@given(text=st.one_of(st.text(max_size=80), st.lists(st.sampled_from(MARKDOWN_SPECIALS + ["a", " ", "9"]), max_size=12).map("".join)))
def test_escaped_markdown_renders_as_exactly_the_text(text):
    rendered = MarkdownIt("commonmark").render("> " + escape_markdown(text) + " [1]")
    shown = " ".join((text + " [1]").split()).replace("\0", "\ufffd")
    shown = shown.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    assert rendered == f"<blockquote>\n<p>{shown}</p>\n</blockquote>\n"


def _listening_addresses(port: int) -> set[str]:
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = open(table).read().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.split(":")
            if state == "0A" and int(hex_port, 16) == port:
                found.add(address)
    return found


@pytest.mark.slow
def test_the_app_listens_on_loopback_only(app_url):
    url, _ = app_url
    port = int(url.rstrip("/").rsplit(":", 1)[1])
    addresses = _listening_addresses(port)
    assert addresses == {"0100007F"}, addresses  # 127.0.0.1, and nothing on 0.0.0.0 or ::
    with socket.create_connection(("127.0.0.1", port), timeout=5):
        pass


def test_serve_and_app_default_to_loopback():
    import inspect

    from askkhorasan import webapp
    from askkhorasan.cli import serve

    assert inspect.signature(webapp.serve).parameters["host"].default == "127.0.0.1"
    host = next(p for p in serve.params if p.name == "host")
    assert host.default == "127.0.0.1"
