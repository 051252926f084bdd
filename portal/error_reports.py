"""What Django's error e-mails to ADMINS (and its technical 500 page, never shown with DEBUG
off) may contain: the traceback's files, lines and functions, but no frame variables (they
hold decrypted incident text) and no form data (what an officeholder typed)."""

from django.views.debug import SafeExceptionReporterFilter


class PortalExceptionReporterFilter(SafeExceptionReporterFilter):
    def get_traceback_frame_variables(self, request, tb_frame):
        return []

    def get_post_parameters(self, request):
        return {}

    def is_active(self, request):
        return True
