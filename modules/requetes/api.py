"""App API of `requetes` under ``/api/v1/`` (DRF): categories with their questions,
create a request (multipart with photos; a retried upload with the same idempotency key
returns the first request), my requests, one of mine, follow/unfollow, nearby open
requests, comment, and the photos of one of mine (served to the requester and staff with
their bearer token, never to a follower).  Everything goes through ``services``; errors are
JSON naming the field (services' ValidationError is turned into a 400 by the hub's
exception handler), and a parameter is named in the errors as the schema names it
(``latitude``/``longitude``, as in the request body; Open311 keeps its ``lat``/``long``)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch, Q
from django.http import FileResponse, Http404
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response

from hub.api.permissions import OAuth2TokenHasViewScopes

from . import public, services
from .models import Category, RequestPhoto, ServiceRequest
from .services.permissions import can_view_photos


class QuestionSerializer(serializers.Serializer):
    code = serializers.CharField()
    label = serializers.CharField()
    datatype = serializers.CharField()
    required = serializers.BooleanField()
    help_text = serializers.CharField()
    choices = serializers.SerializerMethodField()
    order = serializers.IntegerField(source="sort_order")

    def get_choices(self, obj) -> list[dict]:
        return [{"key": key, "label": label} for key, label in obj.choice_list()]


class CategorySerializer(serializers.Serializer):
    service_code = serializers.CharField()
    name = serializers.CharField()
    description = serializers.CharField()
    group = serializers.CharField()
    keywords = serializers.CharField()
    icon = serializers.CharField()
    department = serializers.CharField(source="department.name")
    service_level_days = serializers.IntegerField()
    questions = QuestionSerializer(many=True)


class TextField(serializers.CharField):
    """A string, and only a string: DRF's CharField turns a number into text, so
    ``"category": 5`` would name the category of id 5 and ``"description": 12`` would be
    a description; a wrong type is a clear 400 instead."""

    default_error_messages = {"not_text": _lazy("Must be text, not a number or a list.")}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("not_text")
        return super().to_internal_value(data)


class RequestCreateSerializer(serializers.Serializer):
    category = TextField(help_text="service_code of the category")
    description = TextField(max_length=4000)
    latitude = serializers.FloatField(required=False, allow_null=True, default=None)
    longitude = serializers.FloatField(required=False, allow_null=True, default=None)
    address = serializers.CharField(
        required=False, allow_blank=True, max_length=255,
        help_text="Without latitude and longitude, placed from the city's civic address "
                  "register")
    description_public = serializers.BooleanField(required=False, default=False)
    answers = serializers.JSONField(required=False)
    photos = serializers.ListField(child=serializers.FileField(), required=False,
                                   max_length=services.MAX_PHOTOS)
    idempotency_key = serializers.UUIDField(required=False)


class CommentSerializer(serializers.Serializer):
    message = TextField(max_length=4000)


def photo_urls(obj: ServiceRequest, http_request) -> list[dict]:
    """The request's photos as the app downloads them: absolute URLs of the API's photo
    routes, answered with the same bearer token (``requetes:read``)."""
    photos = []
    for item in obj.photos.all():
        kwargs = {"reference": obj.reference, "photo_id": item.pk}
        urls = {name: reverse(f"requests-{name}", kwargs=kwargs)
                for name in ("photo", "photo-thumbnail")}
        if http_request is not None:
            urls = {name: http_request.build_absolute_uri(url) for name, url in urls.items()}
        photos.append({"id": item.pk, "url": urls["photo"],
                       "thumbnail_url": urls["photo-thumbnail"], "width": item.width,
                       "height": item.height, "created_at": item.created_at.isoformat()})
    return photos


# What ``request_dict`` and ``photo_urls`` read of the requester's own requests (the list).
LIST_FIELDS = ("reference", "status", "closure_reason", "reopened", "latitude", "longitude",
               "address", "created_at", "due_date", "description", "answers",
               "category__service_code", "category__name_fr", "category__name_en",
               "department__name", "department__phone", "department__email")
LIST_PHOTO_FIELDS = ("request_id", "width", "height", "created_at")


def request_dict(obj: ServiceRequest, *, mine: bool, http_request=None) -> dict:
    """A request as the app shows it: the requester's own request whole (their
    description, answers, exact place, photos); anyone else's (a follower's) through the
    public view (``public.py``): the description only when it may be public, the place at
    the category's precision, never the photos."""
    data = {
        "reference": obj.reference, "category": obj.category.service_code,
        "category_name": obj.category.name, "status": obj.status,
        "closure_reason": obj.closure_reason, "reopened": obj.reopened,
        "latitude": obj.latitude, "longitude": obj.longitude, "address": obj.address,
        "created_at": obj.created_at.isoformat(),
        "due_date": obj.due_date.isoformat() if obj.due_date else None,
        "department": {"name": obj.department.name, "phone": obj.department.phone,
                       "email": obj.department.email},
    }
    if mine:
        data["description"] = obj.description
        data["answers"] = obj.answers
        data["photos"] = photo_urls(obj, http_request)
        return data
    row = next(public.rows(ServiceRequest.objects.filter(pk=obj.pk)))
    data["latitude"], data["longitude"] = row["latitude"], row["longitude"]
    data["address"] = row["address"]
    if row["description"]:
        data["description"] = row["description"]
    return data


