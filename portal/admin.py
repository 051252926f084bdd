from collections import Counter

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.http import Http404
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.formats import date_format
from django.utils.timezone import localtime
from django.utils.translation import gettext_lazy as _
from django_otp_webauthn.models import WebAuthnCredential

from portal import services, sso
from portal.constants import SECURITY_ADVICE_UNSETTLED, OfficeholderFunction
from portal.csv_files import CsvFileError
from portal.errors import DomainError
from portal.models import (
    AccessLogEntry,
    Desk,
    ExternalIdentity,
    IdentityProvider,
    Organisation,
    OutboxEntry,
    PersonChange,
    SecurityAdviceEligibility,
    SiteConfiguration,
    TotpDevice,
    User,
    WorkerHeartbeat,
)
from portal.outbox import outbox_retry
from portal.reachability import mailbox_is_confirmed


class HasDeskFilter(admin.SimpleListFilter):
    title = _("meldpunt")
    parameter_name = "has_desk"

    def lookups(self, request, model_admin):
        return [("yes", _("Met meldpunt")), ("no", _("Zonder meldpunt"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(desk__isnull=False)
        if self.value() == "no":
            return queryset.filter(desk__isnull=True)
        return queryset


class OrganisationImportForm(forms.Form):
    file = forms.FileField(
        label=_("CSV-bestand"),
        help_text=_("Kolommen: code,name,type,province (en eventueel ended_on,successor_code)."),
    )


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "type",
        "code",
        "province",
        "desk_or_warning",
        "ended_on",
        "time_zone",
        "emergency_number",
    ]
    list_filter = ["type", HasDeskFilter, "desk", "province", "time_zone"]
    search_fields = ["name", "code"]
    list_select_related = ["desk"]
    raw_id_fields = ["successor"]
    change_list_template = "admin/portal/organisation/change_list.html"

    def get_urls(self):
        return [
            path(
                "importeren/",
                self.admin_site.admin_view(self.import_view),
                name="portal_organisation_import",
            ),
            *super().get_urls(),
        ]

    def import_view(self, request):
        """The same import as `manage.py import_organisations`, from an upload."""
        if not self.has_add_permission(request) or not self.has_change_permission(request):
            raise PermissionDenied
        form = OrganisationImportForm(request.POST or None, request.FILES or None)
        results = None
        if request.method == "POST" and form.is_valid():
            try:
                results = services.organisations_import(data=form.cleaned_data["file"].read())
            except CsvFileError as error:
                form.add_error("file", str(error))
        counts = Counter(result.outcome for result in results or [])
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Organisaties importeren"),
            "form": form,
            "results": results,
            "counts": counts,
        }
        return TemplateResponse(request, "admin/portal/organisation/import.html", context)

    @admin.display(description=_("meld- en steunpunt"), ordering="desk__name")
    def desk_or_warning(self, organisation):
        if organisation.desk_id:
            return organisation.desk.name
        return _("⚠ Geen meldpunt: meldingen gaan naar het reservemeldpunt")


class OrganisationInline(admin.TabularInline):
    model = Organisation
    fields = ["name", "type", "code"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True
    verbose_name_plural = _("bediende organisaties (wijzig via de organisatie)")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Desk)
class DeskAdmin(admin.ModelAdmin):
    """Desks, with whether somebody reads them (portal.reachability) for the administrator."""

    list_display = [
        "name",
        "email",
        "phone",
        "time_zone",
        "active_staff",
        "mailbox_state",
        "reachable",
    ]
    search_fields = ["name", "organisations__name"]
    readonly_fields = [
        "active_staff",
        "mailbox_state",
        "mailbox_confirmation_sent_at",
        "unreachable_since",
    ]
    inlines = [OrganisationInline]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(staff_count=Count("registrars", filter=Q(registrars__is_active=True)))
        )

    @admin.display(description=_("actieve medewerkers"))
    def active_staff(self, desk):
        if hasattr(desk, "staff_count"):
            return desk.staff_count
        return desk.registrars.filter(is_active=True).count() if desk.pk else 0

    @admin.display(description=_("postbus"))
    def mailbox_state(self, desk):
        if not desk.email:
            return _("geen adres")
        if mailbox_is_confirmed(desk):
            return _("gelezen, bevestigd op %(moment)s") % {
                "moment": date_format(localtime(desk.mailbox_confirmed_at), "j F Y H:i")
            }
        return _("niet bevestigd (telt niet als bereikbaar)")

    @admin.display(description=_("bereikbaar"), boolean=True)
    def reachable(self, desk):
        return self.active_staff(desk) > 0 or mailbox_is_confirmed(desk)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if "email" in form.changed_data and obj.email:
            # A new address is unconfirmed until its own link is clicked: ask right away.
            services.desk_mailbox_confirmation_request(desk=obj)


