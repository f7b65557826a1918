"""The broker form, generated from BrokerProfile's fields (their types and bilingual labels), so the form and
the applicability engine cannot drift: a new profile field appears here, or building the form fails."""

from __future__ import annotations

import datetime as dt
import types
import typing

from django import forms
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from ccinspect.applicability import BrokerProfile

from .services import PROFILE_FIELDS, BrokerError


def _en() -> bool:
    return (get_language() or "").startswith("en")


def label(name: str) -> str:
    extra = BrokerProfile.model_fields[name].json_schema_extra or {}
    return extra["en" if _en() else "zh"]


def _kind(name: str) -> str:
    """What the form needs to know of a field's type (None allowed or not is the model's business)."""
    ann = BrokerProfile.model_fields[name].annotation
    args = [a for a in typing.get_args(ann) if a is not type(None)] if isinstance(ann, types.UnionType) else [ann]
    base = args[0] if len(args) == 1 else None
    origin = typing.get_origin(base)
    if name == "tier_override":
        return "tier"
    if name == "assumed_intervals":  # `rule: months` lines, parsed by the model
        return "lines"
    if base is bool:
        return "bool"
    if base in (int, float, str):  # capital as 250億/NT$…, percentages, codes: text the model parses
        return "text"
    if base is dt.date:
        return "date"
    if origin is list:
        return "lines"
    if origin is dict:
        return "duties"
    raise TypeError(f"BrokerProfile.{name}: no form field for {ann!r}; teach brokers/forms.py its type")


def format_capital(amount) -> str:
    """250億, 4千萬, 1234萬 or plain NTD: as an administrator would type it."""
    if not isinstance(amount, int) or amount <= 0:
        return "" if amount in (None, "") else str(amount)
    if amount % 100_000_000 == 0:
        return f"{amount // 100_000_000}億"
    if amount % 10_000 == 0:
        return f"{amount // 10_000}萬"
    return f"{amount:,}"


class BrokerForm(forms.Form):
    def __init__(self, *args, duties=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.duties = list(duties)  # (id, zh name, en name) of the recurring duties: their last dates
        self.fields["name"] = forms.CharField(label=label("name"), max_length=200)
        self.kinds: dict[str, str] = {}
        for name in PROFILE_FIELDS:
            kind = self.kinds[name] = _kind(name)
            lab = label(name)
            if kind == "bool":
                self.fields[name] = forms.BooleanField(label=lab, required=False)
            elif kind == "tier":
                self.fields[name] = forms.ChoiceField(label=lab, required=False, choices=[
                    ("", _("by capital")), *[(str(t), str(t)) for t in (1, 2, 3, 4)]])
            elif kind == "lines":
                self.fields[name] = forms.CharField(label=lab, required=False, widget=forms.Textarea(attrs={"rows": 3}))
            elif kind == "duties":
                for duty_id, zh, en in self.duties:
                    self.fields[f"{name}.{duty_id}"] = forms.CharField(
                        label=en if _en() else zh, required=False, widget=forms.TextInput(attrs={
                            "placeholder": "YYYY-MM-DD / 113/06/30"}))
            else:
                attrs = {"placeholder": "YYYY-MM-DD / 113/06/30"} if kind == "date" else {}
                self.fields[name] = forms.CharField(label=lab, required=False, widget=forms.TextInput(attrs=attrs))
        self.fields["effective_from"] = forms.CharField(
            label=_("In force from (a capital change moves the tier from this date)"), required=False,
            widget=forms.TextInput(attrs={"placeholder": "YYYY-MM-DD / 113/06/30"}))
        self.fields["note"] = forms.CharField(label=_("Note on this change"), required=False, max_length=500)

    @classmethod
    def initial_from(cls, name: str, profile: dict) -> dict:
        out = {"name": name}
        for key, value in profile.items():
            if key == "capital":
                out[key] = format_capital(value)
            elif isinstance(value, list):
                out[key] = "\n".join(value)
            elif key == "assumed_intervals":
                out[key] = "\n".join(f"{k}: {v}" for k, v in value.items())
            elif isinstance(value, dict):
                out.update({f"{key}.{k}": v for k, v in value.items()})
            elif value is not None:
                out[key] = value
        return out

    def profile_data(self) -> dict:
        """The cleaned form as BrokerProfile takes it: empty text is "not given"."""
        d = self.cleaned_data
        out: dict = {}
        for name, kind in self.kinds.items():
            if kind == "duties":
                out[name] = {duty_id: d[f"{name}.{duty_id}"].strip() for duty_id, _zh, _en in self.duties
                             if d.get(f"{name}.{duty_id}", "").strip()}
            elif kind == "bool":
                out[name] = bool(d.get(name))
            elif kind == "lines":
                out[name] = d.get(name) or ""
            else:
                value = (d.get(name) or "").strip()
                if value or name == "capital":
                    out[name] = value
        return out

    def add_broker_errors(self, exc: BrokerError) -> None:
        for key, messages in exc.errors.items():
            for msg in messages:
                if key in self.fields:
                    self.add_error(key, msg)
                else:
                    prefix = f"{label(key)}: " if key in BrokerProfile.model_fields else ""
                    self.add_error(None, prefix + msg)
