"""The problems of a posted form as the error summary lists them: one line per problem, each
with the id of the input it is about (templates/portal/partials/error_summary.html).

Forms drawn by crispy get the summary from the template tag `{% error_summary form %}`; a page
with many small forms (the desk's incident page, the support case) shows one summary for all of
them at the top with `page_error_summary`.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from django import forms

# Widgets drawn as a list of inputs: the link goes to the first one (`id_<name>_0`).
_LIST_WIDGETS = (forms.RadioSelect, forms.CheckboxSelectMultiple)


@dataclass(frozen=True)
class Problem:
    message: str
    target: str  # the id of the input to focus; empty for a problem of the whole form


def _target(field) -> str:
    if field.is_hidden or not field.auto_id:
        return ""
    if isinstance(field.field.widget, _LIST_WIDGETS):
        return f"{field.auto_id}_0"
    return field.id_for_label or field.auto_id


def _with_question(label, error) -> str:
    # "Wanneer? Vul een datum in." / "Uw bericht: Dit veld is verplicht."
    label = str(label or "").strip().rstrip(":")
    if not label:
        return str(error)
    return f"{label} {error}" if label.endswith("?") else f"{label}: {error}"


def error_problems(form) -> list[Problem]:
    """Every problem of a bound form in the order of the page: the form's own first, then each
    field's, labelled with its question. Empty for a valid or unbound form."""
    if form is None or not getattr(form, "is_bound", False) or not form.errors:
        return []
    problems = [Problem(message=str(error), target="") for error in form.non_field_errors()]
    for field in form:
        for error in field.errors:
            problems.append(
                Problem(message=_with_question(field.label, error), target=_target(field))
            )
    return problems


def page_error_summary(forms_: Iterable[forms.Form]) -> list[Problem]:
    """The problems of all these forms for one summary at the top of the page; the forms
    themselves then show their errors only next to each question."""
    problems = []
    for form in forms_:
        problems += error_problems(form)
        form.error_summary_above = True
    return problems
