"""Public pages of `alertes`, the citizen's subscription page and the provider webhooks.

Public pages never show a subscriber; the subscription page only ever reads
``request.user``'s subscriber.
"""

from __future__ import annotations

import hmac
import json
import time
from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, HttpResponseForbidden, JsonResponse
from django.http.request import RawPostDataException
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import feedgenerator
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from hub.i18n import localized

from . import cap, notices, services, tokens
from .channels import setting, twilio_signature, webpush
from .forms import AddressForm, CodeForm, PreferencesForm
from .models import PUBLISHED, Alert, Channel, Delivery, Topic
from .services import calls, push_subscriptions


def published():
    return Alert.objects.filter(status__in=PUBLISHED).prefetch_related("topics", "districts")


@require_GET
def index(request):
    return render(request, "alertes/index.html", {
        "alerts": services.active_alerts(), "topics": Topic.objects.all(),
        "language": get_language(),
    })


@require_GET
def archive(request):
    page = Paginator(published(), 20).get_page(request.GET.get("page"))
    return render(request, "alertes/archive.html", {"page": page})


@require_GET
def detail(request, pk):
    alert = get_object_or_404(published(), pk=pk)
    return render(request, "alertes/detail.html", {"alert": alert,
                                                   "corrections": published().filter(
                                                       references=alert)})


def _zone_choice(form, subscriber):
    """The ``district`` for ``update_preferences``: a staff member's explicit change of the
    list wins; ``None`` lets the address (or point) place the subscriber — or clears the
    zone when they removed their address; otherwise the current zone stays (a point is
    not stored, so saving again without one keeps the zone it gave)."""
    data = form.cleaned_data
    if "district" in form.fields and data.get("district") != subscriber.district:
        return data.get("district")
    if data["civic_address"] or form.point is not None or subscriber.civic_address:
        return None
    return subscriber.district


@login_required
@require_GET
def received_messages(request):
    """"Messages reçus": what the city sent the signed-in citizen on every channel,
    the test box's messages included (``services.messages_received``: their own
    subscriber and addresses only)."""
    return render(request, "alertes/messages.html", {
        "entries": services.messages_received(request.user)})


def _say_code_outcome(request, outcome, sent: str = "", by_email: bool = False) -> None:
    """What became of a texted code or a mailed link, as it happened
    (``services.CodeSending``): "sent" only when the provider accepted it."""
    state = getattr(outcome, "state", "pending")
    level = {"sent": messages.success, "failed": messages.error}.get(state, messages.info)
    level(request, outcome.message(by_email, sent) if outcome is not None
          else services.CodeSending().message(by_email, sent))


