"""The intake's forms, built from its questions (`patients.intake.SECTIONS`): one form per section.

A section's questions are one Django form; its repeatable rows (areas, medications,
allergies) a formset beside it. Every field is optional to Django: what a section needs
before the intake can be sent is `Section.problems`, checked when the patient presses
"Save and continue" (`strict`) and put next to the field it is about. "Back", "Add
another", "finish later" and the browser's save-on-leave keep whatever is well formed,
finished or not, so nothing typed is lost.
"""

from functools import cache
from typing import Any

from django import forms
from django.forms.formsets import (
    INITIAL_FORM_COUNT,
    MAX_NUM_FORM_COUNT,
    MIN_NUM_FORM_COUNT,
    TOTAL_FORM_COUNT,
    BaseFormSet,
    ManagementForm,
    formset_factory,
)
from django.utils.datastructures import MultiValueDict
from django.utils.translation import gettext_lazy as _

from patients.intake import BY_KEY, Kind, Question, Rows, Section

TOO_LONG = _("Please keep this to %(limit_value)d characters (it has %(show_value)d).")
NOT_A_CHOICE = _("Please choose one of the options shown.")
CHOOSE = _("Choose…")
FORMSET_ERRORS: dict[str, Any] = {
    "missing_management_form": _("The page was sent incompletely. Please check your answers and save again."),
    "too_many_forms": _("Please list at most %(num)d."),
}


def _field(question: Question) -> forms.Field:
    invalid = {"invalid_choice": NOT_A_CHOICE, "invalid_list": NOT_A_CHOICE}
    common: dict[str, Any] = {"label": question.label, "required": False, "help_text": question.help_text}
    if question.kind == Kind.CHOICE:
        if question.select:
            return forms.ChoiceField(choices=[("", CHOOSE), *question.choices], error_messages=invalid, **common)
        return forms.ChoiceField(choices=question.choices, widget=forms.RadioSelect, error_messages=invalid, **common)
    if question.kind == Kind.CHOICES:
        return forms.MultipleChoiceField(
            choices=question.choices, widget=forms.CheckboxSelectMultiple, error_messages=invalid, **common
        )
    if question.kind == Kind.SCALE:
        return forms.TypedChoiceField(
            choices=question.choices,
            coerce=int,
            empty_value=None,
            widget=forms.RadioSelect,
            error_messages=invalid,
            **common,
        )
    if question.kind == Kind.TEXT:
        widget = forms.Textarea(attrs={"rows": 3}) if question.max_length > 200 else forms.TextInput()
        return forms.CharField(
            max_length=question.max_length, widget=widget, error_messages={"max_length": TOO_LONG}, **common
        )
    return forms.BooleanField(**common)


def _make_form(name: str, questions: list[Question]) -> type[forms.Form]:
    return type(name, (forms.Form,), {question.name: _field(question) for question in questions})


@cache
def _form_class(key: str) -> type[forms.Form]:
    """The form of section `key`'s questions (built once; its labels translate when shown)."""
    return _make_form(f"{key.title()}Form", BY_KEY[key].questions)


@cache
def _formset_class(key: str) -> type[BaseFormSet]:
    """The formset of section `key`'s rows."""
    rows = BY_KEY[key].rows
    assert rows is not None
    row_form = _make_form(f"{key.title()}RowForm", list(rows.questions))
    return formset_factory(
        row_form, extra=0, max_num=rows.most, validate_max=True, absolute_max=rows.most, can_delete=False
    )


def answers_as_data(section: Section, answers: dict[str, Any]) -> MultiValueDict:
    """Saved answers as the form data that would have saved them (to check them as if just sent)."""
    data: MultiValueDict = MultiValueDict()
    for question in section.questions:
        _put(data, question.name, question, answers.get(question.name, question.empty))
    rows = section.rows
    if rows is not None:
        listed = answers.get(rows.name, [])
        data.setlist(f"{rows.name}-TOTAL_FORMS", [str(len(listed))])
        data.setlist(f"{rows.name}-INITIAL_FORMS", ["0"])
        for n, row in enumerate(listed):
            for question in rows.questions:
                _put(data, f"{rows.name}-{n}-{question.name}", question, row.get(question.name, question.empty))
    return data


def _put(data: MultiValueDict, key: str, question: Question, value: Any) -> None:
    if question.kind == Kind.CHOICES:
        data.setlist(key, list(value))
    elif question.kind == Kind.FLAG:
        if value:
            data.setlist(key, ["on"])
    elif value is not None:
        data.setlist(key, [str(value)])


