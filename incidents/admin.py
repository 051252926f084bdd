"""The functional administrator's part of incidents in the Django admin: the national standard
replies and the texts of the aangifte track's steps. The desks' own replies are their
coordinators' (the "Beheer" pages); which rows the administrator sees and changes is
`standard_reply_policy`, and every save goes through `standard_reply_save`."""

from django.contrib import admin

from incidents import services
from incidents.models import AangifteStepText, MonitorFigure, StandardReply
from incidents.policies import standard_reply_policy


@admin.register(StandardReply)
class StandardReplyAdmin(admin.ModelAdmin):
    list_display = ["title", "active", "updated_at"]
    list_filter = ["active"]
    search_fields = ["title"]
    fields = ["title", "text_nl", "text_en", "active"]

    def get_queryset(self, request):
        return standard_reply_policy.queryset(request.user, "view")

    def has_change_permission(self, request, obj=None):
        allowed = super().has_change_permission(request, obj)
        return allowed and (obj is None or standard_reply_policy.allows(request.user, "keep", obj))

    def has_delete_permission(self, request, obj=None):
        return False  # switched off, never deleted

    def save_model(self, request, obj, form, change):
        services.standard_reply_save(
            actor=request.user,
            reply=obj,  # new: unsaved, without a desk (a national default)
            title=obj.title,
            text_nl=obj.text_nl,
            text_en=obj.text_en,
            active=obj.active,
        )


@admin.register(MonitorFigure)
class MonitorFigureAdmin(admin.ModelAdmin):
    """The Monitor's reference figures, shown beside the statistics."""

    list_display = ["measure", "edition", "percent", "source"]
    list_filter = ["edition", "measure"]
    fields = ["edition", "measure", "percent", "source"]


@admin.register(AangifteStepText)
class AangifteStepTextAdmin(admin.ModelAdmin):
    """The short "why this step matters" of each step of the aangifte track. One row per
    step (seeded by a migration): the texts change, the steps do not."""

    list_display = ["step", "text_nl"]
    fields = ["step", "text_nl", "text_en"]
    readonly_fields = ["step"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
