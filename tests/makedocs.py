"""Real documents made for the tests: PDFs written with fpdf2 (encrypted with pypdf), an HTML page."""

from __future__ import annotations

import io

from fpdf import FPDF

REPORT_PAGES = [
    ("Summary", [
        "The Monitoring Team assesses that the group retains several thousand fighters in Afghanistan. "
        "Member States reported that its leadership remains dispersed across eastern provinces.",
        "Financial flows through informal hawala networks continue to sustain the group's operations.",
    ]),
    ("Finances", [
        "One Member State reported that the group's monthly budget was sustained by extortion of "
        "mining sites in Badakhshan, yielding an estimated 200,000 dollars per month.",
        "Cryptocurrency transfers were also observed, mostly in stablecoins routed through exchanges "
        "in the region.",
    ]),
    ("Recruitment", [
        "Recruiters in Central Asia rely on encrypted messaging channels and target labour migrants "
        "working in Russia, according to two Member States.",
        "Online magazines in several languages support this recruitment effort.",
    ]),
]


def report_pdf(pages=REPORT_PAGES, title="Monitoring Team Report on ISKP", blank_page: bool = False) -> bytes:
    pdf = FPDF()
    pdf.set_title(title)
    pdf.set_author("Analytical Support and Sanctions Monitoring Team")
    pdf.set_auto_page_break(False)
    for number, (heading, paragraphs) in enumerate(pages, 1):
        pdf.add_page()
        pdf.set_font("Helvetica", size=9)
        pdf.cell(0, 8, "S/2024/499 - Monitoring Team Report", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", "B", 14)
        pdf.cell(0, 10, heading, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", size=11)
        for paragraph in paragraphs:
            pdf.multi_cell(0, 6, paragraph, new_x="LMARGIN", new_y="NEXT")
            pdf.ln(4)
        pdf.set_y(-20)
        pdf.set_font("Helvetica", size=9)
        pdf.cell(0, 8, f"Page {number}", align="C")
    if blank_page:
        pdf.add_page()
    return bytes(pdf.output())


def encrypted_pdf(password: str = "secret") -> bytes:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(report_pdf())))
    writer.encrypt(user_password=password, owner_password="owner", algorithm="AES-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def empty_pdf() -> bytes:
    pdf = FPDF()
    pdf.add_page()
    return bytes(pdf.output())


HTML_PAGE = """<!DOCTYPE html>
<html><head>
<title>ISKP moves north | Frontier Review</title>
<meta name="author" content="Jane Doe">
<meta property="og:site_name" content="Frontier Review">
<meta property="article:published_time" content="2024-03-05">
<script>window.trackingId = "NAVSCRIPT-123"; document.write("SCRIPT_WRITTEN_TEXT");</script>
<style>.x { color: red }</style>
</head><body>
<header><nav><ul><li><a href="/">Home</a></li><li><a href="/asia">Asia NAVLINK</a></li>
<li><a href="/subscribe">Subscribe to Frontier Review NAVLINK</a></li></ul></nav></header>
<aside class="sidebar"><h3>Trending</h3><ul><li><a href="/a">SIDEBAR teaser about elections</a></li></ul></aside>
<main><article>
<h1>ISKP moves north</h1>
<p>The group has moved fighters into Badakhshan and Takhar provinces over the past two years,
according to local officials who spoke on condition of anonymity about the security situation.</p>
<h2>Recruitment in the madrasas</h2>
<p>Recruiters target graduates of Salafi madrasas with cash stipends paid in Pakistani rupees,
the officials said, adding that the payments began after the fall of Kabul in 2021.</p>
<p>Some recruits crossed from Tajikistan and Uzbekistan, where the group publishes a magazine in Uzbek.</p>
</article></main>
<footer><p>Copyright 2024 Frontier Review. FOOTERTEXT All rights reserved.</p>
<script>console.log("FOOTER_SCRIPT")</script></footer>
</body></html>
"""
