"""The requests dashboard's charts in a real browser (issue 13): three SVG charts, each
named and described for assistive technologies and with its data table beside it, and
axe-core finds nothing on the page, in French and English."""

import datetime

import pytest
from django.utils import timezone

from tests.conftest import make_user
from tests.e2e.test_accessibility import AXE_OPTIONS, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def _requests():
    from modules.requetes.models import Category, ServiceRequest

    category = Category.objects.filter(active=True).select_related("department").first()
    now = timezone.now()
    for number in range(4):
        created = now - datetime.timedelta(days=20 - number * 4, hours=number)
        closed = created + datetime.timedelta(days=number + 1, hours=3) if number % 2 else None
        ServiceRequest.objects.create(
            reference=f"2099-{900000 + number}", category=category,
            department=category.department, description="Lampadaire éteint",
            latitude=45.2556, longitude=-74.132, created_at=created, closed_at=closed,
            status="closed" if closed else "new", closure_reason="fixed" if closed else "",
            due_date=(created + datetime.timedelta(days=3)).date())


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_dashboard_charts_are_accessible(page, context, demo_site, lang):
    from axe_playwright_python.sync_playwright import Axe
    from wagtail.users.models import UserProfile

    from hub import roles

    _requests()
    admin = make_user(f"charts.{lang}@example.com", is_staff=True, is_superuser=True,
                      groups=[roles.ADMINISTRATORS])
    profile = UserProfile.get_for_user(admin)
    profile.preferred_language = lang
    profile.save()
    sign_in(context, demo_site, admin)
    response = page.goto("/admin/requetes/tableau-de-bord/")
    assert response is not None and response.status == 200

    charts = page.locator("svg[role=img]")
    assert charts.count() == 3
    for index in range(3):
        chart = charts.nth(index)
        labelled = chart.get_attribute("aria-labelledby").split()
        assert len(labelled) == 2
        assert page.locator(f"#{labelled[0]}").text_content().strip()
        assert page.locator(f"#{labelled[1]}").text_content().strip()
    # Each chart has its figures in a table beside it.
    assert page.locator(".rq-chart table").count() == 3
    assert page.locator(".rq-chart__bar").count() >= 2
    results = Axe().run(page, options=AXE_OPTIONS)
    assert results.violations_count == 0, results.generate_report()
