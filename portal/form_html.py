"""Form HTML drawn in Python: the same markup as the templates, a fraction of the time.

Profiles of the report forms and the desk's queue showed most of a request spent in form
templates: crispy's Bootstrap 5 field template per field, and Django's widget templates per
field and per option of every list. This module draws the same HTML in Python:

- `FormRenderer` (settings.FORM_RENDERER) draws Django's own widget templates (inputs, text
  areas, lists, radio buttons and check boxes). Django still decides names, values, ids and
  which option is chosen (`Widget.get_context`); only the template step is replaced. Any other
  template (a custom widget, the admin's) is rendered by the template engine as before.
- `bootstrap_field` draws crispy's `bootstrap5/field.html` for the cases the portal uses: every
  form is still laid out by crispy (`{% crispy %}`, `|crispy`, `|as_crispy_field`). Cases it
  does not draw (file inputs, horizontal forms, label or field classes) go to crispy's own
  template.

tests/portal/test_form_html.py renders every form of the portal both ways, empty and with
errors, and fails on any difference.
"""

from functools import cache
from pathlib import Path

from django import forms
from django.forms.renderers import DjangoTemplates
from django.template import engines
from django.utils.formats import localize
from django.utils.html import conditional_escape, strip_spaces_between_tags
from django.utils.safestring import SafeString, mark_safe


def _text(value) -> str:
    """`{{ value }}` in a template: localised, then escaped unless marked safe."""
    return conditional_escape(localize(value))


def _raw(value) -> str:
    """`{{ value|stringformat:'s' }}` and `{{ value|unlocalize }}`: no localisation."""
    return conditional_escape(value if isinstance(value, str) else str(value))


def _attrs(attrs: dict) -> str:
    """django/forms/widgets/attrs.html."""
    html = []
    for name, value in attrs.items():
        if value is True:
            html.append(f" {conditional_escape(name)}")
        elif value is not False:
            html.append(f' {conditional_escape(name)}="{_raw(value)}"')
    return "".join(html)


# Each function returns what its template returns, with the file's last line break: a template
# that includes another gets that line break too. Only the outer widget is stripped (Django's
# renderer does the same).


def _input(widget: dict, renderer) -> str:
    value = widget["value"]
    value = "" if value is None else f' value="{_raw(value)}"'
    return (
        f'<input type="{_raw(widget["type"])}" name="{_raw(widget["name"])}"'
        f"{value}{_attrs(widget['attrs'])}>\n"
    )


def _typed_input(widget: dict, renderer) -> str:
    """text.html, email.html and the others: `{% include "django/forms/widgets/input.html" %}`."""
    return _input(widget, renderer) + "\n"


def _textarea(widget: dict, renderer) -> str:
    value = widget["value"]
    return (
        f'<textarea name="{_raw(widget["name"])}"{_attrs(widget["attrs"])}>\n'
        f"{_text(value) if value else ''}</textarea>\n"
    )


def _option(widget: dict, renderer) -> str:
    return (
        f'<option value="{_raw(widget["value"])}"{_attrs(widget["attrs"])}>'
        f"{_text(widget['label'])}</option>\n"
    )


def _select(widget: dict, renderer) -> str:
    html = [f'<select name="{_raw(widget["name"])}"{_attrs(widget["attrs"])}>']
    for group_name, options, _index in widget["optgroups"]:
        if group_name:
            html.append(f'\n  <optgroup label="{_text(group_name)}">')
        html.extend("\n  " + _include(option, renderer) for option in options)
        if group_name:
            html.append("\n  </optgroup>")
    html.append("\n</select>\n")
    return "".join(html)


def _input_option(widget: dict, renderer) -> str:
    if not widget["wrap_label"]:
        return _input(widget, renderer) + "\n"
    option_id = widget["attrs"].get("id")
    label_for = f' for="{_text(option_id)}"' if option_id else ""
    return f"<label{label_for}>{_input(widget, renderer)} {_text(widget['label'])}</label>\n"


def _choice_option(widget: dict, renderer) -> str:
    """radio_option.html and checkbox_option.html: `{% include ".../input_option.html" %}`."""
    return _input_option(widget, renderer) + "\n"


def _multiple_input(widget: dict, renderer) -> str:
    widget_id, css_class = widget["attrs"].get("id"), widget["attrs"].get("class")
    html = [
        "<div",
        f' id="{_text(widget_id)}"' if widget_id else "",
        f' class="{_text(css_class)}"' if css_class else "",
        ">",
    ]
    for group_name, options, _index in widget["optgroups"]:
        if group_name:
            html.append(f"\n  <div><label>{_text(group_name)}</label>")
        html.extend(f"<div>\n    {_include(option, renderer)}</div>" for option in options)
        if group_name:
            html.append("\n  </div>")
    html.append("\n</div>\n")
    return "".join(html)


