"""One API endpoint per workflow action: `POST .../{reference}/actions/{name}/`."""

from drf_spectacular.utils import extend_schema
from rest_framework.decorators import action as route


def action_endpoint(*, name: str, label, serializer_class, responses, operation_id: str):
    """A viewset method for the action `name` that calls `self._act(request, name, serializer)`;
    documented with its own input, so each action has its own operation in the schema."""

    def view(self, request, reference=None):
        return self._act(request, name, serializer_class)

    # Named before decorating: DRF's @action records the method name it routes to.
    view.__name__ = view.__qualname__ = f"action_{name}"
    view.__doc__ = f"{label}. Offered only when the policy allows it."
    routed = route(
        detail=True, methods=["post"], url_path=f"actions/{name}", url_name=f"action-{name}"
    )(view)
    return extend_schema(
        summary=str(label),
        request=serializer_class,
        responses=responses,
        operation_id=operation_id,
    )(routed)
