# Settings of the test site: one app, SQLite on the environment's volume.
import os

SECRET_KEY = os.environ.get("SECRET_KEY", "test-only")
DEBUG = False
ALLOWED_HOSTS = ["*"]
INSTALLED_APPS = ["notes"]
ROOT_URLCONF = "notesite.urls"
WSGI_APPLICATION = "notesite.wsgi.application"
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("DATABASE_PATH", "/data/db.sqlite3"),
        "OPTIONS": {"timeout": 20},
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
USE_TZ = True
