"""`{% error_summary form %}`: the list of problems at the top of a form, each linked to its field.

The GOV.UK / NL Design System pattern: a heading, then one line per problem that moves the
focus to the question when followed. Rendered by the crispy errors template
(templates/bootstrap5/errors.html), so every form drawn with `{% crispy %}` or `|crispy` has it;
static/js/portal.js focuses the summary when the page loads.
"""

from django import template

from portal import form_html
from portal.error_summary import error_problems

register = template.Library()


@register.inclusion_tag("portal/partials/error_summary.html")
def error_summary(form):
    # A page that lists the problems of all its forms at the top (page_error_summary) does
    # not repeat them inside the form.
    if getattr(form, "error_summary_above", False):
        return {"problems": []}
    return {"problems": error_problems(form)}


@register.simple_tag(takes_context=True)
def bootstrap_field(context):
    """The body of templates/bootstrap5/field.html: crispy's field, drawn by portal.form_html."""
    return form_html.bootstrap_field(context)
