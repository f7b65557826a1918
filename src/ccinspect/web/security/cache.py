"""The rate-limit counters' cache: Django's database cache with an increment that loses no count.

Django's `DatabaseCache.incr` is a read then a write: two workers counting the same address at once
both read N and both write N + 1, so a flood from many connections is under-counted and gets past the
limit. Here the row is locked first (an UPDATE that changes nothing: a row lock on PostgreSQL, the
write lock on SQLite), so the read and the write of one increment are never interleaved with another's.
"""

from __future__ import annotations

from django.core.cache.backends.db import DatabaseCache
from django.db import connections, router, transaction


class AtomicDatabaseCache(DatabaseCache):
    def incr(self, key, delta=1, version=None):
        db = router.db_for_write(self.cache_model_class)
        connection = connections[db]
        table = connection.ops.quote_name(self._table)
        with transaction.atomic(using=db):
            with connection.cursor() as cursor:
                cursor.execute(f"UPDATE {table} SET expires = expires WHERE cache_key = %s",  # noqa: S608
                               [self.make_and_validate_key(key, version=version)])
            return super().incr(key, delta, version)
