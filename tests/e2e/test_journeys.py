"""End-to-end journeys in Debian's Chromium (issue 12, item 16): real objects, real
effects observed in the browser and in the database.

* a resident reports a problem with a photo using only the keyboard, and finds it in
  "Mes requêtes";
* an agent processes it in the Wagtail admin and the resident sees the steps;
* a resident subscribes to alerts and verifies an email address (a real SMTP server,
  aiosmtpd, receives the link);
* a communications officer submits an alert and a second person, an approver, approves
  it: it is sent (the subscriber's mail reaches the SMTP server).
"""

from __future__ import annotations

import email
import re
from email import policy

import pytest

from tests.conftest import make_user

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

PASSWORD = "Un-mot-de-passe-solide-2024"
TILES = "/static/leaflet/images/layers.png?{z}/{x}/{y}"  # never the Internet


def jpeg_bytes() -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(out, "JPEG")
    return out.getvalue()


@pytest.fixture
def smtp_server(settings):
    """A real SMTP server (aiosmtpd) on 127.0.0.1, the site's mail going to it."""
    from aiosmtpd.controller import Controller

    from tests.alertes.conftest import SMTPSink, free_port

    sink = SMTPSink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    yield sink
    controller.stop()


def received(sink, to: str) -> list[str]:
    """The plain-text bodies the SMTP server received for ``to``."""
    bodies = []
    for envelope in sink.messages:
        if to not in envelope.rcpt_tos:
            continue
        message = email.message_from_bytes(envelope.original_content, policy=policy.default)
        part = message.get_body(preferencelist=("plain",))
        bodies.append(part.get_content())
    return bodies


def focused(page) -> str:
    return page.evaluate("""() => { const e = document.activeElement;
        return e ? e.outerHTML.slice(0, 200) : ""; }""")


