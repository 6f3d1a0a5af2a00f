"""Public pages of `requetes`: report a problem, "Mes requêtes".  Every change goes
through ``services``; a citizen only ever reaches their own requests (and those they
follow): anything else is a 404, so its existence does not leak."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from . import maps, public, services
from .forms import (
    CommentForm,
    LocationForm,
    ReopenForm,
    ReportForm,
    SatisfactionForm,
    add_service_errors,
)
from .models import Category, RequestPhoto, ServiceRequest
from .services.permissions import can_view_photos


@require_GET
def index(request):
    categories = Category.objects.filter(active=True).select_related("department")
    return render(request, "requetes/index.html", {"categories": categories})


@login_required
@require_GET
def choose_category(request):
    query = (request.GET.get("q") or "").strip()[:100]
    categories = Category.objects.filter(active=True)
    if query:
        categories = categories.filter(Q(name_fr__icontains=query) | Q(name_en__icontains=query)
                                       | Q(keywords__icontains=query)
                                       | Q(description_fr__icontains=query))
    return render(request, "requetes/choose_category.html",
                  {"categories": categories, "query": query})


@login_required
@require_http_methods(["GET", "POST"])
def report(request, code):
    category = get_object_or_404(Category, service_code=code, active=True)
    nearby = []
    location = None
    if request.method == "POST":
        form = ReportForm(request.POST, request.FILES, category=category)
        if form.is_valid():
            try:
                created = services.create_request(
                    actor=request.user, category=category,
                    description=form.cleaned_data["description"],
                    description_public=form.cleaned_data["description_public"],
                    latitude=form.cleaned_data["latitude"],
                    longitude=form.cleaned_data["longitude"],
                    address=form.cleaned_data["address"], answers=form.answers(),
                    photos=form.cleaned_data["photos"],
                    submission_key=form.cleaned_data["submission_key"],
                    channel=ServiceRequest.Channel.WEB)
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                return redirect("requetes:confirmation", reference=created.reference)
    else:
        location = LocationForm(request.GET or None)
        initial = {"submission_key": uuid.uuid4()}
        if location.is_bound and location.is_valid():
            try:
                lat, lon, address = services.place(location.cleaned_data["latitude"],
                                                   location.cleaned_data["longitude"],
                                                   location.cleaned_data["address"])
            except ValidationError as error:
                add_service_errors(location, error)
            else:
                nearby = public.nearby_open(category, lat, lon)
                initial.update(location.cleaned_data)
                if not (location.cleaned_data["latitude"]
                        or location.cleaned_data["longitude"]):  # placed from the address
                    initial.update(latitude=f"{lat:.6f}", longitude=f"{lon:.6f}",
                                   address=address)
        form = ReportForm(initial=initial, category=category)
    # A refused submission (the form with its errors) is a 400, as for comments.
    return maps.allow_tiles(render(request, "requetes/report.html", {
        "category": category, "form": form, "location": location, "nearby": nearby,
        "located": request.method == "POST" or bool(location and location.is_bound
                                                     and not location.errors),
        "map_config": maps.config()}, status=400 if request.method == "POST" else 200))


def _own_or_followed(request, reference) -> ServiceRequest:
    obj = ServiceRequest.objects.select_related("category", "department").filter(
        Q(citizen=request.user) | Q(followers=request.user), reference=reference).first()
    if obj is None:
        raise Http404
    return obj


@login_required
@require_GET
def confirmation(request, reference):
    obj = get_object_or_404(ServiceRequest.objects.select_related("department", "category"),
                            reference=reference, citizen=request.user)
    return render(request, "requetes/confirmation.html", {"obj": obj})


@login_required
@require_GET
def my_requests(request):
    mine = ServiceRequest.objects.filter(citizen=request.user).select_related(
        "category", "department")
    followed = ServiceRequest.objects.filter(followers=request.user).exclude(
        citizen=request.user).select_related("category", "department")
    return render(request, "requetes/my_requests.html", {"mine": mine, "followed": followed})


@login_required
@require_GET
def detail(request, reference):
    obj = _own_or_followed(request, reference)
    return _detail(request, obj)


def _detail(request, obj, *, comment_form=None, reopen_form=None, satisfaction_form=None,
            status=200):
    mine = obj.citizen_id == request.user.pk
    # A follower is not the requester: they see the place in the public view.
    place = ({"address": obj.address, "latitude": obj.latitude, "longitude": obj.longitude}
             if mine else next(public.rows(ServiceRequest.objects.filter(pk=obj.pk))))
    return render(request, "requetes/detail.html", {
        "place": place,
        "satisfaction_form": (satisfaction_form or SatisfactionForm())
        if services.can_answer_satisfaction(obj, request.user) else None,
        "obj": obj, "mine": mine, "events": services.public_events(obj, requester=mine),
        "answers": obj.answer_rows(), "photos": obj.photos.all() if mine else (),
        "comment_form": comment_form or CommentForm() if mine else None,
        "reopen_form": (reopen_form or ReopenForm())
        if mine and services.can_reopen(obj, request.user) else None,
    }, status=status)


@login_required
@require_POST
def comment(request, reference):
    obj = _own_or_followed(request, reference)
    form = CommentForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.add_comment(obj, actor=request.user, message=form.cleaned_data["message"],
                                 photos=form.cleaned_data["photos"])
        except PermissionDenied:
            raise Http404 from None
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Your comment was added."))
            return redirect("requetes:detail", reference=obj.reference)
    return _detail(request, obj, comment_form=form, status=400)


@login_required
@require_POST
def reopen(request, reference):
    obj = _own_or_followed(request, reference)
    form = ReopenForm(request.POST)
    if form.is_valid():
        try:
            services.reopen(obj, actor=request.user, message=form.cleaned_data["message"])
        except PermissionDenied:
            raise Http404 from None
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Your request was reopened: the department will "
                                        "look at it again."))
            return redirect("requetes:detail", reference=obj.reference)
    obj.refresh_from_db()
    return _detail(request, obj, reopen_form=form, status=400)


@login_required
@require_POST
def satisfaction(request, reference):
    """The answer to the one satisfaction question of a closed request."""
    obj = _own_or_followed(request, reference)
    form = SatisfactionForm(request.POST)
    if form.is_valid():
        try:
            services.record_satisfaction(
                obj, actor=request.user, score=form.cleaned_data["satisfaction"],
                comment=form.cleaned_data["satisfaction_comment"])
        except PermissionDenied:
            raise Http404 from None
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Thank you for your answer."))
            return redirect("requetes:detail", reference=obj.reference)
    if not services.can_answer_satisfaction(obj, request.user):
        # Not the requester, not closed, or already answered: say why, ask nothing.
        for message in form.errors.get("satisfaction", []) or [
                _("This question cannot be answered for this request.")]:
            messages.error(request, message)
        return redirect("requetes:detail", reference=obj.reference)
    return _detail(request, obj, satisfaction_form=form, status=400)


PUBLIC_PAGE_SIZE = 25


@require_GET
def public_map(request):
    """Open requests on a map and in a list, for everyone, in the public view
    (``public.py``): no name, email, phone or account; the description only when the
    citizen allowed it and staff did not hide it; the place at the category's
    precision."""
    categories = list(Category.objects.filter(active=True).only(
        "service_code", "name_fr", "name_en", "order"))
    codes = {c.service_code for c in categories}
    category = (request.GET.get("categorie") or "").strip()
    if category not in codes:
        category = ""
    page = Paginator(public.open_requests(category), PUBLIC_PAGE_SIZE).get_page(
        request.GET.get("page"))
    rows = [public.record(row) for row in page]
    points = [{"lat": row["latitude"], "lon": row["longitude"],
               "label": f"{row['reference']} — {row['category_name']}",
               "url": f"#req-{row['reference']}"} for row in rows
              if row["latitude"] is not None and row["longitude"] is not None]
    params = request.GET.copy()
    params.pop("page", None)
    return maps.allow_tiles(render(request, "requetes/public_map.html", {
        "categories": categories, "category": category, "page": page, "rows": rows,
        "points": points, "params": params.urlencode(),
        "map_config": maps.config()}))


@login_required
@require_POST
def follow(request, reference):
    """"Me too" from the nearby list: only open requests, identified by reference."""
    obj = get_object_or_404(ServiceRequest, reference=reference,
                            status__in=ServiceRequest.OPEN_STATUSES)
    services.follow(obj, user=request.user)
    messages.success(request, _("You follow request %(ref)s: you will get its updates.")
                     % {"ref": obj.reference})
    return redirect("requetes:detail", reference=obj.reference)


@login_required
@require_GET
def photo(request, pk, size="full"):
    item = get_object_or_404(RequestPhoto.objects.select_related("request"), pk=pk)
    # The requester's and staff's only: a follower sees the public face, without photos.
    if not can_view_photos(request.user, item.request):
        raise Http404
    field = item.thumbnail if size == "thumb" else item.image
    try:
        handle = field.open("rb")
    except (FileNotFoundError, ValueError):
        raise Http404 from None
    response = FileResponse(handle, content_type="image/jpeg")
    response["Cache-Control"] = "private, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    return response
