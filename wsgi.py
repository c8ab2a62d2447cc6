"""The WSGI entry point: `gunicorn wsgi:app` (gunicorn.conf.py applies migrations first)."""
from mentor_status_service import create_app

app = create_app()
