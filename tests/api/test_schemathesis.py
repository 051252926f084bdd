"""Property-based run of the whole API against its own live schema (schemathesis 4).

For each role (officeholder, registrar, support) every operation of /api/schema/ gets a few
generated requests, valid and invalid, sent to a live server with that role's personal token.
Every response must be free of server errors and match the schema: a documented status code,
a documented content type and a body that validates.

Random references would only ever find 404s, so path parameters and ids in bodies are often
swapped for real ones from the test world (in and out of the role's scope), and a `version`
is often the current one: that way generated data reaches the services, and state-changing
endpoints really change state. The run is deterministic (derandomised) and does not shrink,
so it always sends the same requests and takes the same time.
"""

import json
from datetime import timedelta

import pytest
import schemathesis
from django.utils import timezone
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

from incidents.models import Incident
from support.models import SupportCase

pytestmark = pytest.mark.django_db(transaction=True)

# Examples per operation and generation mode; 27 operations x 2 modes x 3 roles.
MAX_EXAMPLES = 6

CHECKS = [
    schemathesis.checks.not_a_server_error,
    schemathesis.checks.status_code_conformance,
    schemathesis.checks.content_type_conformance,
    schemathesis.checks.response_schema_conformance,
]


@pytest.fixture
def relaxed_throttling(throttle_rates):
    """This test alone sends hundreds of requests a minute per user: lift the rates for it."""
    throttle_rates(anon="100000/minute", user="100000/minute")


def _real_values(world) -> dict[str, list]:
    """Real path and body values to swap in: every object of the world, of every owner."""
    return {
        "reference": [incident.reference for incident in world.incidents.values()],
        # (reference, id) pairs, so that a download names a file of the incident it names.
        "evidence": [(e.incident.reference, e.pk) for e in world.evidence.values()],
        "notification": [notification.pk for notification in world.notifications.values()],
        "action": [(a.case.incident.reference, a.pk) for a in world.actions.values()],
        "user": [user.pk for user in world.users.values() if user is not None],
    }


def _current_version(path: str, reference: str) -> int | None:
    if path.startswith("/api/v1/support/cases/"):
        case = SupportCase.objects.filter(incident__reference=reference).order_by("-pk").first()
        return case.version if case else None
    incident = Incident.objects.filter(reference=reference).first()
    return incident.version if incident else None


def _often(data, label: str) -> bool:
    """True four times out of five: real values should win, generated ones still appear.

    Hypothesis tries the simplest draw (0) first, so 0 means "use the real value".
    """
    return data.draw(st.integers(min_value=0, max_value=4), label=label) < 4


def _swap_in_real_values(case, data, real: dict[str, list]) -> None:
    """Often replace generated ids and references by real ones, and send the current version.

    Negative cases keep their invalid body, so invalid data reaches real objects too.
    """
    path, params = case.operation.path, case.path_parameters or {}
    if "reference" in params and _often(data, "real reference"):
        params["reference"] = data.draw(st.sampled_from(real["reference"]), label="reference")
    for name, pool in (("id", "evidence"), ("action_id", "action")):
        if name in params and pool in path and _often(data, f"real {name}"):
            reference, pk = data.draw(st.sampled_from(real[pool]), label=pool)
            params[name] = str(pk)
            if _often(data, "its own reference"):
                params["reference"] = reference
    if "id" in params and "notifications" in path and _often(data, "real notification"):
        params["id"] = str(data.draw(st.sampled_from(real["notification"]), label="id"))
    body = case.body
    if not isinstance(body, dict):
        return
    for name in ("other_reference", "original_reference"):
        if isinstance(body.get(name), str) and _often(data, f"real {name}"):
            body[name] = data.draw(st.sampled_from(real["reference"]), label=name)
    for name in ("officeholder", "assignee", "handler", "owner"):
        if isinstance(body.get(name), int) and _often(data, f"real {name}"):
            body[name] = data.draw(st.sampled_from(real["user"]), label=name)
    if isinstance(body.get("occurred_on"), str) and _often(data, "a past date"):
        body["occurred_on"] = (timezone.localdate() - timedelta(days=2)).isoformat()
        # A full report needs more than the schema can say (the web form's rules).
        body["quick"] = _often(data, "a quick report")
    reference = (case.path_parameters or {}).get("reference")
    if isinstance(body.get("version"), int) and reference and _often(data, "current version"):
        version = _current_version(case.operation.path, reference)
        if version is not None:
            body["version"] = version


def _describe(case, response) -> str:
    """One line: the request as sent (body cut short) and the status it got."""
    body = case.body if isinstance(case.body, dict | list | str) else None
    shown = json.dumps(body, default=str)[:300] if body is not None else ""
    return f"{case.method} {case.formatted_path} {shown} -> {response.status_code}"


def _run_operation(operation, mode, *, base_url, headers, real, seen) -> None:
    strategy = operation.as_strategy(generation_mode=mode)

    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(data=st.data())
    def check(data):
        case = data.draw(strategy, label="case")
        _swap_in_real_values(case, data, real)
        response = case.call(base_url=base_url, headers=headers)
        seen.setdefault(operation.label, []).append(response.status_code)
        try:
            case.validate_response(response, checks=CHECKS, headers=headers)
        except (Exception, BaseExceptionGroup) as failure:  # schemathesis: a FailureGroup
            raise AssertionError(f"{_describe(case, response)}\n{failure}") from None

    check()


@pytest.mark.parametrize("role", ["owner", "registrar", "support"])
def test_every_operation_answers_within_the_schema_and_without_server_errors(
    role, live_server, world, relaxed_throttling
):
    """As each role, generated requests to every operation get no 5xx and match the schema."""
    base_url = live_server.url
    headers = {"Authorization": f"Token {world.tokens[role]}"}
    # In production the schema itself needs a login too.
    schema = schemathesis.openapi.from_url(f"{base_url}/api/schema/", headers=headers)
    real = _real_values(world)
    failures, operations, seen = [], 0, {}
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            try:
                _run_operation(
                    operation, mode, base_url=base_url, headers=headers, real=real, seen=seen
                )
            except (AssertionError, BaseExceptionGroup) as failure:  # collect all, report at end
                failures.append(f"[{operation.label} {mode.value}] {failure}")
    tally = "\n".join(f"{label}: {sorted(codes)}" for label, codes in sorted(seen.items()))
    assert operations >= 27, f"the schema lists only {operations} operations"
    # Guard against a run that only ever meets 404s (e.g. when the swaps stop matching).
    reached = [label for label, codes in seen.items() if any(200 <= c < 300 for c in codes)]
    assert len(reached) >= 10, f"only {len(reached)} operations answered 2xx:\n{tally}"
    assert not failures, f"{len(failures)} failing operation(s):\n\n" + "\n\n".join(failures)
