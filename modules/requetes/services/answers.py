"""The answers to a category's questions (Open311 attributes): checked and cleaned
against each question's type and choices."""

from __future__ import annotations

import datetime
import math
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from ..models import Category, Question


def _blank(value) -> bool:
    return value is None or value == "" or value == [] or (
        isinstance(value, str) and not value.strip())


def validate_answers(category: Category, answers: dict | None) -> dict:
    """Check ``answers`` ({code: value}) against the category's questions; return the
    cleaned answers or raise ``ValidationError`` keyed ``answers.<code>``."""
    answers = answers or {}
    if not isinstance(answers, dict):
        raise ValidationError({"answers": _("Answers must be given as code: value pairs.")})
    questions = {q.code: q for q in category.questions.all()}
    errors: dict[str, str] = {}
    cleaned: dict[str, Any] = {}
    for code in answers:
        if code not in questions:
            errors[f"answers.{code}"] = _("Unknown question: %(code)s.") % {"code": code}
    for code, question in questions.items():
        value = answers.get(code)
        if _blank(value):
            if question.required:
                errors[f"answers.{code}"] = _("This question is required: %(q)s") % {
                    "q": question.label}
            continue
        try:
            cleaned[code] = _clean_answer(question, value)
        except ValueError as error:
            errors[f"answers.{code}"] = str(error)
    if errors:
        raise ValidationError(errors)
    return cleaned


def _clean_answer(question: Question, value):
    kind = question.datatype
    keys = [key for key, _label in question.choice_list()]
    if kind == Question.Datatype.MULTI:
        values = value if isinstance(value, list) else [value]
        values = [str(v) for v in values if not _blank(v)]
        wrong = [v for v in values if v not in keys]
        if wrong:
            raise ValueError(_("Not one of the offered choices: %(v)s.") % {
                "v": ", ".join(wrong)})
        if not values and question.required:
            raise ValueError(_("This question is required: %(q)s") % {"q": question.label})
        return values
    if isinstance(value, list):
        raise ValueError(_("Give one answer to: %(q)s") % {"q": question.label})
    text = str(value).strip()
    if kind == Question.Datatype.SINGLE:
        if text not in keys:
            raise ValueError(_("Not one of the offered choices: %(v)s.") % {"v": text})
        return text
    if kind == Question.Datatype.NUMBER:
        try:
            number = float(text.replace(",", "."))
        except ValueError:
            raise ValueError(_("Enter a number for: %(q)s") % {"q": question.label}) from None
        if not math.isfinite(number):
            raise ValueError(_("Enter a number for: %(q)s") % {"q": question.label})
        return int(number) if number.is_integer() else number
    if kind == Question.Datatype.DATETIME:
        parsed = None
        try:
            parsed = parse_datetime(text) or (
                datetime.datetime.combine(datetime.date.fromisoformat(text), datetime.time()))
        except ValueError:
            parsed = None
        if parsed is None:
            raise ValueError(_("Enter a date (YYYY-MM-DD) or a date and time for: %(q)s")
                             % {"q": question.label})
        return parsed.isoformat()
    limit = 255 if kind == Question.Datatype.STRING else 4000
    if len(text) > limit:
        raise ValueError(_("At most %(n)d characters for: %(q)s") % {
            "n": limit, "q": question.label})
    return text
