"""The browser app, started for real and driven in headless Chromium (Debian's /usr/bin/chromium)."""

from concurrent.futures import ThreadPoolExecutor

import pytest

from askkhorasan import Index

from conftest import ARTIFACTS, DESIGN_QUESTION, SEED

pytestmark = pytest.mark.browser

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
