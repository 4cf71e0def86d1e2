import os

from django.core.wsgi import get_wsgi_application

from config.runtime import tune_garbage_collection

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()
tune_garbage_collection()  # each gunicorn worker imports this once its app has loaded
