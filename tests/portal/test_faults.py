"""The pure parts of `manage.py faults` (the fault run itself is `make faults`, never a test):
how a row of the table is counted, how the table is printed, and how a page's form is read."""

from collections import Counter

from devtools.management.commands.faults import (
    COLUMNS,
    Experiment,
    Stored,
    format_table,
    free_ports,
    page_form,
    seconds_summary,
    table_row,
)


def _experiment(filed=2, confirmed=("MWB-1", "MWB-2"), errors=0) -> Experiment:
    experiment = Experiment("test")
    experiment.filed, experiment.confirmed, experiment.errors = filed, list(confirmed), errors
    return experiment


def test_a_clean_experiment_counts_no_duplicate_nothing_lost():
    """Two reports stored, escalated once, one case each, each e-mail received once."""
    stored = Stored({"MWB-1", "MWB-2"}, escalations=[1, 2], cases=[1, 2], message_ids={"a", "b"})

    row = table_row(_experiment(), stored, Counter({"a": 1, "b": 1, "other": 3}))

    assert row == {
        "experiment": "test",
        "filed": 2,
        "stored": 2,
        "escalated": 2,
        "cases": 2,
        "e-mails": 2,
        "duplicates": 0,
        "lost": 0,
        "errors seen": 0,
        "errors, saved": 0,
    }


def test_second_escalations_cases_incidents_and_e_mails_count_as_duplicates():
    """One report filed but stored twice, a second escalation and case, an e-mail thrice."""
    stored = Stored({"MWB-1", "MWB-2"}, escalations=[1, 1, 2], cases=[1, 2, 2], message_ids={"a"})

    row = table_row(_experiment(filed=1, confirmed=["MWB-1"]), stored, Counter({"a": 3}))

    assert row["duplicates"] == 1 + 1 + 1 + 2
    assert row["e-mails"] == 3


def test_a_confirmed_report_missing_unescalated_or_unmailed_counts_as_lost():
    """The user saw MWB-3 saved but it is not stored; MWB-2 has no escalation and no case;
    e-mail "b" never reached the SMTP server."""
    stored = Stored({"MWB-1", "MWB-2"}, escalations=[1], cases=[1], message_ids={"a", "b"})

    row = table_row(
        _experiment(filed=3, confirmed=["MWB-1", "MWB-2", "MWB-3"]), stored, Counter({"a": 1})
    )

    assert row["lost"] == 1 + 1 + 1 + 1
    assert row["duplicates"] == 0


def test_a_stored_report_without_confirmation_is_an_error_for_a_saved_report():
    """The user saw an error page (counted by the run) while the report was saved."""
    stored = Stored({"MWB-1", "MWB-2"}, escalations=[1, 2], cases=[1, 2], message_ids=set())

    row = table_row(_experiment(confirmed=["MWB-1"], errors=1), stored, Counter())

    assert row["errors seen"] == 1
    assert row["errors, saved"] == 1
    assert row["lost"] == 0


def test_the_table_is_markdown_with_one_aligned_line_per_row():
    rows = [
        {"experiment": "baseline", **dict.fromkeys(COLUMNS[1:], 8)},
        {"experiment": "total", **dict.fromkeys(COLUMNS[1:], 120)},
    ]

    lines = format_table(rows)

    assert lines[0].startswith("| experiment | filed |")
    assert set(lines[1]) == {"|", "-"}
    assert lines[2].startswith("| baseline   |     8 |")
    assert lines[3].startswith("| total      |   120 |")
    assert len({len(line) for line in lines}) == 1


def test_page_form_reads_the_fields_a_browser_would_send():
    """Hidden and text inputs, checked boxes only, the first option of a select, and a
    textarea; a form without an action posts to the page itself."""
    page = """
      <form action="/zoeken/"><input name="q" value="x"></form>
      <form method="post">
        <input type="hidden" name="csrfmiddlewaretoken" value="token">
        <input type="checkbox" name="types" value="threat">
        <input type="checkbox" name="types" value="insult" checked>
        <select name="kind"><option value="">--</option><option value="a">A</option></select>
        <textarea name="reason"></textarea>
      </form>"""

    fields = page_form(page, "/meldingen/snel/", page_path="/meldingen/snel/")

    assert fields == {
        "csrfmiddlewaretoken": "token",
        "types": "insult",
        "kind": "a",
        "reason": "Door de foutenproef ingevuld.",
    }


def test_seconds_summary():
    assert seconds_summary([3.0, 0.5, 1.25]) == "at most 3.0 s (median 1.2 s)"
    assert seconds_summary([]) == "none measured"


def test_free_ports_are_different():
    """nginx's http and https ports (and the other servers') never collide."""
    ports = free_ports(5)

    assert len(set(ports)) == 5
