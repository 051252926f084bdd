"""portal.pdf: a template as an A4 PDF with a title, and nothing fetched from outside."""

import io
import sys

import pytest
from pypdf import PdfReader

from portal import pdf


@pytest.fixture
def template(tmp_path, settings):
    """A template of its own in a temporary directory, extending the PDF base (changing
    TEMPLATES makes Django load its template engines again)."""
    (tmp_path / "pdf_test.html").write_text(
        '{% extends "pdf/base.html" %}{% block content %}'
        "<h1>{{ heading }}</h1>"
        '<img src="https://voorbeeld.invalid/volg-mij.png" alt="">'
        '<img src="file:///etc/passwd" alt="">'
        '<img src="/static/img/favicon.svg" alt="">'
        "{% endblock %}",
        encoding="utf-8",
    )
    settings.TEMPLATES = [
        {**settings.TEMPLATES[0], "DIRS": [tmp_path, *settings.TEMPLATES[0]["DIRS"]]}
    ]
    return "pdf_test.html"


def test_a_template_becomes_an_a4_pdf_with_its_title(template, monkeypatch):
    asked = []
    real = pdf.static_only_fetcher

    def watching(url):
        asked.append(url)
        return real(url)

    monkeypatch.setattr(pdf, "static_only_fetcher", watching)
    data = pdf.render_pdf(template, {"heading": "Dossier MWB-2026-000001"}, title="Titel")
    reader = PdfReader(io.BytesIO(data))
    assert reader.metadata.title == "Titel"
    assert "Dossier MWB-2026-000001" in reader.pages[0].extract_text()
    assert "Pagina 1 van 1" in reader.pages[0].extract_text()
    width, height = (float(v) for v in reader.pages[0].mediabox[2:])
    assert (round(width / 72 * 25.4), round(height / 72 * 25.4)) == (210, 297)
    # Every link of the document went through the fetcher, which refused all but static.
    assert any(url.endswith("/static/img/favicon.svg") for url in asked)
    assert any("voorbeeld.invalid" in url for url in asked)


@pytest.mark.parametrize(
    "url",
    [
        "https://voorbeeld.invalid/volg-mij.png",
        "http://127.0.0.1:8000/static/css/pdf.css",
        "file:///etc/passwd",
        "data:text/plain,hallo",
        f"{pdf.BASE_URL}meldpunt/",
        f"{pdf.BASE_URL}static/../portal/settings.py",
        f"{pdf.BASE_URL}static/bestaat-niet.css",
    ],
)
def test_the_fetcher_refuses_everything_but_the_portals_static_files(url):
    with pytest.raises(pdf.RefusedURL):
        pdf.static_only_fetcher(url)


def test_the_fetcher_reads_a_static_file_from_disk():
    response = pdf.static_only_fetcher(f"{pdf.BASE_URL}static/css/pdf.css")
    assert b"@page" in response.read()
    assert response.content_type == "text/css"


def test_making_a_pdf_leaves_pillows_truncated_image_check_on(template, monkeypatch):
    """WeasyPrint switches on LOAD_TRUNCATED_IMAGES when it is imported; the evidence checks in
    the same process must still refuse a cut-off photo."""
    from PIL import ImageFile

    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", False)
    for module in [name for name in sys.modules if name.split(".")[0] == "weasyprint"]:
        monkeypatch.delitem(sys.modules, module)
    pdf.render_pdf(template, {}, title="Proef")
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False