def tab_to(page, selector: str, *, limit: int = 120) -> None:
    """Press Tab until the focused element matches ``selector`` (the keyboard's way)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("s => !!document.activeElement && document.activeElement.matches(s)",
                         selector):
            return
    raise AssertionError(f"{selector} never took the focus with Tab (last: {focused(page)})")


def sign_in_with_keyboard(page, user_email: str) -> None:
    page.goto("/fr/compte/login/")
    tab_to(page, "input[name=login]")
    page.keyboard.type(user_email)
    tab_to(page, "input[name=password]")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url("**/mon-espace/")


def sign_in(page, user_email: str, *, next_url: str = "/fr/mon-espace/") -> None:
    page.goto(f"/fr/compte/login/?next={next_url}")
    page.locator("input[name=login]").fill(user_email)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("form.form button[type=submit]").click()
    page.wait_for_url(f"**{next_url}")


def test_resident_reports_a_problem_with_a_photo_with_the_keyboard_only(
        page, demo_site, settings, tmp_path):
    from playwright.sync_api import expect

    from modules.requetes.models import ServiceRequest

    settings.REQUETES_MAP_TILES_URL = TILES
    resident = make_user("clavier@example.com", password=PASSWORD, first_name="Kim")
    photo = tmp_path / "lampadaire.jpg"
    photo.write_bytes(jpeg_bytes())
    sign_in_with_keyboard(page, "clavier@example.com")

    # Step 1: the category, reached and followed with Tab and Enter.
    page.goto("/fr/requetes/nouvelle/")
    tab_to(page, "a[href$='/requetes/nouvelle/eclairage/']")
    page.keyboard.press("Enter")
    page.wait_for_url("**/requetes/nouvelle/eclairage/")
    expect(page.locator("h1")).to_have_text("Éclairage de rue")

    # Step 2: where, typed; Enter in a field submits the step.
    tab_to(page, "#id_latitude")
    page.keyboard.type("45.2556")
    tab_to(page, "#id_longitude")
    page.keyboard.type("-74.1320")
    page.keyboard.press("Enter")
    description = page.locator("textarea[name=description]")
    expect(description).to_be_visible()
    expect(page.locator(".steps")).to_have_text("Étape 3 de 3")

    # Step 3: the description and the pole's number typed, the photo chosen (the file
    # dialog is the operating system's: set_input_files stands for it), sent with Space.
    tab_to(page, "textarea[name=description]")
    page.keyboard.type("Lampadaire éteint devant le 41, rue Victoria.")
    tab_to(page, "input[name=q_numero_poteau]")
    page.keyboard.type("HQ-4471")
    page.locator("input[name=photos]").set_input_files(str(photo))
    tab_to(page, "form[enctype='multipart/form-data'] button[type=submit]")
    page.keyboard.press("Space")

    page.wait_for_url(re.compile(r"/fr/requetes/[^/]+/confirmation/$"))
    reference = page.locator(".reference").inner_text().strip()
    created = ServiceRequest.objects.get(reference=reference)
    assert created.citizen == resident
    assert created.category.service_code == "eclairage"
    assert created.description == "Lampadaire éteint devant le 41, rue Victoria."
    assert created.answers.get("numero_poteau") == "HQ-4471"
    assert created.photos.count() == 1
    assert (round(float(created.latitude), 4), round(float(created.longitude), 4)) == (
        45.2556, -74.132)

    # "Mes requêtes", reached from the confirmation with the keyboard, lists it.
    tab_to(page, "main a[href$='/requetes/mes-requetes/']")
    page.keyboard.press("Enter")
    page.wait_for_url("**/requetes/mes-requetes/")
    row = page.locator("main").get_by_text(reference)
    expect(row).to_be_visible()
    # And its page shows the photo, served to its owner.
    tab_to(page, f"main a[href$='/requetes/{reference}/']")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/requetes/{reference}/")
    image = page.locator("main img[src*='/requetes/photo/']")
    expect(image).to_have_count(1)
    assert page.evaluate("img => img.complete && img.naturalWidth > 0",
                         image.element_handle())


def test_agent_processes_the_request_in_the_admin_and_the_resident_sees_the_steps(
        browser, page, demo_site, settings):
    from playwright.sync_api import expect

    from hub.models import Department
    from modules.requetes import services
    from modules.requetes.models import Category, ServiceRequest
    from modules.requetes.roles import DEPARTMENT_AGENTS

    settings.REQUETES_MAP_TILES_URL = TILES
    resident = make_user("suivi@example.com", password=PASSWORD)
    department = Department.objects.get(slug="travaux-publics")
    agent = make_user("agente.tp@example.com", password=PASSWORD, is_staff=True,
                      first_name="Alix", last_name="Tremblay",
                      groups=[DEPARTMENT_AGENTS], departments=[department])
    created = services.create_request(
        actor=resident, category=Category.objects.get(service_code="eclairage"),
        description="Lampadaire éteint au coin de la rue.", latitude="45.2556",
        longitude="-74.1320", channel=ServiceRequest.Channel.WEB)

    # The agent, in the Wagtail admin: acknowledges it with a public message, assigns
    # it to herself, then answers the resident.
    sign_in(page, agent.email, next_url=f"/admin/requetes/{created.pk}/")
    expect(page.locator("h1, h2").filter(has_text=created.reference).first).to_be_visible()
    page.locator("#id_to_status").select_option("acknowledged")
    transition = page.locator("form:has(input[name=action][value=transition])")
    transition.locator("textarea[name=public_message]").fill(
        "Bien reçu : une équipe passera cette semaine.")
    page.locator("form:has(input[name=action][value=transition]) button[type=submit]").click()
    expect(page.get_by_text(f"Requête {created.reference} mise à jour")).to_be_visible()
    page.locator("#id_to_status").select_option("assigned")
    page.locator("#id_assignee").select_option(str(agent.pk))
    page.locator("form:has(input[name=action][value=transition]) button[type=submit]").click()
    expect(page.get_by_text(f"Requête {created.reference} mise à jour")).to_be_visible()
    reply = page.locator("form:has(input[name=action][value=reply])")
    reply.locator("textarea[name=public_message]").fill("Le poteau HQ-4471 sera réparé jeudi.")
    reply.locator("button[type=submit]").click()
    expect(page.get_by_text("Réponse publique envoyée")).to_be_visible()

    created.refresh_from_db()
    assert created.status == "assigned" and created.assigned_to == agent
    assert list(created.events.values_list("kind", flat=True).order_by("pk"))[-3:] == [
        "status", "status", "comment"]

    # The resident, in their own browser, sees the steps on their request page.
    resident_context = browser.new_context(locale="fr-CA", base_url=demo_site.url)
    try:
        mine = resident_context.new_page()
        sign_in(mine, resident.email, next_url=f"/fr/requetes/{created.reference}/")
        summary = mine.locator("dl.summary")
        expect(summary).to_contain_text("Assignée")
        timeline = mine.locator("ol.timeline > li")
        expect(timeline).to_have_count(4)
        expect(timeline.nth(0)).to_contain_text("Requête reçue")
        expect(timeline.nth(1)).to_contain_text("Prise en charge")
        expect(timeline.nth(1)).to_contain_text("une équipe passera cette semaine")
        expect(timeline.nth(2)).to_contain_text("Assignée")
        expect(timeline.nth(3)).to_contain_text("Message du service")
        expect(timeline.nth(3)).to_contain_text("Le poteau HQ-4471 sera réparé jeudi.")
    finally:
        resident_context.close()


def test_resident_subscribes_to_alerts_and_verifies_an_email(page, demo_site, smtp_server):
    from playwright.sync_api import expect

    from modules.alertes.models import Subscriber, Topic

    make_user("abonnee@example.com", password=PASSWORD)
    topic = Topic.objects.get(slug="deneigement")
    sign_in(page, "abonnee@example.com", next_url="/fr/alertes/abonnement/")

    # Topics and preferences.
    page.locator(f"input[name=topics][value='{topic.pk}']").check()
    page.locator("form:has(input[name=action][value=preferences]) button[type=submit]").click()
    expect(page.get_by_text("Vos préférences sont enregistrées")).to_be_visible()

    # An email address for the alerts: the SMTP server receives its confirmation link.
    address_form = page.locator("form:has(input[name=action][value=add_address])")
    address_form.locator("select[name=channel]").select_option("email")
    address_form.locator("input[name=value]").fill("alertes.maison@example.com")
    address_form.locator("button[type=submit]").click()
    expect(page.get_by_text("Nous avons envoyé un lien de confirmation")).to_be_visible()
    row = page.locator("table tr", has_text="alertes.maison@example.com")
    expect(row).to_contain_text("À confirmer")

    [body] = received(smtp_server, "alertes.maison@example.com")
    links = re.findall(r"https?://\S+/alertes/abonnement/courriel/\S+/", body)
    assert len(links) == 1, body
    page.goto(links[0])
    page.locator("main form button[type=submit]").click()
    expect(page.locator("h1")).to_be_visible()

    page.goto("/fr/alertes/abonnement/")
    expect(page.locator("table tr", has_text="alertes.maison@example.com")).to_contain_text(
        "Confirmée")
    subscriber = Subscriber.objects.get(user__email="abonnee@example.com")
    address = subscriber.addresses.get(value="alertes.maison@example.com")
    assert address.verified
    assert subscriber.topics.filter(pk=topic.pk).exists()


def test_officer_sends_an_alert_and_an_approver_approves_it(
        browser, page, demo_site, smtp_server):
    from playwright.sync_api import expect

    from modules.alertes.models import Alert, Topic
    from modules.alertes.roles import APPROVERS, COMMUNICATIONS_OFFICERS
    from tests.alertes.conftest import make_subscriber

    topic = Topic.objects.create(slug="essai-e2e", name_fr="Essai du navigateur",
                                 name_en="Browser trial", order=99)
    make_subscriber(email="riverain@example.com", topics=[topic])
    officer = make_user("agente.comm@example.com", password=PASSWORD, is_staff=True,
                        groups=[COMMUNICATIONS_OFFICERS])
    approver = make_user("approbateur@example.com", password=PASSWORD, is_staff=True,
                         groups=[APPROVERS])

    # The officer writes the alert and submits it for approval.
    sign_in(page, officer.email, next_url="/admin/snippets/alertes/alert/add/")
    page.locator("input[name=title_fr]").fill("Rue Victoria fermée demain")
    page.locator("textarea[name=body_fr], input[name=body_fr]").first.fill(
        "Travaux d'aqueduc : la rue Victoria sera fermée de 7 h à 17 h.")
    page.locator("input[name=channels][value=email]").check()
    page.locator("select[name=topics]").select_option(str(topic.pk))
    submit = page.locator("button[name=action-submit]")
    if not submit.is_visible():
        page.locator("footer [data-w-dropdown-target=toggle]").first.click()
    submit.click()
    expect(page.locator(".messages")).to_be_visible()
    alert = Alert.objects.get(title_fr="Rue Victoria fermée demain")
    assert alert.workflow_in_progress and alert.status == "draft"
    assert alert.current_workflow_state.requested_by == officer
    assert not received(smtp_server, "riverain@example.com")

    # The approver, in another browser, approves it: it is sent.
    approver_context = browser.new_context(locale="fr-CA", base_url=demo_site.url)
    try:
        other = approver_context.new_page()
        sign_in(other, approver.email,
                next_url=f"/admin/snippets/alertes/alert/edit/{alert.pk}/")
        approve = other.locator("button[data-workflow-action-name=approve]").first
        if not approve.is_visible():
            other.locator("footer [data-w-dropdown-target=toggle]").first.click()
        approve.click()
        expect(other.locator(".messages")).to_be_visible()
    finally:
        approver_context.close()

    alert.refresh_from_db()
    assert alert.status == "sent" and alert.live and alert.sent_by == approver
    [body] = received(smtp_server, "riverain@example.com")
    assert "la rue Victoria sera fermée de 7 h à 17 h" in body
    # The public sees it.
    page.goto(f"/fr/alertes/{alert.pk}/")
    expect(page.locator("h1")).to_have_text("Rue Victoria fermée demain")
