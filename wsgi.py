"""The WSGI entry point: `gunicorn wsgi:app` (gunicorn.conf.py applies migrations first). The process
that serves it also applies pauses' moments as they fall due (mentor_status_service/pausing/schedule.py)."""
from mentor_status_service import create_app
from mentor_status_service.pausing import schedule

app = create_app()
schedule.install(app)
