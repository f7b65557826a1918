"""One form per record kind, built from the table's fields (labels and choices from the model); the values are
then checked by the library's pydantic model in services.save_record."""

from __future__ import annotations

from functools import cache

from django import forms
from django.db import models as m
from django.utils.translation import gettext_lazy as _

from .models import MODELS

SKIP = {"id", "organisation", "updated_at"}
DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _field(f) -> forms.Field:
    label = f.verbose_name
    required = not (f.null or f.blank)
    if isinstance(f, m.JSONField):
        return forms.CharField(label=label, required=False, help_text=_("several: separate with ;"))
    if isinstance(f, m.BooleanField):
        return forms.BooleanField(label=label, required=False)
    if isinstance(f, m.DateField):
        return forms.DateField(label=label, required=required, widget=DATE)
    if isinstance(f, m.FloatField):
        return forms.FloatField(label=label, required=required, min_value=0)
    if isinstance(f, m.PositiveIntegerField):
        return forms.IntegerField(label=label, required=required, min_value=1)
    if f.choices:
        return forms.ChoiceField(label=label, required=required, choices=f.choices)
    if isinstance(f, m.TextField):
        return forms.CharField(label=label, required=required, widget=forms.Textarea(attrs={"rows": 2}))
    return forms.CharField(label=label, required=required, max_length=f.max_length)


@cache
def form_class(kind: str) -> type[forms.Form]:
    model = MODELS[kind]
    fields = {f.name: _field(f) for f in model._meta.concrete_fields if f.name not in SKIP}
    return type(f"{model.__name__}Form", (forms.Form,), fields)


def initial(row) -> dict:
    out = {}
    for f in row._meta.concrete_fields:
        if f.name in SKIP:
            continue
        v = getattr(row, f.name)
        out[f.name] = "; ".join(map(str, v)) if isinstance(v, list) else v
    return out


def record_data(cleaned: dict) -> dict:
    """Form values as the library's record: `code` is its `id`; lists stay "a; b" (the model splits them)."""
    return {("id" if k == "code" else k): v for k, v in cleaned.items()}
