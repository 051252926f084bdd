"""Panels: pieces that one app adds to another app's pages, through one small registry.

A page names a slot (`{% panels "desk_incident" incident=incident user=request.user %}`); an
app registers, in its `ready()`, a template and a function that gives the panel's context for
that page, or None to show nothing. The page's app never imports (or loads the template tags
of) the app that fills its slots: `incidents` pages show the Ondersteuningsteam's panels, and
work unchanged without them.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe


@dataclass(frozen=True)
class Panel:
    slot: str
    template: str
    context: Callable[..., dict | None]


_PANELS: dict[str, list[Panel]] = {}


def panel_register(*, slot: str, template: str, context: Callable[..., dict | None]) -> None:
    """Show `template` in `slot` with `context(**page_values)` (None: nothing this time)."""
    panels = _PANELS.setdefault(slot, [])
    panels[:] = [panel for panel in panels if panel.template != template]
    panels.append(Panel(slot, template, context))


def panels_render(slot: str, *, request=None, **values) -> SafeString:
    """The HTML of every panel registered for `slot`, in registration order."""
    parts = []
    for panel in _PANELS.get(slot, []):
        context = panel.context(**values)
        if context is not None:
            parts.append(render_to_string(panel.template, context, request=request))
    return mark_safe("".join(parts))  # noqa: S308  (templates rendered with autoescape)
