"""Template tags that let other apps' pages show a piece of the support domain.

`incidents` never imports `support`; its templates may load these tags instead.
"""

from django import template

from support import access

register = template.Library()


@register.inclusion_tag("support/partials/desk_shared_actions.html")
def shared_support_actions(incident, user):
    """The support actions of `incident` that `user` may see (for a registrar: the shared
    ones only), in one query: `{% shared_support_actions incident user %}`."""
    actions = access.actions_visible_to(user, incident).select_related("owner")
    return {"actions": list(actions.order_by("due_on", "pk"))}