def _choice_widget(widget: dict, renderer) -> str:
    """radio.html and checkbox_select.html: `{% include ".../multiple_input.html" %}`."""
    return _multiple_input(widget, renderer) + "\n"


def _multiple_hidden(widget: dict, renderer) -> str:
    """multiple_hidden.html includes multiwidget.html: each hidden input, in `{% spaceless %}`."""
    inputs = "".join(_include(subwidget, renderer) for subwidget in widget["subwidgets"])
    return strip_spaces_between_tags(inputs.strip()) + "\n\n"


_INPUTS = ("checkbox", "color", "date", "datetime", "email", "hidden", "number", "password")
_INPUTS += ("search", "tel", "text", "time", "url")
WIDGET_TEMPLATES = {
    **{f"django/forms/widgets/{name}.html": _typed_input for name in _INPUTS},
    "django/forms/widgets/input.html": _input,
    "django/forms/widgets/textarea.html": _textarea,
    "django/forms/widgets/select.html": _select,
    "django/forms/widgets/select_option.html": _option,
    "django/forms/widgets/radio.html": _choice_widget,
    "django/forms/widgets/checkbox_select.html": _choice_widget,
    "django/forms/widgets/multiple_input.html": _multiple_input,
    "django/forms/widgets/radio_option.html": _choice_option,
    "django/forms/widgets/checkbox_option.html": _choice_option,
    "django/forms/widgets/input_option.html": _input_option,
    "django/forms/widgets/multiple_hidden.html": _multiple_hidden,
}


def _include(widget: dict, renderer) -> str:
    """`{% include widget.template_name %}` inside a widget's template."""
    draw = WIDGET_TEMPLATES.get(widget["template_name"])
    if draw is None:
        return renderer.get_template(widget["template_name"]).render({"widget": widget})
    return draw(widget, renderer)


class FormRenderer(DjangoTemplates):
    """Django's template renderer, with the widget templates above drawn in Python."""

    def render(self, template_name, context, request=None):
        draw = WIDGET_TEMPLATES.get(template_name)
        if draw is None or "widget" not in context:
            return super().render(template_name, context, request)
        return draw(context["widget"], self).strip()


# crispy's bootstrap5/field.html, as this module draws it.

# Context that only crispy's own template handles.
_LEFT_TO_CRISPY = {"label_class", "field_class", "bootstrap_checkbox_offsets", "tag"}


@cache
def crispy_field_template():
    """crispy's own bootstrap5/field.html (the portal's file of that name calls this module)."""
    import crispy_bootstrap5

    path = Path(crispy_bootstrap5.__file__).parent / "templates/bootstrap5/field.html"
    return engines["django"].from_string(path.read_text())


def _help_text(field, context) -> str:
    if not field.help_text:
        return ""
    help_text = mark_safe(str(field.help_text))  # noqa: S308 -- |safe, as in crispy's template
    if context.get("help_text_inline"):
        return f'<span id="{_text(field.auto_id)}_helptext" class="form-text">{help_text}</span>'
    field_id = f'id="{_text(field.auto_id)}_helptext" ' if field.auto_id else ""
    return f'<div {field_id}class="form-text">{help_text}</div>'


def _errors(field, context, *, inline: bool) -> str:
    if not (context.get("form_show_errors") and field.errors):
        return ""
    tag = "span" if inline else "p"
    lines = "".join(
        f'<{tag} id="error_{number}_{_text(field.auto_id)}"><strong>{_text(error)}</strong></{tag}>'
        for number, error in enumerate(field.errors, start=1)
    )
    field_id = _text(getattr(field.errors, "field_id", ""))
    return f'<div id="{field_id}_error" class="invalid-feedback">{lines}</div>'


def _help_text_and_errors(field, context) -> str:
    help_inline, error_inline = context.get("help_text_inline"), context.get("error_text_inline")
    return "".join(
        (
            _help_text(field, context) if help_inline and not error_inline else "",
            _errors(field, context, inline=bool(error_inline)),
            "" if help_inline else _help_text(field, context),
        )
    )


