"""Role checks live in the policies only.

Every Python module of the portal (outside the policy modules and migrations) is parsed, and
every template is read: a comparison with, or an `in` test on, a person's `.role`, a `Role`
member, or a call of a role helper fails this test with the place it was found. Pages, views,
services and serializers ask the policies instead ("may this person do X to this object?").
"""

import ast
import re
from pathlib import Path

from django.conf import settings

ROOT = Path(settings.BASE_DIR)
APPS = ("portal", "incidents", "support", "devtools")
# The modules that may look at roles: the policies (and portal's door rules for the second
# factor and the admin site, which are policies of the site itself).
POLICY_MODULES = {
    "portal/policies.py",
    "portal/access.py",
    "incidents/policies.py",
    "support/policies.py",
}
ROLE_HELPERS = {"user_has_role", "role_required"}


def _is_role(node: ast.AST) -> bool:
    """`x.role`, `x.actor_role`, `x.author_role` or `Role.SOMETHING`."""
    if isinstance(node, ast.Attribute):
        if node.attr in {"role", "actor_role", "author_role"}:
            return True
        return isinstance(node.value, ast.Name) and node.value.id == "Role"
    return False


def _contains_role(node: ast.AST) -> bool:
    if _is_role(node):
        return True
    if isinstance(node, ast.Tuple | ast.List | ast.Set):
        return any(_is_role(element) for element in node.elts)
    return False


def role_checks_in(source: str) -> list[int]:
    """Line numbers of role comparisons and role-helper calls in one module."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Compare):
            if _contains_role(node.left) or any(_contains_role(c) for c in node.comparators):
                found.append(node.lineno)
        elif isinstance(node, ast.Call):
            function = node.func
            name = function.id if isinstance(function, ast.Name) else getattr(function, "attr", "")
            if name in ROLE_HELPERS:
                found.append(node.lineno)
    return found


def _modules():
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            if "/migrations/" not in relative and relative not in POLICY_MODULES:
                yield relative, path


def test_no_python_module_outside_the_policies_checks_a_role():
    """No comparison with a role, and no role helper, anywhere but in the policy modules."""
    offenders = [
        f"{relative}:{line}"
        for relative, path in _modules()
        for line in role_checks_in(path.read_text(encoding="utf-8"))
    ]
    assert offenders == [], "Ask a policy instead of checking a role: " + ", ".join(offenders)


# In a template: `role` (or actor_role, author_role) next to ==, !=, `in` or `not in`.
TEMPLATE_ROLE_CHECK = re.compile(
    r"\{%[^%]*\b(?:\w+\.)*(?:role|actor_role|author_role)\b\s*(?:==|!=|\bin\b|\bnot in\b)"
    r"|\{%[^%]*(?:==|!=|\bin\b)\s*(?:\w+\.)*(?:role|actor_role|author_role)\b"
)


def test_no_template_checks_a_role():
    """Templates show what the policies allow (`allowed`, `workspaces`); none compares a role."""
    offenders = [
        path.relative_to(ROOT).as_posix()
        for path in sorted((ROOT / "templates").rglob("*.html"))
        if TEMPLATE_ROLE_CHECK.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []


def test_the_checks_find_what_they_look_for():
    """The scanners catch each form of a role check (so that an empty result means something)."""
    assert role_checks_in("if user.role == Role.SUPPORT:\n    pass\n") == [1]
    assert role_checks_in("x = event.actor_role != 'support'\n") == [1]
    assert role_checks_in("ok = user.role in (Role.REGISTRAR, Role.SUPPORT)\n") == [1]
    assert role_checks_in("ok = Role.ADMIN == role\n") == [1]
    assert role_checks_in("ok = user_has_role(user, Role.SUPPORT)\n") == [1]
    assert role_checks_in("users = User.objects.filter(role=Role.SUPPORT)\n") == []
    assert TEMPLATE_ROLE_CHECK.search('{% if user.role == "officeholder" %}')
    assert TEMPLATE_ROLE_CHECK.search('{% elif message.author_role == "support" %}')
    assert not TEMPLATE_ROLE_CHECK.search('{% if "desk" in workspaces %}')
