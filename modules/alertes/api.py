"""API of `alertes` (``/api/v1/``): published alerts and topics (public), the signed-in
citizen's own subscription (read)."""

from django.utils import timezone
from django.utils.translation import get_language
from rest_framework import mixins, serializers, viewsets
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response

from . import services
from .models import PUBLISHED, Alert, Topic


class AlertSerializer(serializers.ModelSerializer):
    title = serializers.SerializerMethodField()
    body = serializers.SerializerMethodField()
    active = serializers.SerializerMethodField()
    topics = serializers.SlugRelatedField(many=True, read_only=True, slug_field="slug")
    zones = serializers.SlugRelatedField(many=True, read_only=True, slug_field="slug",
                                         source="districts")

    class Meta:
        model = Alert
        fields = ["id", "identifier", "kind", "references", "severity", "status", "title",
                  "body", "topics", "zones", "sent_at", "expires_at", "active"]

    def get_title(self, alert) -> str:
        return alert.title(get_language())

    def get_body(self, alert) -> str:
        return alert.body(get_language())

    def get_active(self, alert) -> bool:
        return alert.is_active()


class TopicSerializer(serializers.ModelSerializer):
    name = serializers.SerializerMethodField()

    class Meta:
        model = Topic
        fields = ["slug", "name", "is_emergency"]

    def get_name(self, topic) -> str:
        return topic.name(get_language())


class AlertViewSet(viewsets.ReadOnlyModelViewSet):
    """Published alerts; ``?active=1`` keeps the alerts in force."""

    serializer_class = AlertSerializer
    permission_classes = [AllowAny]

    def get_queryset(self):
        rows = Alert.objects.filter(status__in=PUBLISHED).prefetch_related(
            "topics", "districts").order_by("-sent_at", "-pk")
        if self.request.query_params.get("active") in ("1", "true"):
            rows = rows.filter(status__in=[Alert.Status.SENDING, Alert.Status.SENT]) \
                .exclude(kind=Alert.Kind.CANCEL).exclude(expires_at__lte=timezone.now())
        return rows


class TopicViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = TopicSerializer
    permission_classes = [AllowAny]
    queryset = Topic.objects.all()
    lookup_field = "slug"


class SubscriptionSerializer(serializers.Serializer):
    active = serializers.BooleanField()
    language = serializers.CharField()
    district = serializers.CharField(allow_null=True)
    quiet_hours = serializers.ListField(child=serializers.CharField())
    topics = serializers.ListField(child=serializers.CharField())
    addresses = serializers.ListField(child=serializers.DictField())


class MySubscriptionViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """The signed-in citizen's own subscription (never anyone else's)."""

    serializer_class = SubscriptionSerializer
    permission_classes = [IsAuthenticated]

    def get_queryset(self):
        return Topic.objects.none()

    def list(self, request, *args, **kwargs):
        subscriber = services.subscriber_for(request.user)
        return Response({
            "active": subscriber.active, "language": subscriber.language,
            "district": subscriber.district.slug if subscriber.district else None,
            "quiet_hours": [str(subscriber.quiet_start or ""), str(subscriber.quiet_end or "")],
            "topics": list(subscriber.topics.values_list("slug", flat=True)),
            "addresses": [{"channel": a.channel, "address": a.value, "verified": a.verified,
                           "failing": a.failing} for a in subscriber.addresses.all()],
        })
