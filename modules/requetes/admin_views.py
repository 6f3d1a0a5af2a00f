"""Back-office screens of `requetes` in the Wagtail admin: the department queue, a
request's detail with its actions, and the phone/counter intake form.  Every change goes
through ``services``; who sees what is ``services.staff_queryset`` / ``can_handle``."""

from __future__ import annotations

import uuid

from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from wagtail.admin import messages
from wagtail.admin.auth import permission_denied

from hub.access_log import record_personal_data_read
from hub.i18n import localized, pick
from hub.models import User

from . import maps, services
from .forms import BulkActionForm, IntakeForm, ReplyForm, TransitionForm, add_service_errors
from .models import Category, ServiceRequest

SORTS = {"recent": "-created_at", "oldest": "created_at", "due": "due_date",
         "reference": "reference"}


def _forbidden(request, obj):
    """A plain 403 (Wagtail would turn PermissionDenied into a redirect): this request
    belongs to another department."""
    return render(request, "requetes/admin/forbidden.html", {
        "page_title": _("Request %(ref)s") % {"ref": obj.reference}, "header_icon": "lock",
        "obj": obj}, status=403)


MAP_LIMIT = 1000


def _visible(user):
    """``services.staff_queryset``, with a department agent's departments also written
    out as ids: the scope is a subquery there, which hides from PostgreSQL which
    department is meant, so it could not walk the (department, …) indexes in the page's
    order and sorted or counted the whole department instead (~140 ms for 88,000 rows
    against < 1 ms).  The same rows either way."""
    qs = services.staff_queryset(user)
    if not (services.is_administrator(user) or services.is_intake_agent(user)):
        qs = qs.filter(department_id__in=list(user.departments.values_list("pk", flat=True)))
    return qs


def _filtered(request):
    """The queue's requests after the filters of the query string (queue and map)."""
    qs = _visible(request.user)
    status = request.GET.get("status", "open")
    if status == "open":
        qs = qs.filter(status__in=ServiceRequest.OPEN_STATUSES)
    elif status in ServiceRequest.Status.values:
        qs = qs.filter(status=status)
    category = request.GET.get("category", "")
    if category:
        qs = qs.filter(category__service_code=category)
    if request.GET.get("overdue"):
        qs = qs.filter(status__in=ServiceRequest.OPEN_STATUSES,
                       due_date__lt=timezone.localdate())
    if request.GET.get("mine"):
        qs = qs.filter(assigned_to=request.user)
    if request.GET.get("reopened"):
        qs = qs.filter(reopened=True)
    query = (request.GET.get("q") or "").strip()[:100]
    qs = services.search_requests(qs, query, request.user)
    sort = request.GET.get("sort", "recent")
    qs = qs.order_by(SORTS.get(sort, "-created_at"), "-pk")
    return qs, {"status": status, "category": category, "query": query, "sort": sort}


def _assignees(user):
    """Whom the bulk "assign" may name: the agents of the departments ``user`` sees."""
    agents = User.objects.filter(is_active=True, departments__isnull=False)
    if not (services.is_administrator(user) or services.is_intake_agent(user)):
        agents = agents.filter(departments__in=user.departments.all())
    return agents.distinct().order_by("first_name", "last_name", "email")


def _bulk(request):
    """Bulk assign / bulk transition of the ticked requests, each through
    ``services.transition``: a request the user may not handle, or that cannot make the
    move, is reported and skipped; the others proceed."""
    form = BulkActionForm(request.POST, assignees=_assignees(request.user))
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return
    data = form.cleaned_data
    # Only requests the user can see: an id outside their scope is "not found", not a
    # way to learn that it exists.
    visible = {obj.pk: obj for obj in services.staff_queryset(request.user).filter(
        pk__in=data["ids"]).select_related("department")}
    missing = len(set(data["ids"]) - set(visible))
    if data["bulk_action"] == "assign":
        done, refused = services.bulk_transition(
            visible.values(), actor=request.user, to_status=ServiceRequest.Status.ASSIGNED,
            assignee=data["assignee"], public_message=data["public_message"])
    else:
        done, refused = services.bulk_transition(
            visible.values(), actor=request.user, to_status=data["to_status"],
            public_message=data["public_message"], closure_reason=data["closure_reason"],
            closure_note=data["closure_note"])
    if done:
        messages.success(request, ngettext(
            "%(n)d request updated.", "%(n)d requests updated.", len(done)) % {
            "n": len(done)})
    for obj, why in refused:
        messages.error(request, _("%(ref)s not changed: %(why)s") % {
            "ref": obj.reference, "why": why})
    if missing:
        messages.error(request, ngettext(
            "%(n)d request was not found.", "%(n)d requests were not found.", missing) % {
            "n": missing})


