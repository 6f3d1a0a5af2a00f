"""App API of `requetes` under ``/api/v1/`` (DRF): categories with their questions,
create a request (multipart with photos; a retried upload with the same idempotency key
returns the first request), my requests, one of mine, follow/unfollow, nearby open
requests, comment.  Everything goes through ``services``; errors are JSON naming the
field (services' ValidationError is turned into a 400 by the hub's exception handler)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response

from hub.api.permissions import OAuth2TokenHasViewScopes

from . import public, services
from .models import Category, ServiceRequest


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


class RequestCreateSerializer(serializers.Serializer):
    category = serializers.CharField(help_text="service_code of the category")
    description = serializers.CharField(max_length=4000)
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
    message = serializers.CharField(max_length=4000)


def request_dict(obj: ServiceRequest, *, mine: bool) -> dict:
    """A request as the app shows it: the requester's own request whole (their
    description, answers, exact place); anyone else's (a follower's) through the public
    view (``public.py``): the description only when it may be public, the place at the
    category's precision."""
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
        return data
    row = next(public.rows(ServiceRequest.objects.filter(pk=obj.pk)))
    data["latitude"], data["longitude"] = row["latitude"], row["longitude"]
    data["address"] = row["address"]
    if row["description"]:
        data["description"] = row["description"]
    return data


REFERENCE = OpenApiParameter("reference", str, OpenApiParameter.PATH,
                             description="The request's reference, e.g. 2026-000123")


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

    @extend_schema(operation_id="requests_list", responses={200: dict})
    def list(self, request):
        qs = ServiceRequest.objects.filter(citizen=request.user).select_related(
            "category", "department")[:200]
        return Response([request_dict(obj, mine=True) for obj in qs])

    @extend_schema(operation_id="requests_retrieve", parameters=[REFERENCE],
                   responses={200: dict})
    def retrieve(self, request, reference=None):
        obj = self._mine(request, reference)
        mine = obj.citizen_id == request.user.pk
        data = request_dict(obj, mine=mine)
        data["timeline"] = [{
            "kind": event.kind, "to_status": event.to_status,
            "public_message": event.public_message, "by_staff": event.by_staff,
            "created_at": event.created_at.isoformat()} for event in services.public_events(obj)]
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
        return Response(request_dict(obj, mine=True), status=status.HTTP_201_CREATED)

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

    @extend_schema(parameters=[OpenApiParameter("category", str), OpenApiParameter("lat", float),
                               OpenApiParameter("long", float)], responses={200: dict})
    @action(detail=False, methods=["get"])
    def nearby(self, request):
        """Open requests of the same category within 50 m, in the public view
        (``public.py``: no personal data, the place at the category's precision)."""
        category = Category.objects.filter(
            service_code=request.query_params.get("category", ""), active=True).first()
        if category is None:
            raise serializers.ValidationError({"category": [_("Unknown category.")]})
        lat, lon = services.validate_location(request.query_params.get("lat"),
                                              request.query_params.get("long"))
        return Response([{
            "reference": row["reference"], "status": row["status"],
            "created_at": row["created_at"].isoformat(), "address": row["address"],
            "distance_m": round(row["distance_m"]), "description": row["description"],
        } for row in public.nearby_open(category, lat, lon)])
