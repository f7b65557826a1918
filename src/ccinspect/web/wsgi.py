import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ccinspect.web.settings")
application = get_wsgi_application()

# Load the regulation catalog as the worker starts, not in its first requests (where each thread would
# load it again, for about a second, while users wait).
from ccinspect.web.inspections.services import catalog  # noqa: E402

catalog()
