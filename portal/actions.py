"""The shape of a workflow's action table (each app keeps its own table in `actions.py`).

A row names the statuses an action starts from, the status it leads to (None: it stays), who may
take it (role -> the person's relation to the object, a `portal.policies.Condition`), the inputs
it needs and may take, and the event that records it.
"""

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Action:
    name: str
    label: str
    from_statuses: frozenset[str]
    to_status: str | None
    who: Mapping
    event: str
    needs: tuple[str, ...] = ()
    takes: tuple[str, ...] = ()
    # The escalation rules engine (no person) may take it too.
    system: bool = False
    # Taken only as the effect of another workflow's action, never offered by itself.
    internal: bool = False
    # The action of the other workflow that goes with it (a support case moves its incident).
    follows: str = ""
    # What else happens, in words (docs/permissions.md).
    effect: str = ""
    # What a person is told when the object is not (or no longer) in a status it starts from.
    refused: str = ""

    @property
    def inputs(self) -> tuple[str, ...]:
        return self.needs + self.takes


def action_table(*actions: Action) -> dict[str, Action]:
    return {action.name: action for action in actions}


def table_action(table: Mapping[str, Action], name: str) -> Action:
    try:
        return table[name]
    except KeyError:
        raise ValueError(f"unknown action {name!r}") from None


def table_status_steps(table: Mapping[str, Action]) -> set[tuple[str, str]]:
    """Every (from, to) status step the table allows; staying in a status is no step."""
    return {
        (from_status, action.to_status)
        for action in table.values()
        if action.to_status is not None
        for from_status in action.from_statuses
        if from_status != action.to_status
    }
