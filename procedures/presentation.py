"""How the record's sections read on its pages and in its PDF: titles, who saved them, their values as text."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, cast

from django import forms
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from accounts.models import User
from procedures.forms.records import ORDER, SECTION_FORMS, InjectionForm, SectionForm
from procedures.models import Injection, ProcedureRecord

# Who saved each section (the time-out also says when).
SAVED_BY = {
    "timeout": ("timeout_by", "timeout_at"),
    "blood_draw": ("blood_by", None),
    "harvest": ("harvest_by", None),
    "processing": ("processing_by", None),
    "counts": ("counts_by", None),
}


@dataclass
class SectionView:
    key: str
    title: str
    form: SectionForm
    action: str
    done: bool
    saved_by: User | None = None
    saved_at: datetime | None = None
    rows: list[tuple[str, str]] = field(default_factory=list)


def display(form_field: forms.Field, value: Any) -> str:
    """A stored value as the page shows it (the choice's label, Yes/No, a local time)."""
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(form_field, forms.MultipleChoiceField):
        labels = dict(cast(list[tuple[Any, Any]], form_field.choices))
        return ", ".join(str(labels.get(item, item)) for item in value)
    if isinstance(form_field, forms.ChoiceField):
        return str(dict(cast(list[tuple[Any, Any]], form_field.choices)).get(value, value))
    if isinstance(form_field, forms.BooleanField):
        return _("Yes") if value else _("No")
    if isinstance(value, datetime):
        local = timezone.localtime(value)
        return f"{formats.date_format(local, 'SHORT_DATE_FORMAT')} {formats.time_format(local, 'TIME_FORMAT')}"
    if isinstance(value, Decimal):
        return formats.number_format(value)
    return str(value)


def section_rows(form: SectionForm, initial: dict[str, Any]) -> list[tuple[str, str]]:
    return [(str(field.label), display(field, initial.get(name))) for name, field in form.fields.items()]


def injection_rows(injection: Injection) -> list[tuple[str, str]]:
    form = InjectionForm(record=injection.record)
    return section_rows(form, InjectionForm.initial_for_injection(injection))


def _done(record: ProcedureRecord, key: str, injections: Sequence[Injection]) -> bool:
    if key == "injections":
        return bool(injections)
    if key == "rehab":
        return bool(record.rehabilitation_protocol.strip())
    by_field, _at = SAVED_BY[key]
    return getattr(record, f"{by_field}_id") is not None


def sections_of(
    record: ProcedureRecord,
    injections: Sequence[Injection],
    forms_by_key: dict[str, SectionForm],
    injection_form: SectionForm,
) -> list[SectionView]:
    """The sections in page order, each with its form, whether it is done, who saved it and its values as text."""
    views = []
    for key in ORDER:
        form = injection_form if key == "injections" else forms_by_key[key]
        by_field, at_field = SAVED_BY.get(key, (None, None))
        initial = {} if key == "injections" else type(form).initial_for(record)
        views.append(
            SectionView(
                key=key,
                title=str(_("Injections") if key == "injections" else form.title),
                form=form,
                action=reverse("procedures:section", kwargs={"uuid": record.uuid, "section": key}),
                done=_done(record, key, injections),
                saved_by=getattr(record, by_field) if by_field else None,
                saved_at=getattr(record, at_field) if at_field else None,
                rows=[] if key == "injections" else section_rows(form, initial),
            )
        )
    return views


def all_section_rows(record: ProcedureRecord) -> list[tuple[str, list[tuple[str, str]]]]:
    """Every section but the injections as (title, rows), for the PDF."""
    out = []
    for key in ORDER:
        if key in SECTION_FORMS:
            form_class = SECTION_FORMS[key]
            form = form_class(record=record)
            out.append((str(form_class.title), section_rows(form, form_class.initial_for(record))))
    return out
