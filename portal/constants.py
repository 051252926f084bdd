"""Choices for people and organisations. Codes in English, labels translated (Dutch by default)."""

from django.db import models
from django.utils.translation import gettext_lazy as _

TIME_ZONE_NETHERLANDS = "Europe/Amsterdam"
TIME_ZONE_CARIBBEAN = "America/Kralendijk"


class OrganisationType(models.TextChoices):
    GEMEENTE = "gemeente", _("Gemeente")
    PROVINCIE = "provincie", _("Provincie")
    WATERSCHAP = "waterschap", _("Waterschap")
    OPENBAAR_LICHAAM = "openbaar_lichaam", _("Openbaar lichaam")


class Province(models.TextChoices):
    """The twelve provinces (CBS names). Empty for the openbare lichamen."""

    DRENTHE = "drenthe", "Drenthe"
    FLEVOLAND = "flevoland", "Flevoland"
    FRIESLAND = "friesland", "Fryslân"
    GELDERLAND = "gelderland", "Gelderland"
    GRONINGEN = "groningen", "Groningen"
    LIMBURG = "limburg", "Limburg"
    NOORD_BRABANT = "noord-brabant", "Noord-Brabant"
    NOORD_HOLLAND = "noord-holland", "Noord-Holland"
    OVERIJSSEL = "overijssel", "Overijssel"
    UTRECHT = "utrecht", "Utrecht"
    ZEELAND = "zeeland", "Zeeland"
    ZUID_HOLLAND = "zuid-holland", "Zuid-Holland"


class TimeZone(models.TextChoices):
    NETHERLANDS = TIME_ZONE_NETHERLANDS, _("Europees Nederland (Europe/Amsterdam)")
    CARIBBEAN = TIME_ZONE_CARIBBEAN, _("Caribisch Nederland (America/Kralendijk)")


class EmergencyNumber(models.TextChoices):
    NETHERLANDS = "112", "112"
    CARIBBEAN = "911", "911"


class Role(models.TextChoices):
    OFFICEHOLDER = "officeholder", _("Ambtsdrager")
    REGISTRAR = "registrar", _("Medewerker meld- en steunpunt")
    SUPPORT = "support", _("Ondersteuningsteam Weerbaar Bestuur")
    ADMIN = "admin", _("Functioneel beheerder")
    # Read-only, aggregates only, national (the ministry, the Netwerk Weerbaar Bestuur).
    ANALYST = "analyst", _("Analist (alleen cijfers)")


class OfficeholderFunction(models.TextChoices):
    BURGEMEESTER = "burgemeester", _("Burgemeester")
    WETHOUDER = "wethouder", _("Wethouder")
    RAADSLID = "raadslid", _("Raadslid")
    COMMISSIELID = "commissielid", _("Commissielid")
    STATENLID = "statenlid", _("Statenlid")
    GEDEPUTEERDE = "gedeputeerde", _("Gedeputeerde")
    COMMISSARIS_VAN_DE_KONING = "commissaris_van_de_koning", _("Commissaris van de Koning")
    DIJKGRAAF = "dijkgraaf", _("Dijkgraaf")
    # Until December 2026 one function, "waterschapsbestuurder", covered both (migration
    # portal 0022 moved it to the algemeen bestuur; the coordinator checks who is dagelijks).
    ALGEMEEN_BESTUUR_WATERSCHAP = (
        "algemeen_bestuur_waterschap",
        _("Lid algemeen bestuur waterschap"),
    )
    DAGELIJKS_BESTUUR_WATERSCHAP = (
        "dagelijks_bestuur_waterschap",
        _("Lid dagelijks bestuur waterschap"),
    )
    GEZAGHEBBER = "gezaghebber", _("Gezaghebber")
    EILANDGEDEPUTEERDE = "eilandgedeputeerde", _("Eilandgedeputeerde")
    EILANDSRAADSLID = "eilandsraadslid", _("Eilandsraadslid")


