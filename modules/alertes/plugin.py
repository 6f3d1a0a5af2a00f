"""Hook implementations of `alertes`: the only place the hub talks to this module.

A thin adapter, as in ``requetes``: each hook reads or does its work through
``services`` (queries included); ``views`` is imported only for the URL patterns."""

from django.template.loader import render_to_string
from django.urls import include, path, reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from hub.plugins import hookimpl

SLUG = "alertes"


@hookimpl
def hub_module():
    return {
        "slug": SLUG,
        "name_fr": "Alertes et communications",
        "name_en": "Alerts and communications",
        "description_fr": "Recevoir les communications de la Ville par texto, courriel, "
                          "notification ou appel.",
        "description_en": "Receive the city's communications by text message, email, "
                          "notification or phone call.",
        "icon": "alert",
        "order": 20,
        "version": "0.1.0",
    }


@hookimpl
def hub_root_urlpatterns():
    """The CAP feed at the address DESIGN.md publishes (``/alertes/cap.atom``), outside
    the language prefixes: alerting aggregators poll a fixed URL.  The push service
    worker too: one script for both languages, its scope ``/alertes/``."""
    from . import views

    return [
        path("alertes/cap.atom", views.cap_feed, name="alertes_cap_feed"),
        path("alertes/cap/<int:pk>.xml", views.cap_alert, name="alertes_cap_alert"),
        path("alertes/sw.js", views.service_worker, name="alertes_service_worker"),
    ]


@hookimpl
def hub_urlpatterns():
    return [path("alertes/", include("modules.alertes.urls"))]


@hookimpl
def hub_api_routes(router):
    from .api import AlertViewSet, MySubscriptionViewSet, TopicViewSet

    router.register("alerts", AlertViewSet, basename="alerts")
    router.register("alert-topics", TopicViewSet, basename="alert-topics")
    router.register("alert-subscription", MySubscriptionViewSet, basename="alert-subscription")


@hookimpl
def hub_home_tiles(request):
    return [{
        "title": _("Alerts and communications"),
        "description": _("Choose the topics that interest you and how the city reaches you: "
                         "text message, email, notification or phone call."),
        "url": reverse("alertes:index"),
        "icon": "alert",
        "order": 20,
    }]


@hookimpl
def hub_home_sections(request):
    """The alerts in force (``Alert.objects.active()``, the alerts' page's rule), the
    latest three; nothing when none is."""
    from .models import Alert

    # The home shows title, severity, kind and time: no topics or districts to prefetch.
    alerts = list(Alert.objects.active()[:3])
    if not alerts:
        return []
    return [{
        "slug": "alerts",
        "title": _("Alerts in force"),
        "body": render_to_string("alertes/home_section.html", {"alerts": alerts},
                                 request=request),
        "url": reverse("alertes:index"),
        "link_text": _("All alerts"),
        "order": 10,
    }]


@hookimpl
def hub_dashboard_panels(request):
    """The citizen's topics, channels and messages received: two queries, never cached
    (``services.dashboard``)."""
    from .services.dashboard import panel_context

    context = panel_context(request.user)
    return [{
        "title": _("My communications"),
        # Without the request: the panel uses none of the context processors, which
        # would run again for this fragment on every visit.
        "body": render_to_string("alertes/panel.html", context),
        "url": reverse("alertes:subscription"),
        "link_text": _("Manage my subscription"),
        "order": 20,
    }]


@hookimpl
def hub_banners(request):
    """The emergencies in force, one danger banner each (``services.emergencies_in_force``:
    the rule of ``Alert.objects.active()``)."""
    from . import services

    return [{"text": alert.title(get_language()), "level": "danger",
             "url": reverse("alertes:detail", kwargs={"pk": alert.pk})}
            for alert in services.emergencies_in_force()]


@hookimpl
def alertes_channels():
    """alertes' own four channels, declared through its own hook like any plugin's; SMS,
    voice and push without their provider go to the test box while the sandbox is
    enabled (``channels.sandbox``)."""
    from .channels import EmailChannel, TwilioSMSChannel, sandbox
    from .channels.voice import TwilioVoiceChannel
    from .channels.webpush import PushChannel

    return [EmailChannel(), *sandbox.unless_configured(
        [TwilioSMSChannel(), TwilioVoiceChannel(), PushChannel()])]


@hookimpl
def hub_hookspecs():
    """``alertes_channels`` (delivery channels) and ``alertes_app_push`` (FCM, APNs):
    other modules plug into alertes with them."""
    from . import hookspecs

    return hookspecs


@hookimpl
def hub_search_sources():
    """The published alerts (sent, being sent or cancelled: those with a public page)."""
    from .models import PUBLISHED, Alert

    return [Alert.objects.filter(status__in=PUBLISHED)]


@hookimpl
def hub_notify(notice):
    """A personal notice (``hub.notify.Notice``) becomes outbox rows on the channels the
    person chose for its topic (``notices.take``); True: taken, or already taken."""
    from . import notices

    return notices.take(notice)


@hookimpl
def hub_user_data_export(user):
    from . import services

    return services.export_user(user)


@hookimpl
def hub_user_data_erase(user):
    from . import services

    services.erase_user(user)


@hookimpl
def hub_demo_data():
    from . import demo

    demo.load()


@hookimpl
def hub_periodic_tasks():
    """``alertes.dispatch`` every minute: scheduled alerts go out at their time, and
    deliveries whose task was lost or whose retry is due are enqueued again."""
    from hub.scheduler import PeriodicTask

    from .tasks import dispatch

    return [PeriodicTask(name="alertes.dispatch", task=dispatch, schedule="* * * * *")]


@hookimpl
def hub_oauth_scopes():
    """The scopes of the alerts API (``required_scopes`` in api.py), in the resident's
    words: the consent screen and "Services using my account" show these texts."""
    from django.utils.translation import gettext_lazy

    return {"alertes:read": gettext_lazy("Read your communication preferences"),
            "alertes:write": gettext_lazy("Change your communication preferences")}


@hookimpl
def hub_staff_roles():
    """Communications officers, alert approvers, and what administrators get here."""
    from .roles import staff_roles

    return staff_roles()
