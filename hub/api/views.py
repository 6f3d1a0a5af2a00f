"""Hub endpoints of the versioned API: the signed-in user and the enabled modules."""

from django.utils import translation
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularSwaggerView
from rest_framework import generics, serializers
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from hub.accounts import services
from hub.i18n import localized
from hub.models import User
from hub.plugins.manager import enabled_modules
from hub.search import MAX_QUERY_LENGTH, search

from .permissions import OAuth2TokenHasViewScopes


class MeSerializer(serializers.ModelSerializer):
    departments = serializers.SlugRelatedField(many=True, read_only=True, slug_field="slug")

    class Meta:
        model = User
        fields = [
            "id", "email", "first_name", "last_name", "phone", "preferred_language",
            "civic_address", "postal_code", "is_staff", "departments",
        ]
        read_only_fields = ["id", "email", "is_staff", "departments"]

    def validate_postal_code(self, value):
        """Same rule as the profile form: ``j6t2m2`` is stored as ``J6T 2M2``."""
        return services.normalise_postal_code(value)


class MeView(generics.RetrieveUpdateAPIView):
    """The signed-in user's own account; they may change their contact details."""

    serializer_class = MeSerializer
    permission_classes = [IsAuthenticated, OAuth2TokenHasViewScopes]
    required_scopes = {"GET": ["profile"], "PATCH": ["profile"], "OPTIONS": ["profile"]}
    http_method_names = ["get", "patch", "options"]

    def get_object(self):
        return self.request.user


class ModuleSerializer(serializers.Serializer):
    slug = serializers.CharField()
    name_fr = serializers.CharField()
    name_en = serializers.CharField()
    name = serializers.CharField(help_text=_("Name in the request's language."))
    description_fr = serializers.CharField()
    description_en = serializers.CharField()
    icon = serializers.CharField()
    order = serializers.IntegerField()
    version = serializers.CharField()


class ModulesView(APIView):
    """Enabled modules and their metadata, in menu order, so an app can build its menu."""

    permission_classes = [AllowAny]

    @extend_schema(responses=ModuleSerializer(many=True))
    def get(self, request):
        language = (getattr(request, "LANGUAGE_CODE", None) or "fr")[:2]
        payload = []
        for meta in enabled_modules():
            item = {key: meta[key] for key in ModuleSerializer().fields if key in meta}
            item["name"] = localized(meta, "name", language)
            payload.append(item)
        return Response(ModuleSerializer(payload, many=True).data)


class SearchQuerySerializer(serializers.Serializer):
    q = serializers.CharField(max_length=MAX_QUERY_LENGTH, help_text=_("Words to look for."))
    lang = serializers.ChoiceField(choices=["fr", "en"], required=False,
                                   help_text=_("Language of the content (default: fr)."))


class SearchHitSerializer(serializers.Serializer):
    title = serializers.CharField()
    url = serializers.CharField()
    type = serializers.CharField()
    summary = serializers.CharField()


class SearchView(APIView):
    """Search the site's pages and what every module makes searchable (public content)."""

    permission_classes = [AllowAny]

    @extend_schema(parameters=[SearchQuerySerializer], responses=SearchHitSerializer(many=True))
    def get(self, request):
        params = SearchQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        language = params.validated_data.get("lang") or "fr"
        with translation.override(language):
            hits = search(params.validated_data["q"], language=language, request=request)
            return Response([hit.as_dict() for hit in hits])


# The docs page, its "Authorize" popup (/o/authorize/, the sign-in and consent screens) and
# the redirect page are all on the hub's origin, so they share one opener policy: the
# hub's ``same-origin``.  drf-spectacular sends ``unsafe-none`` on the docs page (made for
# providers on other origins); against /o/authorize/'s ``same-origin`` that mismatch puts
# the popup in a new browsing context group, severs ``window.opener``, and the code never
# comes back to Swagger UI.  Matching policies keep the popup attached, and no page of the
# hub has to weaken its own.
DOCS_OPENER_POLICY = "same-origin"


class ApiDocsView(SpectacularSwaggerView):
    """``/api/docs/``: drf-spectacular's Swagger UI with the hub's opener policy."""

    def get(self, request, *args, **kwargs):
        response = super().get(request, *args, **kwargs)
        response["Cross-Origin-Opener-Policy"] = DOCS_OPENER_POLICY
        return response


def swagger_oauth2_redirect(request):
    """Where the docs' "Authorize" button comes back (Swagger UI's default oauth2RedirectUrl,
    next to the page): Swagger UI's own redirect page, its script from the local sidecar,
    served here with the docs page's opener policy so it still sees ``window.opener``."""
    from django.http import HttpResponse
    from django.templatetags.static import static
    from django.utils.html import escape

    script = static("drf_spectacular_sidecar/swagger-ui-dist/oauth2-redirect.js")
    response = HttpResponse(
        '<!doctype html><html lang="en-US"><head><meta charset="utf-8">'
        "<title>Swagger UI: OAuth2 Redirect</title></head>"
        f'<body><script src="{escape(script)}"></script></body></html>')
    response["Cross-Origin-Opener-Policy"] = DOCS_OPENER_POLICY
    return response


def schema_endpoints(endpoints, **kwargs):
    """drf-spectacular preprocessing hook: the schema documents ``/api/v1/`` only (the
    Wagtail API v2 and the admin's internal API are documented by Wagtail)."""
    return [endpoint for endpoint in endpoints if endpoint[0].startswith("/api/v1/")]


def not_found(request, *args, **kwargs):
    """Unknown API paths answer JSON, not the site's HTML 404 page."""
    from django.http import JsonResponse
    from django.utils.translation import gettext

    return JsonResponse(
        {"detail": gettext("No API route matches %(path)s. See /api/v1/ and /api/docs/.")
         % {"path": request.path}},
        status=404,
    )
