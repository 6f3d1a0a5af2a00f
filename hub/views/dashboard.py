"""Mon Espace: the signed-in citizen's dashboard, made of module panels."""

from django.contrib.auth.mixins import LoginRequiredMixin
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache
from django.views.generic import TemplateView

from hub.plugins.manager import collect_sorted


def dashboard_panels(request) -> list[dict]:
    """Panels by their ``order`` (defaulting to their module's), then module order."""
    return collect_sorted("hub_dashboard_panels", request=request)


@method_decorator(never_cache, name="dispatch")
class MonEspaceView(LoginRequiredMixin, TemplateView):
    template_name = "hub/mon_espace.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["panels"] = dashboard_panels(self.request)
        return context
