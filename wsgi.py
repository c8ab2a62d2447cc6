"""The WSGI entry point: `gunicorn wsgi:app` (gunicorn.conf.py applies migrations first)."""
import sys

from mentor_status_service import create_app
from mentor_status_service.config import ConfigurationError

try:
    app = create_app()
except ConfigurationError as error:
    sys.exit(f"mentor status service: refusing to start: {error}")
