"""docs/permissions.md is what the policies say now (regenerate: manage.py permissions_doc)."""

from pathlib import Path

from django.conf import settings

from devtools.permissions import permissions_markdown


def test_the_committed_permissions_document_matches_the_policies():
    """A change of a policy or an action table without `manage.py permissions_doc` fails."""
    committed = (Path(settings.BASE_DIR) / "docs" / "permissions.md").read_text(encoding="utf-8")
    assert committed == permissions_markdown(), (
        "docs/permissions.md is out of date: run `python manage.py permissions_doc`."
    )


def test_the_document_names_every_action_of_both_workflows():
    """Each workflow action appears in the document, with its code."""
    from incidents.actions import ACTIONS
    from support.actions import CASE_ACTIONS

    text = permissions_markdown()
    for name, action in [*ACTIONS.items(), *CASE_ACTIONS.items()]:
        if action.system:  # taken by the portal itself, never offered to a person
            continue
        assert f"(`{name}`)" in text
