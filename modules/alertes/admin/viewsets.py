"""The alertes admin's URL home: ``/admin/alertes/`` with the ``alertes_admin``
namespace that screens, templates and tests reverse (``alertes_admin:report``…)."""

from wagtail.admin.viewsets.base import ViewSet

from .base import NAMESPACE
from .sandbox import SandboxViewSet
from .sending import SendingViewSet
from .subscribers import SubscriberViewSet


class AlertesAdminViewSet(ViewSet):
    """The sending, subscriber and test box screens under one prefix and one namespace, each part
    keeping its own menu item; registered with ``register_admin_viewset``."""

    name = NAMESPACE
    url_prefix = "alertes"
    parts = (SendingViewSet, SubscriberViewSet, SandboxViewSet)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.viewsets = [part() for part in self.parts]

    def on_register(self):
        for viewset in self.viewsets:
            viewset.on_register()

    def get_urlpatterns(self):
        return [pattern for viewset in self.viewsets for pattern in viewset.get_urlpatterns()]
