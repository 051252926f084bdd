from portal.celery import app as celery_app

# The release (pyproject.toml reads it from here; CHANGELOG.md says what each one brought).
__version__ = "0.2.0"

__all__ = ("__version__", "celery_app")
