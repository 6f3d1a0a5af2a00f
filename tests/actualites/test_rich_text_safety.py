"""A script or an event handler pasted into a news paragraph never runs: Wagtail's
rich-text whitelist strips it when the page is saved, and neither the public page nor
the API gives it back."""

from __future__ import annotations

import json
import re

from modules.actualites.models import NewsIndexPage, NewsPage

HOSTILE = (
    '<p>Collecte des feuilles<script>alert(1)</script> le 12 octobre.</p>'
    '<p><img src="x" onerror="alert(2)">Lisez <a href="javascript:alert(3)" '
    'onclick="alert(4)">ceci</a> <b onmouseover="alert(5)">vite</b>.</p>'
    '<p><iframe src="https://evil.example/"></iframe><svg onload="alert(6)"></svg></p>'
)

# What the payload could leave behind: its scripts' calls, its handlers, its URLs.  (The
# theme's own <script src> tags are legitimate, so the page is checked for the payload.)
EXECUTABLE = re.compile(
    r"alert\(|\bon(error|click|mouseover|load)\s*=|javascript:|evil\.example|<iframe|<svg",
    re.IGNORECASE)


def _hostile_news(site) -> NewsPage:
    index = NewsIndexPage.objects.get(locale__language_code="fr")
    page = NewsPage(title="Collecte des feuilles mortes", slug="collecte-feuilles-xss",
                    lead="Calendrier de la collecte.", live=False,
                    body=[("paragraph", HOSTILE + f'<p><a linktype="page" id="{index.pk}">'
                                         'Toutes les actualités</a></p>')])
    index.add_child(instance=page)
    page.save_revision().publish()
    page.refresh_from_db()
    return page


def test_script_and_handlers_in_rich_text_are_neutralised(client, site):
    page = _hostile_news(site)

    stored = json.dumps(list(page.body.raw_data))
    assert not EXECUTABLE.search(stored), stored
    assert "Collecte des feuilles" in stored and "ceci" in stored  # the text is kept

    assert "<script" not in stored
    html = client.get(page.url).content.decode()
    assert "le 12 octobre" in html
    index_url = NewsIndexPage.objects.get(locale__language_code="fr").url
    assert f'<a href="{index_url}">Toutes les actualités</a>' in html  # safe links stay
    assert not EXECUTABLE.search(html), EXECUTABLE.search(html)

    listing = client.get("/api/v2/pages/", {"type": "actualites.NewsPage",
                                            "fields": "body", "slug": page.slug})
    assert listing.status_code == 200
    detail = client.get(f"/api/v2/pages/{page.pk}/")
    assert detail.status_code == 200
    for body in (listing.content.decode(), detail.content.decode()):
        assert "le 12 octobre" in body
        assert not EXECUTABLE.search(body), EXECUTABLE.search(body)
