"""Settings and the Celery app; settings import nothing from Celery."""