class PersonChangeInline(admin.TabularInline):
    """The change record of one person (`portal.services.person_changes_record`), read-only."""

    model = PersonChange
    fk_name = "person"
    fields = ["at", "actor", "field", "old_value", "new_value"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    max_num = 0

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class PersonAddForm(forms.ModelForm):
    """A new account without a password: the person chooses one from their invitation."""

    class Meta:
        model = User
        fields = [
            "username",
            "email",
            "first_name",
            "last_name",
            "role",
            "function",
            "organisation",
            "desk",
            "preferred_language",
        ]

    def save(self, commit=True):
        person = super().save(commit=False)
        person.is_active = False
        person.set_unusable_password()
        if commit:
            person.save()
        return person


@admin.register(User)
class PortalUserAdmin(UserAdmin):
    """People. Nobody sets another person's password here: a new account gets an invitation,
    a forgotten password a reset e-mail (the actions below). The operator's break-glass
    account comes from `createsuperuser` (README)."""

    list_display = [
        "username",
        "first_name",
        "last_name",
        "role",
        "function",
        "organisation",
        "desk",
        "is_active",
    ]
    list_filter = ["role", "function", "organisation", "desk", "is_active", "preferred_language"]
    search_fields = ["username", "first_name", "last_name", "email"]
    list_select_related = ["organisation", "desk"]
    fieldsets = [
        (None, {"fields": ["username"]}),
        *UserAdmin.fieldsets[1:],
        (
            _("Rol in het portaal"),
            {
                "fields": [
                    "role",
                    "function",
                    "organisation",
                    "desk",
                    "is_coordinator",
                    "term_start",
                    "term_end",
                    "gender",
                    "preferred_language",
                ]
            },
        ),
    ]
    # Set by logging in and by the invitation, never by hand.
    readonly_fields = ["last_login", "date_joined"]
    inlines = [PersonChangeInline]
    add_form = PersonAddForm
    add_fieldsets = [(_("Rol in het portaal"), {"fields": PersonAddForm.Meta.fields})]

    actions = ["deactivate", "invite", "password_reset_send"]

    # Django's own permission machinery stays with the operator's break-glass account.
    SUPERUSER_ONLY_FIELDS = ("is_superuser", "groups", "user_permissions")

    def get_queryset(self, request):
        people = super().get_queryset(request)
        if not request.user.is_superuser:
            # The operator's break-glass accounts are out of the functional administrator's
            # reach: they cannot reset, deactivate or take one over.
            people = people.filter(is_superuser=False)
        return people

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if request.user.is_superuser:
            return fieldsets
        return [
            (
                name,
                {
                    **options,
                    "fields": [
                        field
                        for field in options["fields"]
                        if field not in self.SUPERUSER_ONLY_FIELDS
                    ],
                },
            )
            for name, options in fieldsets
        ]

    def user_change_password(self, request, id, form_url=""):
        """Django's "set password" page: not here. A person sets their own password."""
        raise Http404

    def save_model(self, request, obj, form, change):
        stored = User.objects.get(pk=obj.pk) if change else None
        before = services.person_tracked_values(stored) if change else {}
        # Unticking "active" is a deactivation: it goes through the one service (sessions,
        # tokens, open incidents and cases), after the other changes are saved.
        deactivating = change and stored.is_active and not obj.is_active
        if deactivating:
            obj.is_active = True
        super().save_model(request, obj, form, change)
        services.person_changes_record(actor=request.user, person=obj, before=before)
        # A staff account created on a desk or moved to one: its coordinators hear of it.
        services.staff_desk_changed_notify(person=obj, before=before)
        if deactivating:
            services.person_deactivate(actor=request.user, person=obj)
        if not change and obj.email:
            services.invitation_create(actor=request.user, person=obj)

    @admin.action(description=_("Deactiveren"))
    def deactivate(self, request, queryset):
        count = 0
        for person in queryset.filter(is_active=True).order_by("pk"):
            if person.pk == request.user.pk:
                self.message_user(
                    request, _("Uw eigen account kunt u niet deactiveren."), messages.WARNING
                )
                continue
            count += services.person_deactivate(actor=request.user, person=person)
        self.message_user(
            request,
            _(
                "%(count)s accounts gedeactiveerd. Hun open meldingen en dossiers staan weer "
                "bij het meldpunt of het team."
            )
            % {"count": count},
        )

    @admin.action(description=_("Uitnodiging (opnieuw) sturen"))
    def invite(self, request, queryset):
        sent = 0
        for person in queryset.order_by("pk"):
            try:
                services.invitation_create(actor=request.user, person=person)
            except DomainError as refusal:
                self.message_user(request, f"{person}: {refusal.message}", messages.WARNING)
                continue
            sent += 1
        self.message_user(request, _("%(count)s uitnodigingen verstuurd.") % {"count": sent})

    @admin.action(description=_("E-mail sturen om een nieuw wachtwoord te kiezen"))
    def password_reset_send(self, request, queryset):
        sent = sum(
            services.password_reset_email_send(person=person) for person in queryset.order_by("pk")
        )
        self.message_user(
            request,
            _("%(count)s e-mails verstuurd om een nieuw wachtwoord te kiezen.") % {"count": sent},
        )


@admin.register(SiteConfiguration)
class SiteConfigurationAdmin(admin.ModelAdmin):
    list_display = ["__str__", "fallback_desk", "support_team_phone"]

    def has_add_permission(self, request):
        return not SiteConfiguration.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False


class SecurityAdviceRowForm(forms.ModelForm):
    """One row of the list: the check box names its function for a screen reader."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["may_request"].widget.attrs["aria-label"] = (
            f"{self.fields['may_request'].label}: {self.instance.get_function_display()}"
        )


@admin.register(SecurityAdviceEligibility)
class SecurityAdviceEligibilityAdmin(admin.ModelAdmin):
    """Which functions may ask for a security advice (a CCV consultation); a change counts
    from the next page an officeholder opens."""

    list_display = ["function", "may_request", "note"]
    list_editable = ["may_request"]
    fields = ["function", "may_request", "note"]
    # Every function has its row (portal 0022); only whether it qualifies changes.
    readonly_fields = ["function", "note"]

    def get_changelist_form(self, request, **kwargs):
        return super().get_changelist_form(request, form=SecurityAdviceRowForm, **kwargs)

    @admin.display(description=_("toelichting"))
    def note(self, row):
        if row.function in SECURITY_ADVICE_UNSETTLED:
            return _(
                "Niet vastgesteld: het is nog niet besloten of deze eilandfunctie recht heeft "
                "op beveiligingsadvies. Nu staat de keuze van het portaal; pas die aan als het "
                "besluit er is."
            )
        if row.function == OfficeholderFunction.ALGEMEEN_BESTUUR_WATERSCHAP:
            return _(
                "Wie vroeger 'lid algemeen of dagelijks bestuur waterschap' was, staat nu als "
                "lid algemeen bestuur. De coördinator van het meldpunt zet leden van het "
                "dagelijks bestuur om; pas dan kunnen zij beveiligingsadvies aanvragen."
            )
        return ""


@admin.register(WorkerHeartbeat)
class WorkerHeartbeatAdmin(admin.ModelAdmin):
    list_display = ["name", "last_seen_at"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(AccessLogEntry)
class AccessLogEntryAdmin(admin.ModelAdmin):
    """Who read which incident's personal data: searchable, never editable or deletable."""

    list_display = ["at", "actor", "role", "desk", "action", "reference", "what", "ip_address"]
    list_filter = ["role", "action", ("at", admin.DateFieldListFilter)]
    search_fields = ["actor__username", "reference", "ip_address"]
    date_hierarchy = "at"
    list_select_related = ["actor", "desk"]
    readonly_fields = [
        "at", "actor", "role", "desk", "action", "reference", "organisation", "what", "ip_address"
    ]  # fmt: skip

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(TotpDevice)
class TotpDeviceAdmin(admin.ModelAdmin):
    """Authenticator apps: who has one and when it was used; never the secret.

    The only change an administrator can make is deleting one, for a lost phone: that resets
    the person's second factor (app and backup codes), ends their sessions and revokes their
    API tokens (`portal.services.user_second_factor_reset`).
    """

    list_display = ["user", "name", "confirmed", "created_at", "last_used_at"]
    list_filter = ["confirmed"]
    search_fields = ["user__username", "user__first_name", "user__last_name"]
    list_select_related = ["user"]
    fields = ["user", "name", "confirmed", "created_at", "last_used_at"]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def delete_model(self, request, obj):
        services.user_second_factor_reset(user=obj.user)
        services.person_device_change_record(
            actor=request.user, person=obj.user, what="authenticator-app verwijderd"
        )

    def delete_queryset(self, request, queryset):
        for user in User.objects.filter(pk__in=queryset.values("user")):
            services.user_second_factor_reset(user=user)
            services.person_device_change_record(
                actor=request.user, person=user, what="authenticator-app verwijderd"
            )


class DeleteOnlyAdmin(admin.ModelAdmin):
    """Rows the administrator can look at and remove, never add or change."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(WebAuthnCredential)
class PasskeyAdmin(DeleteOnlyAdmin):
    """Passkeys: who has one and when it was used; never key material.

    The only change an administrator can make is deleting one (a lost phone), like an
    authenticator app: the person's other sessions end, their API tokens are revoked and they
    get an e-mail (`portal.services.passkey_remove`).
    """

    list_display = ["user", "name", "created_at", "last_used_at"]
    search_fields = ["user__username", "user__first_name", "user__last_name"]
    list_select_related = ["user"]
    fields = ["user", "name", "created_at", "last_used_at"]
    readonly_fields = fields

    def delete_model(self, request, obj):
        services.passkey_remove(user=obj.user, passkey_id=obj.pk)
        services.person_device_change_record(
            actor=request.user, person=obj.user, what="passkey verwijderd"
        )

    def delete_queryset(self, request, queryset):
        for passkey in queryset.select_related("user"):
            services.passkey_remove(user=passkey.user, passkey_id=passkey.pk)
            services.person_device_change_record(
                actor=request.user, person=passkey.user, what="passkey verwijderd"
            )


class IdentityProviderForm(forms.ModelForm):
    """The client secret is written, never shown: left empty on a change, it stays as it was.
    Saving reads the provider's discovery document, so a wrong issuer is found now."""

    issuer = forms.URLField(
        label=IdentityProvider._meta.get_field("issuer").verbose_name,
        help_text=IdentityProvider._meta.get_field("issuer").help_text,
        max_length=300,
        assume_scheme="https",
    )
    client_secret = forms.CharField(
        label=_("client secret"),
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text=_(
            "Wordt versleuteld bewaard en niet meer getoond. Leeg laten: blijft hetzelfde."
        ),
    )

    class Meta:
        model = IdentityProvider
        fields = [
            "name",
            "desk",
            "issuer",
            "client_id",
            "client_secret",
            "mfa_acr_values",
            "mfa_amr_values",
            "is_active",
        ]

    def clean_client_secret(self):
        secret = self.cleaned_data["client_secret"]
        if not secret and not self.instance.client_secret:
            raise forms.ValidationError(_("Vul het client secret in."))
        return secret or self.instance.client_secret

    def clean_issuer(self):
        issuer = self.cleaned_data["issuer"]
        problem = sso.issuer_problem(issuer)
        if problem:
            raise forms.ValidationError(problem)
        return issuer


@admin.register(IdentityProvider)
class IdentityProviderAdmin(admin.ModelAdmin):
    """The organisations' identity providers for single sign-on (portal.sso)."""

    form = IdentityProviderForm
    list_display = ["name", "desk", "issuer", "client_id", "is_active", "linked_people"]
    list_select_related = ["desk"]
    search_fields = ["name", "issuer", "desk__name"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(linked=Count("identities"))

    @admin.display(description=_("gekoppelde personen"))
    def linked_people(self, provider):
        return provider.linked


@admin.register(ExternalIdentity)
class ExternalIdentityAdmin(DeleteOnlyAdmin):
    """Who logs in through which provider. An administrator can only remove a link (the
    person then needs a new invitation); links are made by an invitation or a coordinator."""

    list_display = ["person", "provider", "subject", "linked_at", "linked_by", "last_login_at"]
    list_select_related = ["person", "provider", "linked_by"]
    search_fields = ["person__username", "person__first_name", "person__last_name", "subject"]
    list_filter = ["provider"]
    fields = list_display
    readonly_fields = fields

    def delete_model(self, request, obj):
        services.external_identities_remove(actor=request.user, person=obj.person)

    def delete_queryset(self, request, queryset):
        for person in User.objects.filter(pk__in=queryset.values("person")):
            services.external_identities_remove(actor=request.user, person=person)


@admin.register(OutboxEntry)
class OutboxEntryAdmin(admin.ModelAdmin):
    """The outbox: what each consumer still has to do, and what failed (never content)."""

    list_display = ["created_at", "topic", "object_id", "kind", "consumer", "status", "attempts"]
    list_filter = ["status", "consumer", "topic"]
    search_fields = ["object_id"]
    readonly_fields = [
        "topic", "object_id", "kind", "consumer", "status", "attempts", "next_attempt_at",
        "last_error", "created_at", "done_at",
    ]  # fmt: skip
    actions = ["retry"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Mislukte opdrachten opnieuw proberen"))
    def retry(self, request, queryset):
        count = outbox_retry(entry_ids=queryset.values_list("pk", flat=True))
        self.message_user(
            request, _("%(count)s opdrachten worden opnieuw geprobeerd.") % {"count": count}
        )
