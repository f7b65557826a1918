"""The cross-broker views are the regulator's alone: every other role gets 403 (pages) or 403 (API)."""

from __future__ import annotations

import functools

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied

from ccinspect.web.accounts.models import REGULATOR_ROLES


def is_regulator(user) -> bool:
    return bool(user and user.is_authenticated and user.role in REGULATOR_ROLES)


def require_regulator(user) -> None:
    if not is_regulator(user):
        raise PermissionDenied("only the regulator sees the views across brokers")


def regulator_only(view):
    @login_required
    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        require_regulator(request.user)
        return view(request, *args, **kwargs)

    return wrapped
