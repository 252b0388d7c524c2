"""Celery workers: `celery -A workers worker` and `celery -A workers beat` find `app` here."""

from config.celery_app import app

__all__ = ["app"]
