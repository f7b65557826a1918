"""WSGI entry of the hosted confirmation page (gunicorn ccinspect.web.notification.confirm_wsgi:application)."""

from .confirm import _application

application = _application()