def queue(request):
    if not services.is_staff_for_requests(request.user):
        return permission_denied(request)
    if request.method == "POST":
        _bulk(request)
        # Back to the same filters; re-encoded, so only ever a query string of this URL.
        query_string = QueryDict(request.POST.get("return", "")).urlencode()
        target = reverse("requetes_admin:queue")
        return redirect(f"{target}?{query_string}" if query_string else target)
    qs, filters = _filtered(request)
    paginator = CappedPaginator(qs, QUEUE_PAGE, wanted=request.GET.get("p"))
    page = paginator.get_page(request.GET.get("p"))
    categories = _category_names()
    page.object_list = _queue_rows(qs, page, categories)
    params = request.GET.copy()
    params.pop("p", None)
    return render(request, "requetes/admin/queue.html", {
        "page_title": _("Service requests"), "header_icon": "list-ul", "page": page,
        "statuses": ServiceRequest.Status.choices,
        "categories": [(code, name) for _pk, code, name in categories],
        "sorts": SORTS, "params": params.urlencode(), **filters,
        "can_intake": services.is_intake_agent(request.user)
        or services.is_administrator(request.user),
        "bulk_form": BulkActionForm(assignees=_assignees(request.user)),
        "query_string": request.GET.urlencode(),
    })


QUEUE_PAGE = 50
# The queue counts its rows up to this many (or up to the page asked for): an exact
# count of "all statuses" walks a department's whole history (88,000 rows in the
# bench, the slowest part of the page), and a total past ten thousand is read as
# "more than 10,000" anyway.
QUEUE_COUNT_CAP = 10_000


class CappedPaginator(Paginator):
    """A paginator whose count stops one row past ``limit`` (``QUEUE_COUNT_CAP``, or
    the end of the page asked for when it lies further): one ``COUNT`` of at most that
    many rows.  ``capped`` tells the page to say "more than"; the next page's link
    stays, and following it counts further."""

    def __init__(self, object_list, per_page, *, wanted: str | None = None):
        super().__init__(object_list, per_page)
        # The page number as the query string gives it; anything else is page 1, as
        # ``get_page`` reads it (a huge number is clamped to the last page there too).
        number = int(wanted) if wanted and wanted.isdigit() and len(wanted) < 7 else 1
        self.limit = max(QUEUE_COUNT_CAP, number * per_page)

    @cached_property
    def count(self) -> int:
        # Unordered: which rows make up the first ``limit`` does not change the count.
        return self.object_list.order_by()[:self.limit + 1].count()

    @property
    def capped(self) -> bool:
        return self.count > self.limit


QUEUE_COLUMNS = ("pk", "reference", "reopened", "category_id", "department__name",
                 "status", "created_at", "due_date", "address", "assigned_to__first_name",
                 "assigned_to__last_name", "assigned_to__email")


def _category_names() -> list[tuple[int, str, str]]:
    """(id, code, name in the active language) of every category, in their order."""
    return [(pk, code, pick(name_fr, name_en))  # Category.name's rule
            for pk, code, name_fr, name_en in Category.objects.values_list(
                "pk", "service_code", "name_fr", "name_en")]


