"""Staff tools on the queue: response templates, bulk actions, search."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.utils.translation import gettext as _

from hub.i18n import localized

from ..models import ServiceRequest
from .lifecycle import transition
from .permissions import is_administrator, is_intake_agent

logger = logging.getLogger("modules.requetes.services")


def response_templates_for(department):
    """The active templates an agent may use on ``department``'s requests: the
    department's own and the shared ones (no department)."""
    from ..models import ResponseTemplate

    return ResponseTemplate.objects.filter(
        Q(department__isnull=True) | Q(department=department), active=True)


# --- bulk actions ------------------------------------------------------------------------

def bulk_transition(requests: Iterable[ServiceRequest], *, actor, to_status: str,
                    assignee=None, public_message: str = "", closure_reason: str = "",
                    closure_note: str = "") -> tuple[list[ServiceRequest],
                                                     list[tuple[ServiceRequest, str]]]:
    """Apply one transition to several requests, each through :func:`transition` (its
    own transaction, role check, history and event).  A request that is refused does not
    stop the others: returns ``(done, [(refused, why), …])``."""
    done: list[ServiceRequest] = []
    refused: list[tuple[ServiceRequest, str]] = []
    for request in requests:
        try:
            transition(request, actor=actor, to_status=to_status, assignee=assignee,
                       public_message=public_message, closure_reason=closure_reason,
                       closure_note=closure_note)
        except PermissionDenied as error:
            refused.append((request, str(error) or _("Not allowed.")))
        except ValidationError as error:
            refused.append((request, " ".join(error.messages)))
        else:
            done.append(request)
    return done, refused


def response_template_text(template, request: ServiceRequest) -> str:
    """The template's text in the requester's language: English only for a resident
    who chose English and when the English text is written; French otherwise."""
    citizen = request.citizen
    language = getattr(citizen, "preferred_language", "") if citizen else ""
    return localized(template, "body", language or "fr")


def search_requests(queryset, text: str, user):
    """Narrow the staff queue ``queryset`` (already limited to what ``user`` may see) to
    the requests matching ``text``.  Elasticsearch when configured (ranked, stemmed
    French); the database otherwise, or when Elasticsearch does not answer, so the queue
    never breaks because the search cluster is down."""
    from hub import search as hub_search

    from .. import text_search

    text = (text or "").strip()[:text_search.MAX_QUERY]
    if not text:
        return queryset
    if hub_search.elasticsearch_enabled():
        from .. import search_documents

        departments = (None if is_administrator(user) or is_intake_agent(user)
                       else list(user.departments.values_list("pk", flat=True)))
        try:
            ids = search_documents.matching_ids(text, department_ids=departments)
        except Exception:
            logger.exception("Elasticsearch request search failed; using the database")
        else:
            return queryset.filter(pk__in=ids)
    return text_search.search(queryset, text)