# Function codes that no longer exist, and what a file that still uses one is told.
RETIRED_FUNCTIONS = {
    "waterschapsbestuurder": _(
        "de functie waterschapsbestuurder bestaat niet meer: kies algemeen_bestuur_waterschap "
        "(lid algemeen bestuur) of dagelijks_bestuur_waterschap (lid dagelijks bestuur)"
    ),
}

# Who may ask the Ondersteuningsteam for a security advice (a CCV consultation) when no
# administrator has set it (portal.models.SecurityAdviceEligibility): the executive functions.
# The island functions follow their European counterparts; that is not settled policy.
SECURITY_ADVICE_DEFAULTS = {
    OfficeholderFunction.BURGEMEESTER: True,
    OfficeholderFunction.WETHOUDER: True,
    OfficeholderFunction.RAADSLID: False,
    OfficeholderFunction.COMMISSIELID: False,
    OfficeholderFunction.STATENLID: False,
    OfficeholderFunction.GEDEPUTEERDE: True,
    OfficeholderFunction.COMMISSARIS_VAN_DE_KONING: True,
    OfficeholderFunction.DIJKGRAAF: True,
    OfficeholderFunction.ALGEMEEN_BESTUUR_WATERSCHAP: False,
    OfficeholderFunction.DAGELIJKS_BESTUUR_WATERSCHAP: True,
    OfficeholderFunction.GEZAGHEBBER: True,
    OfficeholderFunction.EILANDGEDEPUTEERDE: True,
    OfficeholderFunction.EILANDSRAADSLID: False,
}
# Functions whose eligibility is not settled (the admin says so).
SECURITY_ADVICE_UNSETTLED = frozenset(
    {
        OfficeholderFunction.GEZAGHEBBER,
        OfficeholderFunction.EILANDGEDEPUTEERDE,
        OfficeholderFunction.EILANDSRAADSLID,
    }
)


class Gender(models.TextChoices):
    WOMAN = "woman", _("Vrouw")
    MAN = "man", _("Man")
    OTHER = "other", _("Anders")
    UNSPECIFIED = "", _("Zeg ik liever niet")


STAFF_ROLES = frozenset({Role.REGISTRAR, Role.SUPPORT, Role.ADMIN, Role.ANALYST})


class SecurityChange(models.TextChoices):
    """A change to how a person logs in; each ends their other sessions and API tokens."""

    PASSWORD_CHANGED = "password_changed", _("Wachtwoord gewijzigd")
    TWO_FACTOR_ON = "two_factor_on", _("Inloggen met een code aangezet")
    TWO_FACTOR_OFF = "two_factor_off", _("Inloggen met een code uitgezet")
    SECOND_FACTOR_RESET = "second_factor_reset", _("Inloggen met een code teruggezet")
    PASSKEY_REMOVED = "passkey_removed", _("Passkey verwijderd")
    ACCOUNT_LINKED = "account_linked", _("Gekoppeld aan het account van de organisatie")
    ACCOUNT_UNLINKED = "account_unlinked", _("Koppeling met het account van de organisatie weg")


class SecurityNotice(models.TextChoices):
    """A "was u dit?" e-mail to the person: no content, a link to their profile."""

    PASSWORD_CHANGED = "password_changed", _("Wachtwoord gewijzigd")
    TWO_FACTOR_OFF = "two_factor_off", _("Inloggen met een code uitgezet")
    DEVICE_ADDED = "device_added", _("Authenticator-app toegevoegd")
    PASSKEY_ADDED = "passkey_added", _("Passkey toegevoegd")
    PASSKEY_REMOVED = "passkey_removed", _("Passkey verwijderd")
    SECOND_FACTOR_RESET = "second_factor_reset", _("Inloggen met een code teruggezet")
    API_TOKENS_REVOKED = "api_tokens_revoked", _("API-sleutels ingetrokken")
    ACCOUNT_LINKED = "account_linked", _("Gekoppeld aan het account van de organisatie")
    ACCOUNT_UNLINKED = "account_unlinked", _("Koppeling met het account van de organisatie weg")