REFERENCE = OpenApiParameter("reference", str, OpenApiParameter.PATH,
                             description="The request's reference, e.g. 2026-000123")
PHOTO_ID = OpenApiParameter("photo_id", int, OpenApiParameter.PATH,
                            description="The photo's id, from the request's `photos`")
LATITUDE = OpenApiParameter(
    "latitude", float, description="Latitude of the place (WGS 84, e.g. 45.2556). Required.")
LONGITUDE = OpenApiParameter(
    "longitude", float, description="Longitude of the place (WGS 84, e.g. -74.1323). "
                                    "Required.")
LAT_ALIAS = OpenApiParameter("lat", float, deprecated=True,
                             description="Former name of `latitude`, still accepted; errors "
                                         "name `latitude`.")
LONG_ALIAS = OpenApiParameter("long", float, deprecated=True,
                              description="Former name of `longitude`, still accepted; "
                                          "errors name `longitude`.")
PHOTO_RESPONSES = {
    (200, "image/jpeg"): OpenApiResponse(
        OpenApiTypes.BINARY, description="The photo, re-encoded by the server (JPEG, no "
                                         "metadata)."),
    404: OpenApiResponse(description="No such photo of one of your requests (a follower "
                                     "never sees the photos)."),
}


class JSONErrorsNegotiation(BaseContentNegotiation):
    """A photo route answers a file, or a JSON error whatever the ``Accept`` header
    (an app asking for ``image/*`` gets its 404 as JSON, not a 406)."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


def location_param(params, name: str, alias: str):
    """``latitude`` (or its former name ``lat``): the schema's name wins."""
    value = params.get(name)
    return params.get(alias) if value in (None, "") else value



class CategoryViewSet(viewsets.ReadOnlyModelViewSet):
    """Active request categories with their questions (public; a bearer token needs
    either requetes scope, so an app that only submits can still show the form)."""

    # Listed with the scope check: a view's own permission_classes replace the defaults.
    permission_classes = [AllowAny, OAuth2TokenHasViewScopes]
    required_scopes = [("requetes:read", "requetes:write")]
    serializer_class = CategorySerializer
    lookup_field = "service_code"

    def get_queryset(self):
        return (Category.objects.filter(active=True).select_related("department")
                .prefetch_related("questions"))


