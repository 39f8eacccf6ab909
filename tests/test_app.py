"""The browser app, started for real and driven in headless Chromium (Debian's /usr/bin/chromium)."""

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from askkhorasan import Index, build_index

from conftest import ROOT, SEED

pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = ROOT / "test-artifacts"
UNTRUSTED = (
    "# Untrusted channel post\n\n"
    "The recruiter's message in the Kunar channel read <script>window.__xss = 1</script> and then "
    "<img src=x onerror=\"window.__xss = 2\"> was posted with a call to travel.\n"
)
DESIGN_QUESTION = "Why is the group shrouded in secrecy?"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def app_url(tmp_path_factory, embedder):
    root = tmp_path_factory.mktemp("app")
    corpus = root / "corpus"
    corpus.mkdir()
    shutil.copy(SEED, corpus / SEED.name)
    (corpus / "untrusted.md").write_text(UNTRUSTED, encoding="utf-8")
    build_index(corpus, root / "index", embedder=embedder)
    port = _free_port()
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "GRADIO_ANALYTICS_ENABLED": "False"}
    log = (root / "app.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "app.py"), "--port", str(port), "--corpus", str(corpus), "--index", str(root / "index")],
        stdout=log, stderr=subprocess.STDOUT, env=env, cwd=root,
    )
    url = f"http://127.0.0.1:{port}/"
    deadline = time.time() + 180
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the app exited: {(root / 'app.log').read_text()}")
        try:
            urllib.request.urlopen(url, timeout=2)
            break
        except OSError:
            time.sleep(0.5)
    else:
        proc.kill()
        raise RuntimeError(f"the app did not start: {(root / 'app.log').read_text()}")
    yield url, root
    proc.terminate()
    proc.wait(timeout=20)


@pytest.fixture(scope="module")
def browser():
    playwright = pytest.importorskip("playwright.sync_api")
    assert Path(CHROMIUM).exists(), "install Debian's chromium: apt-get install chromium"
    with playwright.sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        )
        yield b
        b.close()


def _ask(page, url, question):
    page.goto(url)
    page.fill("#ak-question textarea", question)
    page.click("#ak-ask")


def test_design_question_in_the_browser(app_url, browser):
    url, _ = app_url
    page = browser.new_page(viewport={"width": 1280, "height": 1400})
    _ask(page, url, DESIGN_QUESTION)
    page.wait_for_selector(".ak-quote", timeout=60_000)
    assert "they have shrouded the organization in secrecy" in page.inner_text(".ak-quote")
    assert "Islamic State-Khorasan’s Transition Into a Transregional Threat" in page.inner_text(".ak-citations")
    marks = page.locator("mark.ak-answer")
    assert marks.count() >= 1
    assert "shrouded the organization in secrecy" in marks.first.inner_text()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "design-question.png"), full_page=True)
    page.close()


def test_unanswerable_question_says_so(app_url, browser):
    url, _ = app_url
    page = browser.new_page()
    _ask(page, url, "What is the capital of Australia?")
    page.wait_for_selector(".ak-not-found", timeout=60_000)
    assert page.locator(".ak-passage").count() >= 1
    page.close()


def test_empty_question_gets_a_message(app_url, browser):
    url, _ = app_url
    page = browser.new_page()
    _ask(page, url, "   ")
    page.wait_for_selector("text=question is empty", timeout=30_000)
    page.close()


def test_document_html_is_shown_as_text_never_run(app_url, browser):
    url, _ = app_url
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    _ask(page, url, "What did the recruiter's message in the Kunar channel read?")
    page.wait_for_selector(".ak-passage", timeout=60_000)
    shown = page.inner_text("#ak-result")
    assert "<script>window.__xss = 1</script>" in shown
    assert '<img src=x onerror="window.__xss = 2">' in shown
    page.wait_for_timeout(500)
    assert page.evaluate("window.__xss") is None
    assert page.locator("#ak-result img").count() == 0 and page.locator("#ak-result script").count() == 0
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "untrusted-source.png"), full_page=True)
    page.close()


def test_sources_tab_lists_documents(app_url, browser):
    url, _ = app_url
    page = browser.new_page()
    page.goto(url)
    page.get_by_role("tab", name="Sources").click()
    page.wait_for_selector(".ak-sources", timeout=30_000)
    table = page.inner_text(".ak-sources")
    assert "The Diplomat" in table and "2024-05-23" in table and "Untrusted channel post" in table
    page.close()


def test_api_endpoint_ask_returns_json(app_url):
    from gradio_client import Client

    url, _ = app_url
    answer = Client(url, verbose=False).predict(DESIGN_QUESTION, api_name="/ask")
    assert answer["found"] is True
    assert "shrouded the organization in secrecy" in answer["text"]
    c = answer["citations"][0]
    assert c["quote"] == answer["text"] and c["source"] == SEED.name and c["end"] > c["start"]


def test_concurrent_questions_get_their_own_answers(app_url, embedder):
    """A bounded loopback load: 6 clients, 24 questions, each reply checked against `ask` directly."""
    from gradio_client import Client

    url, root = app_url
    questions = [
        DESIGN_QUESTION, "Where did the three groups reconvene?", "What is the Voice of Khurasan?",
        "How do the Taliban view the Islamic State caliphate?", "What is the capital of Australia?",
        "Which provinces of Afghanistan have a Salafi presence?",
    ]
    direct = Index(root / "index", embedder=embedder)
    expected = {q: direct.ask(q).text for q in questions}

    def client_run(offset):
        client = Client(url, verbose=False)
        return [(q, client.predict(q, api_name="/ask")["text"]) for q in (questions[offset:] + questions[:offset])[:4]]

    with ThreadPoolExecutor(max_workers=6) as pool:
        results = [r for batch in pool.map(client_run, range(6)) for r in batch]
    assert len(results) == 24
    for question, text in results:
        assert text == expected[question], question


def test_upload_adds_a_document_and_refreshes_the_index(app_url, browser, tmp_path):
    url, root = app_url
    note = tmp_path / "courier notes.md"
    note.write_text("# Courier notes\n\n## Nuristan\n\nCouriers in Nuristan carry messages on motorbikes "
                    "along the Pech road, according to a local elder.\n", encoding="utf-8")
    page = browser.new_page(viewport={"width": 1280, "height": 1400})
    page.goto(url)
    page.get_by_role("tab", name="Sources").click()
    page.set_input_files("#ak-upload input[type=file]", str(note))
    page.wait_for_timeout(1000)
    page.click("#ak-add")
    page.wait_for_selector(".ak-build-report", timeout=120_000)
    assert "courier_notes.md" in page.inner_text(".ak-build-report") or "courier notes.md" in page.inner_text(".ak-build-report")
    assert "Courier notes" in page.inner_text(".ak-sources")
    page.get_by_role("tab", name="Ask").click()
    page.fill("#ak-question textarea", "How do couriers in Nuristan carry messages?")
    page.click("#ak-ask")
    page.wait_for_selector(".ak-quote", timeout=60_000)
    assert "on motorbikes" in page.inner_text(".ak-quote")
    page.close()
    assert any(p.name.startswith("courier") for p in (root / "corpus").iterdir())