def _queue_rows(qs, page, category_names) -> list[dict]:
    """The page's rows, ready to print: one query for the rows (only the columns shown,
    no model instances) and one for their follower counts, whatever the page size; the
    labels, links and dates are worked out once per page, not per row by the template
    (translations, URL reversing, date filters)."""
    start = (page.number - 1) * QUEUE_PAGE
    rows = list(qs.values_list(*QUEUE_COLUMNS)[start:start + QUEUE_PAGE])
    # Followers counted for the page's rows only: a COUNT annotation on the queue would
    # group and sort the department's whole backlog before the LIMIT.
    followers = dict(ServiceRequest.followers.through.objects
                     .filter(servicerequest_id__in=[row[0] for row in rows])
                     .values("servicerequest_id").annotate(n=Count("pk"))
                     .values_list("servicerequest_id", "n"))
    categories = {pk: name for pk, _code, name in category_names}
    statuses = {value: str(label) for value, label in ServiceRequest.Status.choices}
    detail_url = reverse("requetes_admin:detail", args=[0]).removesuffix("0/")
    select = _("Select %(ref)s")
    today = timezone.localdate()
    zone = timezone.get_current_timezone()
    result = []
    for (pk, reference, reopened, category_id, department, status, created_at, due_date,
         address, first_name, last_name, email) in rows:
        # User.__str__ (the full name, or the email), or a dash when nobody is assigned.
        assignee = (f"{first_name} {last_name}".strip() or email) if email else "—"
        result.append({
            "pk": pk, "reference": reference, "url": f"{detail_url}{pk}/",
            "select_label": select % {"ref": reference}, "reopened": reopened,
            "category": categories.get(category_id, ""), "department": department,
            "status": statuses.get(status, status), "status_code": status,
            "created": created_at.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
            "due": due_date.isoformat() if due_date else "",
            "overdue": bool(status != ServiceRequest.Status.CLOSED and due_date
                            and due_date < today),
            "assignee": assignee, "followers": followers.get(pk, 0),
            "address": address,
        })
    return result


def queue_map(request):
    """The queue's filtered requests on a map (at most MAP_LIMIT, most recent first)."""
    if not services.is_staff_for_requests(request.user):
        return permission_denied(request)
    qs, filters = _filtered(request)
    total = qs.count()
    rows = list(qs.values("pk", "reference", "latitude", "longitude", "status",
                          "category__name_fr", "category__name_en")[:MAP_LIMIT])
    labels = dict(ServiceRequest.Status.choices)
    points = [{"lat": row["latitude"], "lon": row["longitude"],
               "label": f"{row['reference']} — {localized(row, 'category__name')} — "
                        f"{labels.get(row['status'], row['status'])}",
               "url": reverse("requetes_admin:detail", args=[row["pk"]])} for row in rows]
    return maps.allow_tiles(render(request, "requetes/admin/queue_map.html", {
        "page_title": _("Map of the requests"), "header_icon": "site", "points": points,
        "total": total, "shown": len(points), "limit": MAP_LIMIT,
        "map_config": maps.config(), "query_string": request.GET.urlencode(), **filters,
    }))


def detail(request, pk):
    if not services.is_staff_for_requests(request.user):
        return permission_denied(request)
    obj = get_object_or_404(ServiceRequest.objects.select_related(
        "category", "department", "citizen", "assigned_to", "duplicate_of"), pk=pk)
    if not services.can_view_as_staff(request.user, obj):
        return _forbidden(request, obj)
    if request.method == "GET":  # the requester's identity and contact are on the page
        record_personal_data_read(request, what="service_request", subject=obj.citizen,
                                  subject_label=obj.reference)
    can_handle = services.can_handle(request.user, obj)
    form = TransitionForm(request_obj=obj)
    reply_form = ReplyForm(request_obj=obj)
    if request.method == "POST":
        if not can_handle:
            return _forbidden(request, obj)
        action = request.POST.get("action")
        if action == "note":
            try:
                services.add_internal_note(obj, actor=request.user,
                                           note=request.POST.get("internal_note", ""))
            except ValidationError as error:
                messages.error(request, " ".join(error.messages))
            else:
                messages.success(request, _("Internal note added."))
                return redirect("requetes_admin:detail", pk=obj.pk)
        elif action == "reply":
            reply_form = ReplyForm(request.POST, request_obj=obj)
            if reply_form.is_valid():
                try:
                    services.add_comment(obj, actor=request.user,
                                         message=reply_form.cleaned_data["public_message"])
                except ValidationError as error:
                    add_service_errors(reply_form, error)
                else:
                    messages.success(request, _("Public reply sent."))
                    return redirect("requetes_admin:detail", pk=obj.pk)
        elif action in ("redact", "unredact"):
            services.set_description_redacted(obj, actor=request.user,
                                              redacted=action == "redact")
            messages.success(request, _("Description hidden from the public.")
                             if action == "redact"
                             else _("Description shown to the public again."))
            return redirect("requetes_admin:detail", pk=obj.pk)
        else:
            form = TransitionForm(request.POST, request_obj=obj)
            if form.is_valid():
                data = form.cleaned_data
                try:
                    services.transition(
                        obj, actor=request.user, to_status=data["to_status"],
                        public_message=data["public_message"],
                        internal_note=data["internal_note"], assignee=data["assignee"],
                        closure_reason=data["closure_reason"],
                        closure_note=data["closure_note"],
                        duplicate_of=data["duplicate_of"] or None)
                except ValidationError as error:
                    add_service_errors(form, error)
                else:
                    messages.success(request, _("Request %(ref)s updated.") % {
                        "ref": obj.reference})
                    return redirect("requetes_admin:detail", pk=obj.pk)
    return render(request, "requetes/admin/detail.html", {
        "page_title": _("Request %(ref)s") % {"ref": obj.reference}, "header_icon": "doc-full",
        "obj": obj, "form": form, "reply_form": reply_form, "can_handle": can_handle,
        "template_texts": {str(t.pk): services.response_template_text(t, obj)
                           for t in services.response_templates_for(obj.department)}
        if can_handle else {},
        "events": obj.events.select_related("actor"), "answers": obj.answer_rows(),
        "photos": obj.photos.all(), "follower_count": obj.followers.count(),
        "ttack": services.time_to_acknowledge(obj), "ttres": services.time_to_resolve(obj),
    }, status=400 if request.method == "POST" else 200)


