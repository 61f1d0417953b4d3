# Loaded with Django, so `shared_task`s bind to Tandem's Celery app (its broker, its settings)
# in daphne, which sends them, as in the worker, which runs them.
from .celery import app as celery_app

__all__ = ("celery_app",)
