"""WSGI entry point (gunicorn regenclinic.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "regenclinic.settings")

application = get_wsgi_application()
