"""The error summary at the top of a posted form: one line per problem, linked to its question.

The browser side (focus on load, following a link, Enter in a checkbox list) is in
tests/browser/test_officeholder_side.py.
"""

import re

import pytest
from django.urls import reverse

from incidents.forms import FullReportForm
from portal.error_summary import error_problems
from tests.conftest import verified_login
from tests.factories import IncidentFactory

pytestmark = pytest.mark.django_db


def _summary(html: str) -> str:
    found = re.search(r'<div class="error-summary[^"]*"[^>]*>(.*?)</div>', html, re.S)
    assert found, "no error summary on the page"
    return found.group(1)


def test_full_report_lists_each_problem_once_linked_to_its_field(client, officeholder):
    """Sending the full report empty: one summary, focusable, with a link per required question
    (a list of checkboxes links to its first box); the errors stay next to each question too."""
    client.force_login(officeholder)
    response = client.post(reverse("incidents:new"), {"summary": ""})
    html = response.content.decode()
    assert response.status_code == 200
    assert html.count("data-error-summary") == 1
    summary = _summary(html)
    assert "Er ging iets mis" in summary
    links = re.findall(r'<a href="#([^"]+)">([^<]+)</a>', summary)
    targets = [target for target, _ in links]
    assert "id_types_0" in targets
    assert "id_summary" in targets
    assert len(targets) == len(set(targets))
    for target in targets:
        assert f'id="{target}"' in html, target
    assert "Wat gebeurde er? " in dict(links)["id_types_0"]
    assert html.count("invalid-feedback") >= len(targets)
    assert 'role="alert" tabindex="-1" data-error-summary' in html


def test_a_valid_or_unbound_form_has_no_problems():
    """Nothing to list before a post, and nothing for a form that is fine."""
    assert error_problems(FullReportForm()) == []
    assert error_problems(None) == []


def test_desk_page_shows_one_summary_for_its_forms_not_one_per_form(
    client, registrar, officeholder
):
    """The desk's incident page lists the problems of the posted form once, at the top."""

    incident = IncidentFactory(officeholder=officeholder)
    verified_login(client, registrar)
    response = client.post(reverse("desk:note", args=[incident.reference]), {"body": ""})
    html = response.content.decode()
    assert html.count("data-error-summary") == 1
    assert "Er ging iets mis" in html