def _crispy_widget(field, css_classes: str, invalid: bool) -> str:
    """`{% crispy_field field 'class' '...' %}`: crispy adds the widget's class name and the
    Bootstrap classes to the widget's own attributes, then Django draws it."""
    widget = field.field.widget
    class_name = type(widget).__name__.lower()
    css_class = widget.attrs.get("class", "")
    if not css_class:
        css_class = class_name
    elif css_class.find(class_name) == -1:
        css_class += f" {class_name}"
    for extra in (css_classes + (" is-invalid" if invalid else "")).split():
        if extra not in css_class.split():
            css_class += f" {extra}"
    widget.attrs["class"] = css_class
    return str(field)


def _choices(field, context) -> str:
    """bootstrap5/layout/radio_checkbox_select.html."""
    from crispy_forms.templatetags.crispy_forms_filters import optgroups

    invalid = " is-invalid" if field.errors else ""
    inline = context.get("inline_class")
    groups = list(optgroups(field))
    html = [f"<div{context.get('flat_attrs') or ''}>"]
    for group_number, (group, options, _index) in enumerate(groups, start=1):
        if group:
            html.append(f"<strong>{_text(group)}</strong>")
        for number, option in enumerate(options, start=1):
            html.append(
                f'<div class="form-check{" form-check-inline" if inline else ""}">'
                f'<input type="{_text(option["type"])}" class="form-check-input{invalid}"  '
                f'name="{_text(field.html_name)}" value="{_raw(option["value"])}" '
                f"{_attrs(option['attrs'])}>"
                f'<label for="{_text(option["attrs"].get("id", ""))}" class="form-check-label">'
                f"{_raw(option['label'])}</label>"
            )
            if field.errors and not inline and number == len(options):
                if group_number == len(groups):
                    html.append(_errors(field, context, inline=False))
            html.append("</div>")
    html.append("</div>")
    if field.errors and inline:
        html.append(_errors(field, context, inline=False))
    html.append(_help_text(field, context))
    return "".join(html)


def _label(field, required: str) -> str:
    asterisk = '<span class="asteriskField">*</span>' if field.field.required else ""
    tag = "legend" if field.use_fieldset else "label"
    label_for = f'for="{_text(field.id_for_label)}" ' if field.id_for_label else ""
    size = " fs-6" if field.use_fieldset else ""
    return (
        f'<{tag} {label_for}class="form-label{required}{size}">'
        f"{_text(field.label)}{asterisk}</{tag}>"
    )


def bootstrap_field(context) -> str:
    """crispy's bootstrap5/field.html for the field in `context`."""
    field = context["field"]
    if field.is_hidden:
        return str(field)
    widget = field.field.widget
    if (
        isinstance(widget, forms.FileInput)
        or "form-horizontal" in (context.get("form_class") or "")
        or any(context.get(name) for name in _LEFT_TO_CRISPY)
    ):
        return crispy_field_template().render(context.flatten())

    show_labels = context.get("form_show_labels")
    checkbox = isinstance(widget, forms.CheckboxInput)
    choices = isinstance(widget, forms.RadioSelect)  # CheckboxSelectMultiple is one too
    required = " requiredField" if field.field.required else ""
    wrapper = "form-check" if checkbox and show_labels else "mb-3"
    extras = (context.get("wrapper_class"), field.css_classes())
    wrapper += "".join(f" {extra}" for extra in extras if extra)

    html = ['<div class="mb-3">'] if checkbox else []
    html.append(f'<div id="div_{_text(field.auto_id)}" class="{_text(wrapper)}">')
    fieldset = field.use_fieldset and field.label and show_labels
    if field.label and not checkbox and show_labels:
        if field.use_fieldset:
            described = field.aria_describedby
            described = f' aria-describedby="{_text(described)}"' if described else ""
            html.append(f"<fieldset{described}>")
        html.append(_label(field, required))
    if choices:
        html.append(_choices(field, context))
    elif checkbox and show_labels:
        html.append(_crispy_widget(field, "form-check-input", bool(field.errors)))
        asterisk = '<span class="asteriskField">*</span>' if field.field.required else ""
        html.append(
            f'<label for="{_text(field.id_for_label)}" class="form-check-label{required}">'
            f"{_text(field.label)}{asterisk}</label>"
        )
        html.append(_help_text_and_errors(field, context))
    else:
        if isinstance(widget, forms.Select):
            css_classes = "form-select"
        elif checkbox:
            css_classes = "form-check-input"
        else:
            css_classes = "form-control"
        html.append(_crispy_widget(field, css_classes, bool(field.errors)))
        html.append(_help_text_and_errors(field, context))
    if fieldset:
        html.append("</fieldset>")
    html.append("</div>")
    if checkbox:
        html.append("</div>")
    return SafeString("".join(html))
