"""Who sees what: a broker's own users see its notifications and cases (account ids are the broker's
customers' data); the regulator, the site admin and other brokers see counts only."""

from __future__ import annotations

from .models import Case, Notification


def notifications_for(user):
    if user.organisation_id is None or user.sees_all_brokers:
        return Notification.objects.none()
    return Notification.objects.filter(organisation_id=user.organisation_id)


def cases_for(user):
    if user.organisation_id is None or user.sees_all_brokers:
        return Case.objects.none()
    return Case.objects.filter(organisation_id=user.organisation_id)
