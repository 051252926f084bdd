from django.apps import AppConfig


class DevtoolsConfig(AppConfig):
    """Tools for developers: demo data and benchmarks. Installed only with DEVELOPMENT_TOOLS
    (default: DEBUG), so production settings never load them."""

    name = "devtools"
    verbose_name = "Development tools"
