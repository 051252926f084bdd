"""The statistics in a real browser: the IJsselland desk coordinator picks a quarter, reads
the trend chart and its table, and downloads the figures as CSV. (Support and the analyst
open the same page; their request-level tests are in tests/incidents/test_statistics.py.)"""

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from incidents import services
from incidents.constants import Channel, IncidentType, ReporterSeverity
from portal.models import Organisation
from tests.browser.fixtures import assert_accessible, login
from tests.factories import UserFactory

DEMO_PASSWORD = "weerbaar-demo"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_desk_coordinator_reads_a_quarter_and_downloads_it(
    page, demo_data, escalation_rules_off
):
    """Five raadsleden of Zwolle report this quarter: the coordinator sees five in the chart's
    table and in the CSV."""
    zwolle = Organisation.objects.get(name="Gemeente Zwolle")
    for _n in range(5):
        services.incident_submit(
            officeholder=UserFactory(organisation=zwolle),
            facts={
                "types": [IncidentType.THREAT],
                "occurred_on": timezone.localdate(),
                "summary": "Bedreigd na de raadsvergadering.",
                "channel": Channel.SOCIAL_MEDIA,
                "reporter_severity": ReporterSeverity.SERIOUS,
            },
            quick=False,
        )
    today = timezone.localdate()
    quarter = (today.month - 1) // 3 + 1
    login(page, "coordinator.ijsselland", DEMO_PASSWORD)
    page.get_by_role("link", name="Cijfers").click()
    page.locator("#id_kind").select_option("quarter")
    page.locator("#id_year").select_option(str(today.year))
    page.locator("#id_quarter").select_option(str(quarter))
    page.get_by_role("button", name="Toon de cijfers").click()
    expect(page.get_by_role("heading", name=f"Kwartaal {quarter} {today.year}")).to_be_visible()
    chart = page.get_by_role("img", name="Aantal meldingen per periode")
    expect(chart).to_be_visible()
    trend_rows = page.locator("#trend-heading ~ .table-responsive tbody tr")
    expect(trend_rows.last).to_contain_text(f"kwartaal {quarter} {today.year}")
    count = int(trend_rows.last.locator("td").last.inner_text())
    assert count >= 5
    assert_accessible(page)
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download deze cijfers als CSV").click()
    download = download_info.value
    assert download.suggested_filename == f"cijfers-{today.year}-Q{quarter}.csv"
    text = open(download.path(), encoding="utf-8-sig").read()
    assert f"Meldingen;Alle meldingen;{count};" in text
