"""Password reset (finding 6): rate-limited, links built from PORTAL_BASE_URL, and a new
password ends everything else, like a password change.

- A flood of requests for one account sends at most PASSWORD_RESET_ACCOUNT_RATE_LIMIT
  e-mails, whatever the client IP; one IP gets at most PASSWORD_RESET_IP_RATE_LIMIT requests
  answered with an e-mail across accounts. Every answer is the same "check your e-mail" page.
- The link starts with PORTAL_BASE_URL, never with the Host header of the request.
- Choosing the new password revokes the person's tokens and ends their sessions.
"""

import re

import pytest
from django.core import mail
from django.test import Client

from portal.services import api_token_create
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

RESET_URL = "/account/wachtwoord-vergeten/"
DONE_URL = "/account/wachtwoord-vergeten/verstuurd/"
LINK = re.compile(r"(\S+/account/wachtwoord-herstellen/\S+/\S+/)")


def _ask(client, email: str, ip: str = "192.0.2.10", **extra):
    return client.post(RESET_URL, {"email": email}, REMOTE_ADDR=ip, **extra)


def test_a_flood_for_one_account_sends_only_a_few_e_mails_and_always_says_the_same(
    officeholder, settings
):
    """The attack: 12 requests for one account, from one IP and then from 12 IPs, gave 12
    e-mails. Now the account gets at most the limit; every answer is the same redirect."""
    settings.PASSWORD_RESET_ACCOUNT_RATE_LIMIT = 3
    client = Client()

    answers = [_ask(client, officeholder.email) for _ in range(12)]
    answers += [_ask(client, officeholder.email, ip=f"198.51.100.{n}") for n in range(12)]

    assert len(mail.outbox) == 3
    assert {(answer.status_code, answer["Location"]) for answer in answers} == {(302, DONE_URL)}


def test_one_ip_is_limited_across_accounts(settings):
    """One address asking for many accounts gets e-mails for the first ones only."""
    settings.PASSWORD_RESET_IP_RATE_LIMIT = 4
    people = [UserFactory() for _ in range(8)]
    client = Client()

    answers = [_ask(client, person.email) for person in people]

    assert len(mail.outbox) == 4
    assert {answer["Location"] for answer in answers} == {DONE_URL}
    # Another address is not affected.
    _ask(client, people[-1].email, ip="203.0.113.5")
    assert len(mail.outbox) == 5


def test_an_unknown_address_gets_the_same_answer(officeholder):
    """Nothing tells whether an account exists: the same redirect, no e-mail."""
    client = Client()
    unknown = _ask(client, "niemand@example.org")
    known = _ask(client, officeholder.email)
    assert (unknown.status_code, unknown["Location"]) == (known.status_code, known["Location"])
    assert len(mail.outbox) == 1


def test_the_link_comes_from_portal_base_url_not_from_the_host_header(officeholder, settings):
    """The attack: a forged Host header chose the link's domain. Now it is PORTAL_BASE_URL."""
    settings.PORTAL_BASE_URL = "https://meldpunt.example.nl"
    settings.ALLOWED_HOSTS = ["*"]

    _ask(Client(), officeholder.email, HTTP_HOST="aanvaller.example")

    (message,) = mail.outbox
    (link,) = LINK.findall(message.body)
    assert link.startswith("https://meldpunt.example.nl/account/wachtwoord-herstellen/")
    assert "aanvaller" not in message.body


def test_a_new_password_from_the_link_revokes_tokens_and_ends_sessions(officeholder, committed):
    """After choosing a new password through the link, a session opened before and the
    person's API tokens stop working."""
    earlier = Client()
    earlier.force_login(officeholder)
    _token, key = api_token_create(user=officeholder, name="koppeling")
    client = Client()
    _ask(client, officeholder.email)
    (link,) = LINK.findall(mail.outbox[0].body)
    form_page = client.get(link, follow=True)
    assert form_page.status_code == 200
    new_password = "een-nieuw-wachtwoord-na-herstel-1"

    with committed():
        done = client.post(
            form_page.redirect_chain[-1][0],
            {"new_password1": new_password, "new_password2": new_password},
        )

    assert done.status_code == 302
    assert earlier.get("/account/profiel/").status_code == 302
    api = Client(HTTP_AUTHORIZATION=f"Token {key}")
    assert api.get("/api/v1/notifications/").status_code == 401
    assert "Uw wachtwoord is gewijzigd" in {message.subject for message in mail.outbox}
