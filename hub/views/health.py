"""``/health/`` for the load balancer and ``/health/detail/`` for staff (``hub.health``).

Neither is cached nor translated; the probe answers plain text, without a session, so a
load balancer polling every few seconds costs three round trips and nothing else."""

from __future__ import annotations

from django.contrib.auth.views import redirect_to_login
from django.http import HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from hub import health


@never_cache
@require_GET
def probe(request):
    """200 ``ok`` when the databases, the cache and the task broker answer, else 503."""
    if health.healthy(health.essential()):
        return HttpResponse("ok\n", content_type="text/plain; charset=utf-8")
    return HttpResponse("unavailable\n", status=503, content_type="text/plain; charset=utf-8")


@never_cache
@require_GET
def detail(request):
    """Every check with its figures, as JSON, for staff: 503 when a critical one fails."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not request.user.is_staff:
        return JsonResponse({"detail": _("Staff only.")}, status=403)
    checks = health.detailed()
    return JsonResponse(health.as_dict(checks), status=200 if health.healthy(checks) else 503,
                        json_dumps_params={"indent": 2})