@login_required
@require_http_methods(["GET", "POST"])
def subscription(request):
    subscriber = services.subscriber_for(request.user)
    action = request.POST.get("action", "") if request.method == "POST" else ""
    initial = {"topics": subscriber.topics.filter(is_emergency=False),
               "language": subscriber.language, "district": subscriber.district,
               "civic_address": subscriber.civic_address,
               "quiet_start": subscriber.quiet_start, "quiet_end": subscriber.quiet_end}
    preferences = PreferencesForm(request.POST if action == "preferences" else None,
                                  initial=initial, staff=request.user.is_staff)
    address_form = AddressForm(request.POST if action == "add_address" else None)
    code_form = CodeForm(request.POST if action == "verify_code" else None)
    own = subscriber.addresses.all()
    if action == "preferences" and preferences.is_valid():
        data = preferences.cleaned_data
        try:
            services.update_preferences(
                subscriber, topics=data["topics"], language=data["language"],
                district=_zone_choice(preferences, subscriber),
                civic_address=data["civic_address"], point=preferences.point,
                quiet_start=data["quiet_start"], quiet_end=data["quiet_end"],
                actor=request.user)
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                for error in errors:
                    preferences.add_error(field if field in preferences.fields else None,
                                          error)
        else:
            messages.success(request, _("Your preferences are saved."))
            return redirect("alertes:subscription")
    elif action == "add_address" and address_form.is_valid():
        try:
            address = services.add_address(subscriber, address_form.cleaned_data["channel"],
                                           address_form.cleaned_data["value"],
                                           actor=request.user)
        except ValidationError as exc:  # {"channel": …} or {"value": …}
            address_form.add_error(None if hasattr(exc, "error_dict") else "value", exc)
        else:
            if address.channel == Channel.EMAIL and not address.verified:
                _say_code_outcome(request, getattr(address, "code_sending", None),
                                  by_email=True)
            elif address.channel == Channel.SMS and not address.verified:
                _say_code_outcome(request, getattr(address, "code_sending", None),
                                  _("We sent a 6-digit code to this number."))
            elif address.channel in (Channel.SMS, Channel.VOICE):
                messages.success(request, _("The number is added."))
            else:
                messages.success(request, _("The address is added."))
            return redirect("alertes:subscription")
    elif action == "use_account_email":
        # The account's verified email, added without a new confirmation link.
        if services.account_email_offer(subscriber, request.user):
            services.add_account_email(subscriber, request.user)
            messages.success(request, _("Your account's email address is added: it was "
                                        "already confirmed."))
        return redirect("alertes:subscription")
    elif action == "verify_code":
        address = get_object_or_404(own, pk=_int(request.POST.get("address")),
                                    channel=Channel.SMS)
        if code_form.is_valid():
            try:
                services.verify_sms_code(address, code_form.cleaned_data["code"])
            except ValidationError as exc:
                code_form.add_error("code", exc)
            else:
                messages.success(request, _("Your mobile number is confirmed."))
                return redirect("alertes:subscription")
    elif action == "resend_code":
        address = get_object_or_404(own, pk=_int(request.POST.get("address")),
                                    channel=Channel.SMS, verified_at__isnull=True)
        try:
            outcome = services.send_sms_code(address)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            _say_code_outcome(request, outcome, _("We sent a new code."))
        return redirect("alertes:subscription")
    elif action == "remove_address":
        address = get_object_or_404(own, pk=_int(request.POST.get("address")))
        services.remove_address(address, actor=request.user)
        messages.success(request, _("The address is removed."))
        return redirect("alertes:subscription")
    elif action == "notices":
        choices = {slug: request.POST.getlist(f"notice_{slug}") for slug in notices.topics()}
        try:
            notices.set_preferences(subscriber, notices.clean_preferences(choices))
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("Your choices for your personal notices are saved."))
            return redirect(reverse("alertes:subscription") + "#avis-personnels")
    elif action == "leave":
        services.leave(subscriber, "web", actor=request.user)
        messages.success(request, _("You left the service: the city will send you nothing "
                                    "more."))
        return redirect("alertes:subscription")
    elif request.method == "POST" and action not in ("preferences", "add_address",
                                                     "verify_code", "notices"):
        return HttpResponse(_("Unknown action."), status=400)
    status = 400 if request.method == "POST" else 200
    return render(request, "alertes/subscription.html", {
        "subscriber": subscriber, "addresses": own.order_by("channel", "pk"),
        "preferences": preferences, "address_form": address_form, "code_form": code_form,
        "account_email": services.account_email_offer(subscriber, request.user),
        "emergency_topics": services.emergency_topics(),
        "vapid_public_key": webpush.public_key() if webpush.configured() else "",
        "notice_topics": notice_choices(subscriber, request.user),
    }, status=status)


def notice_choices(subscriber, user) -> list[dict]:
    """The "My personal notices" section: each notice topic with, per channel offered,
    whether it is chosen and whether the person can be reached on it (a confirmed
    address, or for email the account's own)."""
    from .channels import available_channels

    channels = available_channels()
    topics = notices.topics()
    chosen = notices.chosen_channels(subscriber, topics)
    reachable = notices.reachable_channels(subscriber, user)
    offered = notices.notice_channels()
    language = get_language()
    return [{"slug": slug, "name": topic.name(language),
             "description": localized(topic, "description", language),
             "channels": [{"code": code, "label": channels[code].label,
                           "checked": code in chosen[slug], "reachable": code in reachable}
                          for code in offered]}
            for slug, topic in topics.items()]


@login_required
@require_POST
def push_subscribe(request):
    """The browser's ``PushSubscription`` (JSON: ``endpoint``, ``keys.p256dh``,
    ``keys.auth``) for the signed-in citizen; CSRF-protected like every form."""
    try:
        data = json.loads(request.body or b"{}")
    except (ValueError, RawPostDataException):
        # RawPostDataException: a form body (multipart) already read by the CSRF check.
        data = None
    if not isinstance(data, dict):
        return JsonResponse({"errors": {"subscription": [_("Send the subscription as a "
                                                           "JSON object.")]}}, status=400)
    subscriber = services.subscriber_for(request.user)
    try:
        address = push_subscriptions.subscribe(subscriber, data.get("endpoint", ""),
                                               data.get("keys"), actor=request.user)
    except ValidationError as exc:
        field = exc.code if exc.code in ("endpoint", "keys") else "subscription"
        return JsonResponse({"errors": {field: exc.messages}}, status=400)
    return JsonResponse({"id": address.pk, "message": _("Notifications are on for this "
                                                        "browser.")}, status=201)


