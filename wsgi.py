"""WSGI entry point: `gunicorn wsgi:app`, `flask --app wsgi run`."""
from portal import create_app
from portal.security import warn_at_startup

app = create_app()
warn_at_startup(app, "web")  # one line when the key is generated or limits are per process
