"""`{% panels "slot" key=value ... %}`: the panels other apps registered for a slot."""

from django import template

from portal.panels import panels_render

register = template.Library()


@register.simple_tag(takes_context=True)
def panels(context, slot, **values):
    return panels_render(slot, request=context.get("request"), **values)