def _may_intake(user) -> bool:
    return services.is_intake_agent(user) or services.is_administrator(user)


def intake_choose(request):
    if not _may_intake(request.user):
        return permission_denied(request)
    code = request.GET.get("category")
    if code:
        return redirect("requetes_admin:intake", code=code)
    return render(request, "requetes/admin/intake_choose.html", {
        "page_title": _("Record a call or a visit"), "header_icon": "mail",
        "categories": Category.objects.filter(active=True)})


def _find_resident(text: str):
    text = text.strip()
    if not text:
        return None
    digits = "".join(ch for ch in text if ch.isdigit())
    found = User.objects.filter(email__iexact=text).first()
    if found is None and len(digits) >= 7:
        for user in User.objects.exclude(phone="").only("pk", "phone"):
            if "".join(ch for ch in user.phone if ch.isdigit()).endswith(digits[-10:]):
                return User.objects.get(pk=user.pk)
    return found


def intake(request, code):
    if not _may_intake(request.user):
        return permission_denied(request)
    category = get_object_or_404(Category, service_code=code, active=True)
    if request.method == "POST":
        form = IntakeForm(request.POST, request.FILES, category=category)
        if form.is_valid():
            data = form.cleaned_data
            resident = _find_resident(data["resident"])
            if data["resident"].strip() and resident is None:
                form.add_error("resident", _("No account has this email or phone number."))
            else:
                try:
                    created = services.create_request(
                        actor=request.user, category=category,
                        description=data["description"], latitude=data["latitude"],
                        longitude=data["longitude"], address=data["address"],
                        answers=form.answers(), photos=data["photos"],
                        channel=data["channel"], citizen=resident,
                        caller_name=data["caller_name"], caller_email=data["caller_email"],
                        caller_phone=data["caller_phone"],
                        contact_channel=data["contact_channel"], priority=data["priority"],
                        submission_key=data["submission_key"])
                except ValidationError as error:
                    add_service_errors(form, error)
                else:
                    messages.success(request, _(
                        "Request %(ref)s recorded: give this reference to the caller.")
                        % {"ref": created.reference})
                    return redirect("requetes_admin:detail", pk=created.pk)
    else:
        form = IntakeForm(category=category, initial={"submission_key": uuid.uuid4(),
                                                      "contact_channel": "phone"})
    return maps.allow_tiles(render(request, "requetes/admin/intake.html", {
        "page_title": _("Record a call or a visit"), "page_subtitle": category.name,
        "header_icon": "mail", "form": form, "category": category,
        "map_config": maps.config()},
        status=400 if request.method == "POST" else 200))
