"""Domain operations on service requests.  The web pages, the admin, the API and Open311
all go through these functions, so validation, the workflow, role checks, the history and
the events hold on every path.

Errors: ``django.core.exceptions.ValidationError`` (a dict naming the field) for bad
input, ``PermissionDenied`` when the actor may not do it.  Nothing is changed in either
case.

One job per file; this package re-exports the names callers use, so they import
``services`` and never a file of it:

- ``permissions`` — who may see and change which requests;
- ``territory`` — the city's territory and where a request is (``place``: typed
  coordinates, else the civic address register);
- ``calendar`` — business days and due dates;
- ``answers`` — the category's questions' answers;
- ``photos`` — photos re-encoded to their pixels;
- ``lifecycle`` — create, transition, note, reopen, follow, comment;
- ``telling`` — the events fired and the notices sent for each change;
- ``public`` — the history as a request's people see it, staff redaction (what the
  *public* sees is ``requetes/public.py``);
- ``satisfaction`` — the one question after closure;
- ``staff`` — response templates, bulk actions, the queue's search;
- ``open311`` — Open311 clients' keys, requests and updates;
- ``privacy`` — personal data export and erasure (Law 25);
- ``retention`` — the retention schedule: closed requests anonymised after their
  category's period (Law 25).
"""

from django.core.exceptions import PermissionDenied, ValidationError

from ..models import ServiceRequest
from .answers import validate_answers
from .calendar import DEFAULT_RECURRING_HOLIDAYS, add_business_days, due_date_for, is_holiday
from .lifecycle import (
    DOUBLE_SUBMIT_SECONDS,
    MAX_DESCRIPTION,
    REOPEN_DAYS,
    TRANSITIONS,
    add_comment,
    add_internal_note,
    can_reopen,
    create_request,
    follow,
    next_reference,
    reopen,
    transition,
    unfollow,
)
from .open311 import (
    API_KEY_PREFIX,
    check_api_key,
    create_open311_request,
    deactivate_api_key,
    issue_api_key,
    post_open311_update,
)
from .permissions import (
    can_handle,
    can_view_as_staff,
    is_administrator,
    is_department_agent,
    is_intake_agent,
    is_staff_for_requests,
    staff_queryset,
)
from .photos import MAX_PHOTO_BYTES, MAX_PHOTO_PIXELS, MAX_PHOTOS, prepare_photos, process_photo
from .privacy import erase_user_data, export_user_data
from .public import (
    public_events,
    set_description_redacted,
    time_to_acknowledge,
    time_to_resolve,
)
from .retention import anonymise_expired
from .satisfaction import can_answer_satisfaction, record_satisfaction
from .staff import (
    bulk_transition,
    response_template_text,
    response_templates_for,
    search_requests,
)
from .territory import DEFAULT_TERRITORY, place, territory, validate_location

__all__ = [
    "API_KEY_PREFIX",
    "DEFAULT_RECURRING_HOLIDAYS",
    "DEFAULT_TERRITORY",
    "DOUBLE_SUBMIT_SECONDS",
    "MAX_DESCRIPTION",
    "MAX_PHOTOS",
    "MAX_PHOTO_BYTES",
    "MAX_PHOTO_PIXELS",
    "REOPEN_DAYS",
    "TRANSITIONS",
    "PermissionDenied",
    "ServiceRequest",
    "ValidationError",
    "add_business_days",
    "add_comment",
    "add_internal_note",
    "anonymise_expired",
    "bulk_transition",
    "can_answer_satisfaction",
    "can_handle",
    "can_reopen",
    "can_view_as_staff",
    "check_api_key",
    "create_open311_request",
    "create_request",
    "deactivate_api_key",
    "due_date_for",
    "erase_user_data",
    "export_user_data",
    "follow",
    "is_administrator",
    "is_department_agent",
    "is_holiday",
    "is_intake_agent",
    "is_staff_for_requests",
    "issue_api_key",
    "next_reference",
    "place",
    "post_open311_update",
    "prepare_photos",
    "process_photo",
    "public_events",
    "record_satisfaction",
    "reopen",
    "response_template_text",
    "response_templates_for",
    "search_requests",
    "set_description_redacted",
    "staff_queryset",
    "territory",
    "time_to_acknowledge",
    "time_to_resolve",
    "transition",
    "unfollow",
    "validate_answers",
    "validate_location",
]