class ServiceRequestViewSet(viewsets.ViewSet):
    """The signed-in citizen's requests.  Bearer tokens: ``requetes:read`` to read
    (list, retrieve, nearby), ``requetes:write`` to create, follow and comment."""

    permission_classes = [IsAuthenticated, OAuth2TokenHasViewScopes]
    required_scopes = {"GET": ["requetes:read"], "HEAD": ["requetes:read"],
                       "OPTIONS": ["requetes:read"], "*": ["requetes:write"]}
    parser_classes = [JSONParser, MultiPartParser, FormParser]
    lookup_field = "reference"

    def _mine(self, request, reference) -> ServiceRequest:
        obj = ServiceRequest.objects.select_related("category", "department").filter(
            Q(citizen=request.user) | Q(followers=request.user),
            reference=reference).distinct().first()
        if obj is None:
            raise Http404
        return obj

    # A list of the resident's requests (the schema said one object: tests/test_api_fuzzing);
    # drf-spectacular makes a ``list`` action's answer an array of this item.
    @extend_schema(operation_id="requests_list", responses={200: {"type": "object"}})
    def list(self, request):
        # Only the columns ``request_dict`` shows (the app's hot read): the requests with
        # their category and department in one query, their photos' in one more.
        photos = Prefetch("photos", queryset=RequestPhoto.objects.only(*LIST_PHOTO_FIELDS))
        qs = (ServiceRequest.objects.filter(citizen=request.user)
              .select_related("category", "department").only(*LIST_FIELDS)
              .prefetch_related(photos)[:200])
        return Response([request_dict(obj, mine=True, http_request=request) for obj in qs])

    @extend_schema(operation_id="requests_retrieve", parameters=[REFERENCE],
                   responses={200: dict})
    def retrieve(self, request, reference=None):
        obj = self._mine(request, reference)
        mine = obj.citizen_id == request.user.pk
        data = request_dict(obj, mine=mine, http_request=request)
        data["timeline"] = [{
            "kind": event.kind, "to_status": event.to_status,
            "public_message": event.public_message, "by_staff": event.by_staff,
            "created_at": event.created_at.isoformat()}
            for event in services.public_events(obj, requester=mine)]
        return Response(data)

    @extend_schema(request=RequestCreateSerializer, responses={201: dict})
    def create(self, request):
        serializer = RequestCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        photos = data.get("photos") or []
        key = data.get("idempotency_key") or request.headers.get("Idempotency-Key") or None
        obj = services.create_request(
            actor=request.user, category=data["category"], description=data["description"],
            latitude=data["latitude"], longitude=data["longitude"],
            address=data.get("address", ""), description_public=data["description_public"],
            answers=data.get("answers") or {}, photos=photos,
            channel=ServiceRequest.Channel.APP, submission_key=key)
        return Response(request_dict(obj, mine=True, http_request=request),
                        status=status.HTTP_201_CREATED)

    @extend_schema(request=None, parameters=[REFERENCE], responses={200: dict})
    @action(detail=True, methods=["post", "delete"])
    def follow(self, request, reference=None):
        obj = ServiceRequest.objects.filter(reference=reference).first()
        if obj is None:
            raise Http404
        if request.method == "DELETE":
            services.unfollow(obj, user=request.user)
            return Response({"following": False})
        if not (obj.is_open or obj.followers.filter(pk=request.user.pk).exists()):
            raise Http404
        services.follow(obj, user=request.user)
        return Response({"following": True})

    @extend_schema(request=CommentSerializer, parameters=[REFERENCE], responses={201: dict})
    @action(detail=True, methods=["post"])
    def comment(self, request, reference=None):
        obj = self._mine(request, reference)
        serializer = CommentSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            event = services.add_comment(obj, actor=request.user,
                                         message=serializer.validated_data["message"],
                                         photos=request.FILES.getlist("photos"))
        except PermissionDenied:
            raise Http404 from None
        return Response({"created_at": event.created_at.isoformat()},
                        status=status.HTTP_201_CREATED)

    @extend_schema(parameters=[
        OpenApiParameter("category", str, description="service_code of the category. "
                                                      "Required."),
        LATITUDE, LONGITUDE, LAT_ALIAS, LONG_ALIAS], responses={200: dict})
    @action(detail=False, methods=["get"])
    def nearby(self, request):
        """Open requests of the same category within 50 m, in the public view
        (``public.py``: no personal data, the place at the category's precision).
        The place is ``latitude`` and ``longitude``, as in a new request and in the
        errors (``lat``/``long``, their former names, are still accepted)."""
        params = request.query_params
        category = Category.objects.filter(
            service_code=params.get("category", ""), active=True).first()
        if category is None:
            raise serializers.ValidationError({"category": [_("Unknown category.")]})
        lat, lon = services.validate_location(location_param(params, "latitude", "lat"),
                                              location_param(params, "longitude", "long"))
        return Response([{
            "reference": row["reference"], "status": row["status"],
            "created_at": row["created_at"].isoformat(), "address": row["address"],
            "distance_m": round(row["distance_m"]), "description": row["description"],
        } for row in public.nearby_open(category, lat, lon)])

    def _photo(self, request, reference, photo_id, size: str):
        """A photo of a request, to its requester and staff only (``can_view_photos``,
        as on the site): a follower, another resident or an unknown id get a 404."""
        item = (RequestPhoto.objects.select_related("request")
                .filter(pk=photo_id, request__reference=reference).first())
        if item is None or not can_view_photos(request.user, item.request):
            raise Http404
        field = item.thumbnail if size == "thumb" else item.image
        try:
            handle = field.open("rb")
        except (FileNotFoundError, ValueError):
            raise Http404 from None
        response = FileResponse(handle, content_type="image/jpeg")
        response["Cache-Control"] = "private, max-age=3600"
        return response

    @extend_schema(operation_id="requests_photo", parameters=[REFERENCE, PHOTO_ID],
                   responses=PHOTO_RESPONSES)
    @action(detail=True, methods=["get"], url_path=r"photos/(?P<photo_id>[0-9]+)",
            url_name="photo", content_negotiation_class=JSONErrorsNegotiation)
    def photo(self, request, reference=None, photo_id=None):
        """One photo of one of your requests (its `photos[].url`)."""
        return self._photo(request, reference, photo_id, "full")

    @extend_schema(operation_id="requests_photo_thumbnail", parameters=[REFERENCE, PHOTO_ID],
                   responses=PHOTO_RESPONSES)
    @action(detail=True, methods=["get"], url_path=r"photos/(?P<photo_id>[0-9]+)/thumbnail",
            url_name="photo-thumbnail", content_negotiation_class=JSONErrorsNegotiation)
    def photo_thumbnail(self, request, reference=None, photo_id=None):
        """The thumbnail of one photo of one of your requests (its `photos[].thumbnail_url`)."""
        return self._photo(request, reference, photo_id, "thumb")