PUSH_CHANGE_MAX_BYTES = 4096


def _push_change_wait(request) -> int:
    """Seconds this client must wait before renewing a push subscription again (0: go
    on): ``ALERTES_PUSH_CHANGE_RATE`` requests (default 20) per ``ALERTES_PUSH_CHANGE_WINDOW``
    seconds (default an hour) per client address (``REMOTE_ADDR``: behind a proxy, have
    it set the client's), counting refused ones."""
    rate = int(setting("ALERTES_PUSH_CHANGE_RATE", 20))
    window = max(1, int(setting("ALERTES_PUSH_CHANGE_WINDOW", 3600)))
    now = int(time.time())
    slot = now // window
    ip = request.META.get("REMOTE_ADDR", "")[:64]
    key = f"alertes:push-change:{ip}:{slot}"
    cache.add(key, 0, timeout=window + 10)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=window + 10)
        count = 1
    # None: the cache is down (it fails open, hub/settings.py): nobody is limited.
    return (slot + 1) * window - now if (count or 0) > rate else 0


def _push_error(field: str, messages_, status: int = 400) -> JsonResponse:
    return JsonResponse({"errors": {field: list(messages_)}}, status=status)


@csrf_exempt
@require_POST
def push_change(request):
    """The service worker's ``pushsubscriptionchange``: the browser renewed its push
    subscription and sends ``{"old": {"endpoint", "keys": {"p256dh", "auth"}}, "new":
    {...}}`` (``PushSubscription.toJSON()`` twice).  The stored address of the old
    subscription becomes the new one (``push_subscriptions.replace_subscription``).

    No session and no CSRF token: a service worker's request may carry neither.  The old
    subscription's ``auth`` secret, known only to the browser and to this server, is the
    authorisation, so a forged cross-site request cannot change anything either.  Rate
    limited per client address (429); bad input answers 400 with the reason, and changes
    nothing."""
    wait = _push_change_wait(request)
    if wait:
        response = _push_error("subscription", [_("Too many requests: try again later.")],
                               status=429)
        response["Retry-After"] = str(wait)
        return response
    if len(request.body) > PUSH_CHANGE_MAX_BYTES:
        return _push_error("subscription", [_("The request is too large.")])
    try:
        data = json.loads(request.body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        data = None
    if not isinstance(data, dict) or not isinstance(data.get("old"), dict) \
            or not isinstance(data.get("new"), dict):
        return _push_error("subscription", [_(
            "Send a JSON object with the previous subscription (old) and the new one "
            "(new).")])
    old, new = data["old"], data["new"]
    try:
        address = push_subscriptions.replace_subscription(old.get("endpoint"), old.get("keys"),
                                            new.get("endpoint"), new.get("keys"))
    except ValidationError as exc:
        field = {"endpoint": "new", "keys": "new"}.get(exc.code, exc.code or "subscription")
        return _push_error(field, exc.messages)
    return JsonResponse({"id": address.pk, "message": _("Notifications stay on for this "
                                                        "browser.")})


@require_GET
def service_worker(request):
    """The push service worker, at ``/alertes/sw.js`` (scope ``/alertes/``), with the
    VAPID public key and the address it sends renewed subscriptions to."""
    response = render(request, "alertes/sw.js", {
        "vapid_public_key": webpush.public_key(),
        "push_change_url": reverse("alertes:push_change"),
    }, content_type="application/javascript; charset=utf-8")
    response["Cache-Control"] = "no-cache"
    response["Service-Worker-Allowed"] = "/alertes/"
    return response


def _int(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise Http404 from None


@require_http_methods(["GET", "POST"])
def verify_email(request, token):
    """The link in the verification email: GET asks to confirm (mail scanners open
    links), POST verifies."""
    try:
        tokens.read_verify_token(token)
    except tokens.BadToken:
        return render(request, "alertes/bad_link.html", status=400)
    if request.method == "POST":
        try:
            services.verify_email(token)
        except tokens.BadToken:
            return render(request, "alertes/bad_link.html", status=400)
        return render(request, "alertes/verified.html")
    return render(request, "alertes/confirm.html", {
        "question": _("Confirm this email address for the city's alerts?"),
        "button": _("Confirm")})


@csrf_exempt
@require_http_methods(["GET", "POST"])
def unsubscribe(request, token):
    """One-click unsubscribe: RFC 8058's POST (``List-Unsubscribe=One-Click``, no CSRF
    token: the signed token is the proof) or the confirm button after a GET."""
    try:
        tokens.read_unsubscribe_token(token)
    except tokens.BadToken:
        return render(request, "alertes/bad_link.html", status=400)
    if request.method == "POST":
        try:
            services.unsubscribe_with_token(token)
        except tokens.BadToken:
            return render(request, "alertes/bad_link.html", status=400)
        return render(request, "alertes/unsubscribed.html")
    return render(request, "alertes/confirm.html", {
        "question": _("Stop receiving the city's alerts?"), "button": _("Unsubscribe")})


def _twilio_verified(request) -> bool:
    token = getattr(settings, "ALERTES_TWILIO_AUTH_TOKEN", "")
    given = request.headers.get("X-Twilio-Signature", "")
    if not token or not given:
        return False
    url = settings.BASE_URL.rstrip("/") + request.get_full_path()
    expected = twilio_signature(url, request.POST.dict(), token)
    return hmac.compare_digest(expected, given)


def twilio_webhook(view):
    """The one gate of every Twilio webhook: POST only (405 otherwise), no CSRF token
    (Twilio has none) and a valid ``X-Twilio-Signature`` (HMAC-SHA1 with the account's
    auth token over ``BASE_URL`` + the path and the sorted POST parameters), else 403
    before the view runs; so a forged callback can neither unsubscribe a number nor
    mark a delivery.  ``twilio_webhook`` on the view lets a test find every one."""

    @csrf_exempt
    @require_POST
    @wraps(view)
    def signed(request, *args, **kwargs):
        if not _twilio_verified(request):
            return HttpResponseForbidden(_("Invalid signature."))
        return view(request, *args, **kwargs)

    signed.twilio_webhook = True
    return signed


@twilio_webhook
def twilio_inbound(request):
    reply = services.handle_inbound_sms(request.POST.get("From", ""),
                                        request.POST.get("Body", ""))
    from xml.sax.saxutils import escape

    body = f"<Message>{escape(reply)}</Message>" if reply else ""
    return HttpResponse(f'<?xml version="1.0" encoding="UTF-8"?><Response>{body}</Response>',
                        content_type="application/xml")


@twilio_webhook
def twilio_status(request):
    services.handle_status_callback(request.POST.get("MessageSid", ""),
                                    request.POST.get("MessageStatus", ""),
                                    request.POST.get("ErrorCode", ""))
    return HttpResponse(status=204)


def _twiml(body: str) -> HttpResponse:
    return HttpResponse(body, content_type="application/xml; charset=utf-8")


@twilio_webhook
def voice_twiml(request, pk):
    """The TwiML Twilio fetches when a call is answered (``AnsweredBy`` tells who)."""
    delivery = get_object_or_404(Delivery.objects.select_related("alert"), pk=pk,
                                 channel=Channel.VOICE)
    return _twiml(calls.twiml_for_answer(delivery, request.POST.get("AnsweredBy", "")))


@twilio_webhook
def voice_gather(request, pk):
    """The key pressed during the message: 1 confirms, anything else replays it."""
    delivery = get_object_or_404(Delivery.objects.select_related("alert"), pk=pk,
                                 channel=Channel.VOICE)
    return _twiml(calls.twiml_for_digits(delivery, request.POST.get("Digits", "")))


@twilio_webhook
def voice_status(request):
    calls.handle_call_status(request.POST.get("CallSid", ""),
                             request.POST.get("CallStatus", ""),
                             request.POST.get("AnsweredBy", ""),
                             request.POST.get("ErrorCode", ""))
    return HttpResponse(status=204)


@require_GET
def cap_feed(request):
    feed = feedgenerator.Atom1Feed(
        title=_("City alerts (CAP 1.2)"), link=request.build_absolute_uri(reverse(
            "alertes:index")), description="", language=get_language(),
        feed_url=request.build_absolute_uri())
    for alert in published()[:100]:
        feed.add_item(
            title=alert.title(), link=request.build_absolute_uri(
                reverse("alertes:cap_alert", kwargs={"pk": alert.pk})),
            description=alert.body(), unique_id=cap.identifier(alert),
            updateddate=alert.sent_at or alert.created_at,
            pubdate=alert.sent_at or alert.created_at)
    return HttpResponse(feed.writeString("utf-8"),
                        content_type="application/atom+xml; charset=utf-8")


@require_GET
def cap_alert(request, pk):
    alert = get_object_or_404(published(), pk=pk)
    return HttpResponse(cap.document(alert),
                        content_type="application/cap+xml; charset=utf-8")
