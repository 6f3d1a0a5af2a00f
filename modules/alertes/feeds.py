"""Atom feed of the alerts in force, one per language (``/fr/alertes/flux.atom``,
``/en/alertes/flux.atom``), for feed readers and sites that relay the city's alerts.
Machines that need the structured alert read the CAP feed (``/alertes/cap.atom``)."""

from django.contrib.syndication.views import Feed
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from hub.i18n import current_language

from .models import Alert

FEED_SIZE = 50


def current_alerts():
    """Sent alerts still in force: not a cancellation, not cancelled, not expired."""
    return Alert.objects.active().prefetch_related("topics").order_by("-sent_at", "-pk")


class CurrentAlertsFeed(Feed):
    feed_type = Atom1Feed

    def get_object(self, request, *args, **kwargs):
        return current_language()

    def title(self, language):
        return _("City alerts in force")

    def subtitle(self, language):
        return _("Emergencies, notices and information from the city, while they apply.")

    def link(self, language):
        return reverse("alertes:index")

    def feed_url(self, language):
        return reverse("alertes:atom")

    def items(self, language):
        return list(current_alerts()[:FEED_SIZE])

    def item_title(self, alert):
        title = alert.title(get_language())
        if not alert.is_emergency:
            return title
        return _("%(severity)s: %(title)s") % {"severity": alert.get_severity_display(),
                                               "title": title}

    def item_description(self, alert):
        return alert.body(get_language())

    def item_link(self, alert):
        return reverse("alertes:detail", kwargs={"pk": alert.pk})

    def item_guid(self, alert):
        return f"urn:uuid:{alert.identifier}"

    item_guid_is_permalink = False

    def item_pubdate(self, alert):
        return alert.sent_at or alert.created_at

    def item_updateddate(self, alert):
        return alert.sent_at or alert.created_at

    def item_categories(self, alert):
        language = get_language()
        return [alert.get_severity_display(), *(t.name(language) for t in alert.topics.all())]
