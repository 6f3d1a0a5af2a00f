"""The demo as `make run` seeds it, in Debian's Chromium (issue 13, "a demo that
demonstrates"): with nothing created by hand, an agent of the demo assigns a request,
the demo approver approves the alert the other demo officer submitted, and the demo
resident signs in to the demo partner service through the consent screen.

``demo_site`` runs ``manage.py hub demo``'s loader on the test database (its
``BASE_URL`` is the live server's, so the partner's client is registered for it); every
account used here is one the README lists, with the demo password.
"""

import re

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

DEMO_PASSWORD = "espace-citoyen-demo"  # README, "Demo accounts"


def sign_in(page, email: str, next_url: str) -> None:
    page.goto(f"/fr/compte/login/?next={next_url}")
    page.locator("input[name=login]").fill(email)
    page.locator("input[name=password]").fill(DEMO_PASSWORD)
    page.locator("form.form button[type=submit]").click()
    page.wait_for_url(f"**{next_url}")


def test_an_agent_assigns_an_officer_approves_a_resident_signs_in_to_the_partner(
        browser, page, demo_site, settings):
    from django.contrib.auth import get_user_model
    from playwright.sync_api import expect

    from modules.alertes.models import Alert
    from modules.requetes.models import ServiceRequest

    settings.HUB_DEMO_PARTNER = True
    User = get_user_model()

    # 1. The roads agent assigns the resident's street light request to herself.
    light = ServiceRequest.objects.get(citizen__email="resident@example.com",
                                       category__service_code="eclairage")
    assert light.status == "new"
    agent = User.objects.get(email="agent.travaux-publics@example.com")
    sign_in(page, agent.email, f"/admin/requetes/{light.pk}/")
    page.locator("#id_to_status").select_option("assigned")
    expect(page.locator("#id_assignee option", has_text="Jérôme Leblanc")).to_have_count(1)
    page.locator("#id_assignee").select_option(str(agent.pk))
    page.locator("form:has(input[name=action][value=transition]) button[type=submit]").click()
    expect(page.get_by_text(f"Requête {light.reference} mise à jour")).to_be_visible()
    light.refresh_from_db()
    assert light.status == "assigned" and light.assigned_to == agent

    # 2. The approver approves the alert the other officer submitted: it is sent.
    pending = Alert.objects.get(status="draft")  # the one the demo submitted
    writer = pending.current_workflow_state.requested_by
    assert writer.email == "agente.communications@example.com"
    approver_context = browser.new_context(locale="fr-CA", base_url=demo_site.url)
    # Approving sends the alert to the demo's subscribers of the topic (a few hundred
    # deliveries): the test settings' immediate task backend runs them inside the
    # approver's request, which `make run`'s worker does in the background.
    approver_context.set_default_timeout(300_000)
    try:
        other = approver_context.new_page()
        sign_in(other, "approbateur.communications@example.com",
                f"/admin/snippets/alertes/alert/edit/{pending.pk}/")
        approve = other.locator("button[data-workflow-action-name=approve]").first
        if not approve.is_visible():
            other.locator("footer [data-w-dropdown-target=toggle]").first.click()
        approve.click()
        expect(other.locator(".messages")).to_be_visible()
    finally:
        approver_context.close()
    pending.refresh_from_db()
    # "sending" while the deliveries of subscribers in their quiet hours wait for morning.
    assert pending.status in ("sending", "sent") and pending.live
    assert pending.sent_at is not None
    assert pending.sent_by.email == "approbateur.communications@example.com"
    assert pending.sent_by != writer

    # 3. The resident, on the partner's site: "Se connecter avec Espace citoyen", the
    # hub's sign-in, the consent screen, back on the partner, signed in.
    resident_context = browser.new_context(locale="fr-CA", base_url=demo_site.url)
    resident_context.set_default_timeout(30_000)
    try:
        partner = resident_context.new_page()
        violations = []
        partner.on("console", lambda message: violations.append(message.text)
                   if "Content Security Policy" in message.text else None)
        partner.goto("/partenaire-demo/")
        partner.get_by_role("link", name="Se connecter avec Espace citoyen").click()
        expect(partner).to_have_url(re.compile(r"/fr/compte/login/\?next="))
        partner.locator("input[name=login]").fill("resident@example.com")
        partner.locator("input[name=password]").fill(DEMO_PASSWORD)
        partner.locator("form.form button[type=submit]").click()
        expect(partner).to_have_url(re.compile(r"/o/authorize/\?"))
        expect(partner.get_by_role("heading", level=1)).to_contain_text("Club Sport-Plus")
        expect(partner.locator("main")).to_contain_text("Votre adresse courriel")
        partner.get_by_role("button", name="Accepter").click()
        expect(partner).to_have_url(re.compile(r"/partenaire-demo/$"))
        expect(partner.locator("#signed-in")).to_contain_text(
            "Connecté en tant que Camille Tremblay")
        expect(partner.locator("#signed-in")).to_contain_text("resident@example.com")
        assert violations == []
    finally:
        resident_context.close()
