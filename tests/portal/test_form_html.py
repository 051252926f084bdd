"""portal/form_html.py draws the same HTML as the templates it replaces.

Every form of the portal is rendered twice, the fast way and through the templates (Django's
widget templates and crispy's bootstrap5/field.html): empty, and filled in with values that are
wrong for most fields and need escaping. Widgets must match to the character; whole forms must
match apart from white space between tags.
"""

import importlib
import inspect
import re
from functools import partial
from unittest import mock

import pytest
from django import forms
from django.contrib.auth import get_user_model
from django.template import engines
from django.test import override_settings

from incidents.models import StandardReply
from incidents.police_summary import SummaryPage
from portal import form_html
from portal.models import Organisation
from portal.policies import Workspace
from portal.views_absence import ABSENCE_WORDS
from tests.factories import IncidentFactory

FORM_MODULES = ("incidents.forms", "incidents.forms_desk", "support.forms", "portal.forms")
TEMPLATES = (
    "{% load crispy_forms_tags %}{% crispy form %}",
    "{% load crispy_forms_tags %}{{ form|crispy }}",
)
TEMPLATE_RENDERER = "django.forms.renderers.DjangoTemplates"


def portal_form_classes():
    return list(_portal_form_classes())


def _portal_form_classes():
    for module_name in FORM_MODULES:
        module = importlib.import_module(module_name)
        for name, value in vars(module).items():
            if inspect.isclass(value) and issubclass(value, forms.BaseForm):
                # A base class without fields of its own (portal.forms.FilterForm) draws nothing.
                if value.__module__ == module_name and value.base_fields:
                    yield pytest.param(value, id=f"{module_name}.{name}")


@pytest.fixture
def form_arguments(officeholder, registrar):
    """What the forms that need one are given: the lists they choose from, an account."""
    StandardReply.objects.create(
        desk=registrar.desk, title="Ontvangst", text_nl="<b>Dank</b>", text_en="Thanks"
    )
    people = get_user_model().objects.all()
    return {
        "organisations": Organisation.objects.all(),
        "colleagues": people,
        "members": people,
        "officeholders": people,
        "replies": StandardReply.objects.all(),
        "user": officeholder,
        "words": ABSENCE_WORDS[Workspace.SUPPORT],  # portal.forms.AbsenceForm
        # incidents.forms.PoliceSummaryForm: what the choices page offers
        "page": SummaryPage(
            incident=IncidentFactory(officeholder=officeholder),
            evidence=[],
            home_sensitive=False,
            location_offered=True,
            by_desk=False,
        ),
    }


def make_form(form_class, arguments, data):
    parameters = {}
    for cls in reversed(form_class.__mro__):
        if "__init__" in vars(cls):
            parameters.update(inspect.signature(cls.__init__).parameters)
    kwargs = {name: arguments[name] for name in parameters if name in arguments}
    if form_class.__name__ == "PersonChangeForm":
        kwargs["officeholder"] = True
    if "user" in kwargs and parameters["user"].kind is inspect.Parameter.POSITIONAL_OR_KEYWORD:
        return form_class(kwargs.pop("user"), data, **kwargs)
    return form_class(data, **kwargs)


def wrong_data(form_class, arguments):
    """A value for every field that needs escaping and is not a valid choice or date."""
    form = make_form(form_class, arguments, None)
    return {form.add_prefix(name): '<b>"x" & y</b>' for name in form.fields}


def crispy_field(context):
    return form_html.crispy_field_template().render(context.flatten())


def both_ways(make, template) -> tuple[str, str]:
    """`template` rendered with a new form from `make()`: the fast way, then the slow way."""
    template = engines["django"].from_string(template)
    fast = template.render({"form": make()})
    with (
        override_settings(FORM_RENDERER=TEMPLATE_RENDERER),
        mock.patch.object(form_html, "bootstrap_field", crispy_field),
    ):
        return fast, template.render({"form": make()})


UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def between_tags(html: str) -> str:
    """The HTML without white space around tags, and without the random submission tokens."""
    html = UUID.sub("token", re.sub(r"\s+", " ", html))
    return re.sub(r"\s*([<>])\s*", r"\1", html).strip()


@pytest.mark.parametrize("form_class", portal_form_classes())
def test_every_form_renders_as_the_templates_do(form_class, form_arguments):
    for data in (None, {}, wrong_data(form_class, form_arguments)):
        for template in TEMPLATES:
            fast, slow = both_ways(partial(make_form, form_class, form_arguments, data), template)
            assert 'id="div_id_' in fast or 'type="hidden"' in fast
            assert between_tags(fast) == between_tags(slow)


@pytest.mark.parametrize("form_class", portal_form_classes())
def test_every_widget_renders_as_its_template_does(form_class, form_arguments):
    for data in (None, wrong_data(form_class, form_arguments)):
        fast = make_form(form_class, form_arguments, data)
        with override_settings(FORM_RENDERER=TEMPLATE_RENDERER):
            slow = make_form(form_class, form_arguments, data)
            expected = [UUID.sub("token", str(field)) for field in slow]
        assert [UUID.sub("token", str(field)) for field in fast] == expected


class EveryWidget(forms.Form):
    """Widgets and cases the portal's own forms may not have today."""

    text = forms.CharField(label="Naam <b>", help_text="Uitleg <i>mag</i> HTML", initial='"a" & b')
    number = forms.DecimalField(required=False, initial=1234.5, localize=True)
    choice = forms.ChoiceField(choices=[("Groep", [("a", "A & B"), ("b", "B")]), ("c", "C")])
    many = forms.MultipleChoiceField(choices=[("a", "A"), ("b", "B")], widget=forms.SelectMultiple)
    radio = forms.ChoiceField(choices=[("G", [("a", "A")]), ("b", "B")], widget=forms.RadioSelect)
    boxes = forms.MultipleChoiceField(
        choices=[("a", "A"), ("b", "B")], widget=forms.CheckboxSelectMultiple, required=False
    )
    agree = forms.BooleanField(label="Akkoord", help_text="Vink aan")
    hidden = forms.CharField(widget=forms.HiddenInput, initial="<h>")
    hidden_many = forms.MultipleChoiceField(
        choices=[("a", "A"), ("b", "B")], widget=forms.MultipleHiddenInput, initial=["a", "b"]
    )
    when = forms.DateTimeField(widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    secret = forms.CharField(widget=forms.PasswordInput(render_value=True), initial="s")
    story = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), disabled=True, initial="<p>")
    email = forms.EmailField(widget=forms.EmailInput(attrs={"autocomplete": "email", "data-x": 1}))


FILLED_IN = {"choice": "a", "radio": "x", "many": ["a", "z"], "agree": "on"}


@pytest.mark.parametrize("data", [None, {}, FILLED_IN])
def test_other_widgets_render_as_their_templates_do(data):
    for template in TEMPLATES:
        fast, slow = both_ways(lambda: EveryWidget(data), template)
        assert "<optgroup" in fast
        assert between_tags(fast) == between_tags(slow)
