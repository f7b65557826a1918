"""Background work for the worker (`ccinspect web worker`, django-tasks' db_worker): sending happens here,
never in a request."""

from __future__ import annotations

from django_tasks import task


@task()
def dispatch(ids: list[int], follow_up: bool = False) -> dict:
    from .services import dispatch_batch

    return dispatch_batch(ids, follow_up=follow_up)
