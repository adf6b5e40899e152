import os

from django.http import HttpResponse

from notes.models import Note


def index(request):
    notes = ", ".join(describe(n) for n in Note.objects.order_by("id"))
    return HttpResponse("version=%s notes=%s\n" % (os.environ.get("APP_VERSION"), notes))


def health(request):
    # Reads every column of the model: a version whose migration has not
    # run fails here, and never takes traffic.
    Note.objects.order_by("id").first()
    return HttpResponse("ok\n")


def describe(note):
    title = getattr(note, "title", None)
    return "%s:%s" % (title, note.text) if title else note.text
