"""API of `alertes` (``/api/v1/``): published alerts and topics (public), the signed-in
citizen's own subscription: read it, change topics, language, zone and quiet hours, add
and verify a phone number, register and remove push devices.  Every write goes through
``services`` (or ``push``) and only ever touches ``request.user``'s own subscriber.

OAuth2 bearer tokens: ``alertes:read`` reads, ``alertes:write`` changes."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404
from django.utils.translation import get_language
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response

from hub.api.permissions import OAuth2TokenHasViewScopes

from . import notices, services
from .channels import channel_choices
from .channels.webpush import APP_PREFIXES
from .models import PUBLISHED, Address, Alert, Channel, ConsentRecord, Subscriber, Topic
from .services import push_subscriptions

READ_SCOPES = ["alertes:read"]


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
    permission_classes = [AllowAny, OAuth2TokenHasViewScopes]
    required_scopes = READ_SCOPES

    def get_queryset(self):
        rows = Alert.objects.filter(status__in=PUBLISHED).prefetch_related(
            "topics", "districts").order_by("-sent_at", "-pk")
        if self.request.query_params.get("active") in ("1", "true"):
            rows = rows.active()
        return rows


class TopicViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = TopicSerializer
    permission_classes = [AllowAny, OAuth2TokenHasViewScopes]
    required_scopes = READ_SCOPES
    queryset = Topic.objects.all()
    lookup_field = "slug"


# ``list`` answers the one subscription, not a list of them: not an array in the schema.
@extend_schema_serializer(many=False)
class SubscriptionSerializer(serializers.Serializer):
    active = serializers.BooleanField()
    language = serializers.CharField()
    district = serializers.CharField(allow_null=True)
    civic_address = serializers.CharField()
    quiet_hours = serializers.ListField(child=serializers.CharField())
    topics = serializers.ListField(child=serializers.CharField())
    addresses = serializers.ListField(child=serializers.DictField())
    notice_channels = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="for each personal notice topic (e.g. \"requests\"), the channels its "
                  "notices come on")


class PreferencesSerializer(serializers.Serializer):
    """What a citizen may change; fields left out keep their value."""

    topics = serializers.ListField(child=serializers.SlugField(), required=False,
                                   max_length=100)
    language = serializers.ChoiceField(choices=["fr", "en"], required=False)
    district = serializers.SlugField(required=False, allow_null=True,
                                     help_text="a district's slug; leave it out to be "
                                               "placed from civic_address or point")
    civic_address = serializers.CharField(
        required=False, allow_blank=True, max_length=255,
        help_text="where you live, e.g. \"41 rue Victoria\": your district is the one of "
                  "this address in the city's register")
    point = serializers.ListField(
        child=serializers.FloatField(), min_length=2, max_length=2, required=False,
        help_text="[latitude, longitude] where you live (wins over civic_address)")
    quiet_hours = serializers.ListField(child=serializers.TimeField(), min_length=2,
                                        max_length=2, required=False, allow_null=True,
                                        help_text="[start, end], e.g. [\"22:00\", \"07:00\"]; "
                                                  "null for none")
    notice_channels = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField(max_length=10),
                                    max_length=20),
        required=False,
        help_text="personal notices: {topic: [channels]}, e.g. {\"requests\": [\"email\", "
                  "\"sms\"]}; topics are those the modules declare, channels any but "
                  "voice; topics left out keep their choice")

    def validate_notice_channels(self, value):
        try:
            return notices.clean_preferences(value)
        except ValidationError as exc:
            raise serializers.ValidationError(exc.message_dict["notice_channels"]) from exc

    def validate_topics(self, slugs):
        found = {t.slug: t for t in Topic.objects.filter(slug__in=slugs)}
        unknown = [slug for slug in slugs if slug not in found]
        if unknown:
            raise serializers.ValidationError(f"Unknown topic: {unknown[0]}")
        return list(found.values())

    def validate_point(self, point):
        latitude, longitude = point
        if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
            raise serializers.ValidationError("Latitude is between -90 and 90, longitude "
                                              "between -180 and 180.")
        return (latitude, longitude)

    def validate_district(self, slug):
        if slug is None:
            return None
        from hub.models import District

        district = District.objects.filter(slug=slug).first()
        if district is None:
            raise serializers.ValidationError(f"Unknown district: {slug}")
        return district


class PhoneSerializer(serializers.Serializer):
    number = serializers.CharField(max_length=40)
    channel = serializers.ChoiceField(choices=[Channel.SMS, Channel.VOICE], default=Channel.SMS,
                                      help_text="sms: a 6-digit code is texted to verify it")


class NewAddressSerializer(serializers.Serializer):
    """An address on any registered channel a resident types an address for: email,
    sms, voice, and the channels other modules add (``alertes_channels``)."""

    channel = serializers.ChoiceField(choices=())
    address = serializers.CharField(max_length=500,
                                    help_text="as the channel expects it: an email address, "
                                              "a phone number, a web address…")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["channel"].choices = channel_choices(addable=True)


class CodeSerializer(serializers.Serializer):
    code = serializers.RegexField(r"^\s*\d{6}\s*$", max_length=12,
                                  error_messages={"invalid": "Give the 6-digit code."})


class DeviceSerializer(serializers.Serializer):
    """An app's device token (``fcm:…``/``apns:…``) or a browser's Web Push subscription
    (``endpoint`` with ``keys.p256dh`` and ``keys.auth``)."""

    token = serializers.CharField(required=False, max_length=420)
    endpoint = serializers.CharField(required=False, max_length=500)
    keys = serializers.DictField(child=serializers.CharField(max_length=200), required=False)

    def validate(self, data):
        if bool(data.get("token")) == bool(data.get("endpoint")):
            raise serializers.ValidationError("Give either a device token or a Web Push "
                                              "endpoint with its keys.")
        if data.get("endpoint") and not data.get("keys"):
            raise serializers.ValidationError({"keys": "A Web Push subscription needs its "
                                                       "p256dh and auth keys."})
        return data


class VerificationSerializer(serializers.Serializer):
    method = serializers.ChoiceField(choices=["link", "code"])
    state = serializers.ChoiceField(
        choices=["sent", "sandbox", "failed", "pending"],
        help_text="sent: the provider accepted it; sandbox: no provider on this test "
                  "server, it went to the test box; failed: see detail; pending: not "
                  "handed over yet")
    detail = serializers.CharField(help_text="What to tell the user, in their language.")


class AddressSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    channel = serializers.CharField()
    address = serializers.CharField()
    verified = serializers.BooleanField()
    failing = serializers.BooleanField()
    verification = VerificationSerializer(
        required=False, help_text="Only in the answer that adds an unverified email or "
                                  "mobile: what became of its confirmation link or code.")


def verification_dict(address: Address) -> dict | None:
    """What became of the confirmation just sent to a new address (a link by email, a
    code by SMS), so an app tells its user the truth: "sent" only when the provider took
    it, the reason when it did not."""
    outcome = getattr(address, "code_sending", None)
    if outcome is None:
        return None
    by_email = address.channel == Channel.EMAIL
    return {"method": "link" if by_email else "code", "state": outcome.state,
            "detail": outcome.message(by_email)}


def address_dict(address: Address) -> dict:
    value = address.value
    if address.channel == Channel.PUSH and not value.startswith(APP_PREFIXES):
        value = value[:60] + "…" if len(value) > 60 else value
    return {"id": address.pk, "channel": address.channel, "address": value,
            "verified": address.verified, "failing": address.failing}


def _bad_request(exc: ValidationError) -> Response:
    if hasattr(exc, "error_dict"):
        return Response({k: [str(m) for e in v for m in e.messages]
                         for k, v in exc.error_dict.items()}, status=400)
    return Response({"detail": " ".join(str(m) for m in exc.messages)}, status=400)


def _renamed(exc: ValidationError, field: str) -> ValidationError:
    """``add_address``'s error on ``value`` named after this endpoint's own field."""
    if hasattr(exc, "error_dict") and "value" in exc.error_dict:
        errors = dict(exc.error_dict)
        errors[field] = errors.pop("value")
        return ValidationError(errors)
    return exc


ADDRESS_ID = OpenApiParameter("address_id", int, OpenApiParameter.PATH,
                              description="One of your addresses (from GET)")


class MySubscriptionViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """The signed-in citizen's own subscription (never anyone else's): an id of another
    person's address is a 404, like an id that does not exist."""

    serializer_class = SubscriptionSerializer
    # Listing the permission classes replaces the defaults: the scope check is named again.
    permission_classes = [IsAuthenticated, OAuth2TokenHasViewScopes]
    required_scopes = {"GET": ["alertes:read"], "HEAD": ["alertes:read"],
                       "OPTIONS": ["alertes:read"], "*": ["alertes:write"]}

    def get_queryset(self):
        return Topic.objects.none()

    def _subscriber(self):
        return services.subscriber_for(self.request.user)

    def _mine(self, address_id, channels) -> Address:
        address = Address.objects.filter(pk=address_id, channel__in=channels,
                                         subscriber__user=self.request.user).first()
        if address is None:
            raise Http404
        return address

    def list(self, request, *args, **kwargs):
        # The district's slug comes with the subscriber (not its geometry): one query.
        subscriber = (Subscriber.objects.filter(user=request.user)
                      .select_related("district").defer("district__geometry").first()
                      or self._subscriber())
        return Response({
            "active": subscriber.active, "language": subscriber.language,
            "district": subscriber.district.slug if subscriber.district else None,
            "civic_address": subscriber.civic_address,
            "quiet_hours": [str(subscriber.quiet_start or ""), str(subscriber.quiet_end or "")],
            "topics": list(subscriber.topics.values_list("slug", flat=True)),
            "addresses": [address_dict(a) for a in subscriber.addresses.all()],
            "notice_channels": notices.chosen_channels(subscriber),
        })

    @extend_schema(request=PreferencesSerializer, responses={200: SubscriptionSerializer})
    @action(detail=False, methods=["patch"], url_path="preferences")
    def preferences(self, request):
        """Topics (emergency topics are always kept), language, zone and quiet hours;
        every topic added or removed is recorded as a consent.  ``notice_channels``
        chooses the channels of personal notices per topic (an unknown topic or a channel
        not offered is a 400 on ``notice_channels``, and nothing is saved).  The zone is
        a district's slug, or follows a ``civic_address`` (the city's address register) or a
        ``point``; an address not found is a 400 and nothing changes."""
        data = PreferencesSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        subscriber = self._subscriber()
        given = data.validated_data
        quiet = given.get("quiet_hours", [subscriber.quiet_start, subscriber.quiet_end])
        quiet = quiet or [None, None]  # null: no quiet hours
        placing = "civic_address" in given or "point" in given
        # A new address or point places the subscriber unless a district is also given.
        district = given.get("district", None if placing else subscriber.district)
        try:
            with transaction.atomic():  # all or nothing, notice channels included
                services.update_preferences(
                    subscriber,
                    topics=given["topics"] if "topics" in given else subscriber.topics.all(),
                    language=given.get("language", subscriber.language),
                    district=district, quiet_start=quiet[0], quiet_end=quiet[1],
                    civic_address=given.get("civic_address"), point=given.get("point"),
                    method=ConsentRecord.Method.API, actor=request.user)
                if "notice_channels" in given:
                    notices.set_preferences(subscriber, given["notice_channels"])
        except ValidationError as exc:
            return _bad_request(exc)
        return self.list(request)

    @extend_schema(request=PhoneSerializer, responses={201: AddressSerializer})
    @action(detail=False, methods=["post"], url_path="phones")
    def phones(self, request):
        """Add a phone number: a mobile for text messages gets a 6-digit code to send
        back to ``phones/{id}/verify/`` (5 tries, 30 minutes)."""
        return self._add_address(request, PhoneSerializer, "number")

    @extend_schema(request=NewAddressSerializer, responses={201: AddressSerializer})
    @action(detail=False, methods=["post"], url_path="addresses")
    def addresses(self, request):
        """Add an address on any channel offered (``channel``: one of the codes listed):
        each channel checks and normalises it; an email gets a confirmation link, a
        mobile for text messages a 6-digit code (``phones/{id}/verify/``).  An unknown
        channel or a bad address is a 400 naming the field, and nothing is saved."""
        return self._add_address(request, NewAddressSerializer, "address")

    def _add_address(self, request, serializer_class, field: str) -> Response:
        """``services.add_address`` with the channel and the value in ``field`` of the
        body; the services' errors are reported on ``field`` (the name the client sent)."""
        data = serializer_class(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            address = services.add_address(
                self._subscriber(), data.validated_data["channel"],
                data.validated_data[field], method=ConsentRecord.Method.API,
                actor=request.user)
        except ValidationError as exc:
            return _bad_request(_renamed(exc, field))
        answer = address_dict(address)
        verification = verification_dict(address)
        if verification is not None:
            answer["verification"] = verification
        return Response(answer, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={204: None}, parameters=[ADDRESS_ID])
    @action(detail=False, methods=["delete"], url_path=r"addresses/(?P<address_id>[0-9]+)")
    def remove_address(self, request, address_id=None):
        """Remove one of your addresses, whatever its channel (recorded as a consent
        withdrawn for that channel)."""
        address = Address.objects.filter(pk=address_id,
                                         subscriber__user=self.request.user).first()
        if address is None:
            raise Http404
        services.remove_address(address, ConsentRecord.Method.API, request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=CodeSerializer, responses={200: AddressSerializer},
                   parameters=[ADDRESS_ID])
    @action(detail=False, methods=["post"], url_path=r"phones/(?P<address_id>[0-9]+)/verify")
    def verify_phone(self, request, address_id=None):
        address = self._mine(address_id, [Channel.SMS])
        data = CodeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            address = services.verify_sms_code(address, data.validated_data["code"])
        except ValidationError as exc:
            return _bad_request(exc)
        return Response(address_dict(address))

    @extend_schema(request=None, responses={204: None}, parameters=[ADDRESS_ID])
    @action(detail=False, methods=["delete"], url_path=r"phones/(?P<address_id>[0-9]+)")
    def remove_phone(self, request, address_id=None):
        address = self._mine(address_id, [Channel.SMS, Channel.VOICE])
        services.remove_address(address, ConsentRecord.Method.API, request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=DeviceSerializer, responses={201: AddressSerializer})
    @action(detail=False, methods=["post"], url_path="devices")
    def devices(self, request):
        """Register this app or browser for push notifications."""
        data = DeviceSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        given = data.validated_data
        try:
            if given.get("token"):
                address = push_subscriptions.add_device_token(self._subscriber(), given["token"],
                                                 actor=request.user,
                                                 method=ConsentRecord.Method.API)
            else:
                address = push_subscriptions.subscribe(self._subscriber(), given["endpoint"],
                                         given["keys"], actor=request.user,
                                         method=ConsentRecord.Method.API)
        except ValidationError as exc:
            return _bad_request(exc)
        answer = address_dict(address)
        verification = verification_dict(address)
        if verification is not None:
            answer["verification"] = verification
        return Response(answer, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={204: None}, parameters=[ADDRESS_ID])
    @action(detail=False, methods=["delete"], url_path=r"devices/(?P<address_id>[0-9]+)")
    def remove_device(self, request, address_id=None):
        address = self._mine(address_id, [Channel.PUSH])
        services.remove_address(address, ConsentRecord.Method.API, request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