class SectionForm:
    """One section's form: its questions, and its rows as a formset; `answers` once valid.

    `data`: what was posted. `answers`: the saved answers shown back (unbound), or checked
    as if just sent (`check`). `strict`: the section must be finished (`Section.problems`).
    `rows_shown`: how many rows to offer at least (after "Add another").
    """

    def __init__(
        self,
        section: Section,
        *,
        data: Any = None,
        answers: dict[str, Any] | None = None,
        strict: bool = False,
        check: bool = False,
        rows_shown: int = 0,
    ) -> None:
        self.section = section
        self.strict = strict or check
        self.answers: dict[str, Any] = {}
        self.group_errors: list[str] = []
        saved = {**section.empty_answers(), **(answers or {})}
        if check:
            data = answers_as_data(section, saved)
        form_class = _form_class(section.key)
        rows = section.rows
        if data is not None:
            self.form = form_class(data=data)
            self.formset = (
                _formset_class(section.key)(data=data, prefix=rows.name, error_messages=FORMSET_ERRORS)
                if rows is not None
                else None
            )
        else:
            self.form = form_class(initial={q.name: saved[q.name] for q in section.questions})
            self.formset = None
            if rows is not None:
                listed = list(saved[rows.name])
                count = min(rows.most, max(len(listed) + 1, rows.shown, rows_shown))
                initial = listed + [{}] * (count - len(listed))
                self.formset = _formset_class(section.key)(
                    initial=initial, prefix=rows.name, error_messages=FORMSET_ERRORS
                )
        self._bound = data is not None
        if check:
            # Saved answers checked as if just sent: their messages show next to the fields.
            self.is_valid()

    def is_valid(self) -> bool:
        if not self._bound:
            return False
        valid = self.form.is_valid()
        if self.formset is not None:
            valid = self.formset.is_valid() and valid
        if not valid:
            if self.formset is not None:
                self.group_errors = [str(error) for error in self.formset.non_form_errors()]
            self._describe_errors()
            return False
        answers = {q.name: self._value(q, self.form.cleaned_data.get(q.name)) for q in self.section.questions}
        kept: list[int] = []
        rows = self.section.rows
        if rows is not None and self.formset is not None:
            listed = []
            for n, row_form in enumerate(self.formset.forms):
                row = {q.name: self._value(q, row_form.cleaned_data.get(q.name)) for q in rows.questions}
                if not rows.is_blank(row):
                    listed.append(row)
                    kept.append(n)
            answers[rows.name] = listed
        if self.strict:
            problems = self.section.problems(answers)
            for problem in problems:
                if problem.row is not None and self.formset is not None:
                    self.formset.forms[kept[problem.row]].add_error(problem.field, problem.message)
                elif rows is not None and problem.field == rows.name:
                    self.group_errors.append(problem.message)
                else:
                    self.form.add_error(problem.field, problem.message)
            if problems:
                self._describe_errors()
                return False
        self.answers = answers
        return True

    @staticmethod
    def _value(question: Question, value: Any) -> Any:
        if question.kind == Kind.TEXT:
            return (value or "").strip()
        if question.kind == Kind.CHOICE:
            return value or ""
        if question.kind == Kind.CHOICES:
            return list(value or [])
        if question.kind == Kind.FLAG:
            return bool(value)
        return value

    def _describe_errors(self) -> None:
        """Point each field with an error at its message (inputs in rows; groups get theirs on the fieldset)."""
        forms_ = [self.form, *(self.formset.forms if self.formset is not None else [])]
        for form in forms_:
            for name in form.errors:
                if name in form.fields:
                    bound = form[name]
                    ids = [f"{bound.auto_id}_error"] + ([f"{bound.auto_id}_helptext"] if bound.help_text else [])
                    form.fields[name].widget.attrs["aria-describedby"] = " ".join(ids)

    @property
    def has_errors(self) -> bool:
        row_errors = self.formset is not None and any(form.errors for form in self.formset.forms)
        return bool(self.form.errors or self.group_errors or row_errors)

    def _management(self, rows: Rows, count: int) -> ManagementForm:
        """The formset's counts for the rows shown (fresh, so a mangled one posted never comes back)."""
        return ManagementForm(
            prefix=rows.name,
            initial={
                TOTAL_FORM_COUNT: count,
                INITIAL_FORM_COUNT: 0,
                MIN_NUM_FORM_COUNT: 0,
                MAX_NUM_FORM_COUNT: rows.most,
            },
        )

    def parts(self) -> list[dict[str, Any]]:
        """What the template shows, in the section's order: a question with its bound field, or the rows."""
        shown: list[dict[str, Any]] = []
        for part in self.section.parts:
            if isinstance(part, Question):
                shown.append({"kind": str(part.kind), "question": part, "field": self.form[part.name]})
                continue
            assert self.formset is not None
            row_forms = [
                {
                    "legend": str(part.legend) % {"number": n + 1},
                    "anchor": f"{part.name}-row-{n + 1}",
                    "fields": [{"question": q, "field": row_form[q.name]} for q in part.questions],
                }
                for n, row_form in enumerate(self.formset.forms)
            ]
            shown.append(
                {
                    "kind": "rows",
                    "rows": part,
                    "management": self._management(part, len(row_forms)),
                    "row_forms": row_forms,
                    "errors": self.group_errors,
                    "can_add": len(row_forms) < part.most,
                }
            )
        return shown
