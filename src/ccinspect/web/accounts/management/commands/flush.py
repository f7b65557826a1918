"""Django's flush, inside integrity.readonly.maintenance(): emptying the whole database (the test runner, an
operator starting over) is the one DELETE of evidence and audit rows SQLite's triggers let through."""

from django.core.management.commands.flush import Command as DjangoFlush

from ccinspect.web.integrity.readonly import maintenance


class Command(DjangoFlush):
    def handle(self, **options):
        with maintenance():
            return super().handle(**options)
