"""The demo data a newcomer gets from `make run` (issue 13, "a demo that demonstrates"):
`manage.py hub demo` seeds an agent per department, two officers (one approves) with an
alert awaiting approval, the demo partner's OIDC client, a resident with requests at
several stages and a subscription on their verified account email, an updated and a
cancelled alert; it runs on every `make run`, so a second run changes nothing.

The browser side (an agent assigns, an officer approves, a resident signs in to the
partner through the consent screen) is tests/e2e/test_demo.py.
"""

import os
import subprocess
import sys

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import check_password

from hub import demo, demo_partner


def _counts():
    from oauth2_provider.models import get_application_model

    from modules.alertes.models import Address, Alert, Delivery, TopicSubscription
    from modules.requetes.models import RequestEvent, ServiceRequest

    return {
        "users": get_user_model().objects.count(),
        "alerts": Alert.objects.count(), "deliveries": Delivery.objects.count(),
        "addresses": Address.objects.count(),
        "subscriptions": TopicSubscription.objects.count(),
        "requests": ServiceRequest.objects.count(), "events": RequestEvent.objects.count(),
        "clients": get_application_model().objects.count(),
    }


@pytest.mark.django_db
def test_the_demo_seeds_every_role_and_a_second_run_changes_nothing(settings):
    from hub.models import Department
    from modules.alertes import cap
    from modules.alertes.models import Address, Alert
    from modules.alertes.roles import APPROVERS, COMMUNICATIONS_OFFICERS
    from modules.requetes.models import ServiceRequest
    from modules.requetes.roles import DEPARTMENT_AGENTS

    settings.HUB_DEMO_PARTNER = True
    demo.load()
    first = _counts()
    User = get_user_model()

    # An agent per department, who may sign in with the demo password.
    for department in Department.objects.all():
        [agent] = department.agents.all()
        assert agent.email == f"agent.{department.slug}@example.com"
        assert agent.groups.filter(name=DEPARTMENT_AGENTS).exists()
        assert agent.check_password("espace-citoyen-demo") and agent.has_verified_email()

    # Two officers, the second an approver; an alert the first submitted awaits approval.
    writer = User.objects.get(email="agente.communications@example.com")
    approver = User.objects.get(email="approbateur.communications@example.com")
    assert set(writer.groups.values_list("name", flat=True)) == {COMMUNICATIONS_OFFICERS}
    assert set(approver.groups.values_list("name", flat=True)) == {
        COMMUNICATIONS_OFFICERS, APPROVERS}
    [pending] = Alert.objects.filter(status="draft")
    assert pending.workflow_in_progress
    assert pending.current_workflow_state.requested_by == writer
    assert pending.current_workflow_task.get_actions(pending, approver)
    assert not pending.current_workflow_task.get_actions(pending, writer)  # four eyes

    # The resident: requests at four stages, one assigned to the roads agent.
    stages = dict(ServiceRequest.objects.filter(citizen__email="resident@example.com")
                  .values_list("category__service_code", "status"))
    assert stages == {"voirie": "acknowledged", "eclairage": "new",
                      "signalisation": "in_progress", "ordures": "closed"}
    assert ServiceRequest.objects.get(
        citizen__email="resident@example.com", category__service_code="signalisation"
    ).assigned_to.email == "agent.travaux-publics@example.com"
    # … subscribed on their verified account email (no link sent) and a mobile number.
    resident = User.objects.get(email="resident@example.com")
    addresses = {(a.channel, a.value, a.verified)
                 for a in Address.objects.filter(subscriber__user=resident)}
    assert addresses == {("email", "resident@example.com", True),
                         ("sms", "+14505550141", True)}
    assert resident.alert_subscriber.topics.filter(is_emergency=False).count() == 3

    # An update and a cancellation: their CAP documents reference the originals.
    update = Alert.objects.get(kind="update")
    cancel = Alert.objects.get(kind="cancel")
    assert update.status == cancel.status == "sent"
    assert cancel.references.status == "cancelled" and update.references.status == "sent"
    for correction, msg_type in ((update, "Update"), (cancel, "Cancel")):
        document = cap.document(correction)
        document = document.decode() if isinstance(document, bytes) else document
        assert f"<msgType>{msg_type}</msgType>" in document
        assert f"<references>{cap.reference(correction.references)}</references>" in document

    # The partner's client: confidential, consent asked, the derived secret.
    from oauth2_provider.models import get_application_model

    client = get_application_model().objects.get(client_id=demo_partner.CLIENT_ID)
    assert client.client_type == "confidential" and not client.skip_authorization
    assert check_password(demo_partner.client_secret(), client.client_secret)
    assert f"{settings.BASE_URL}/partenaire-demo/retour/" in client.redirect_uris.split()
    # The API docs' client: public (no secret, PKCE), consent asked, the docs' redirect.
    docs = get_application_model().objects.get(client_id=demo_partner.DOCS_CLIENT_ID)
    assert docs.client_type == "public" and not docs.skip_authorization
    assert docs.authorization_grant_type == "authorization-code"
    assert f"{settings.BASE_URL}/api/docs/oauth2-redirect.html" in docs.redirect_uris.split()

    demo.load()
    assert _counts() == first


@pytest.mark.django_db
def test_the_partner_client_keeps_earlier_callbacks_and_is_registered_once(settings):
    from oauth2_provider.models import get_application_model

    demo_partner.ensure_client("http://127.0.0.1:8000")
    client = demo_partner.ensure_client("http://127.0.0.1:8010")
    assert client.redirect_uris.split() == [
        "http://127.0.0.1:8000/partenaire-demo/retour/",
        "http://localhost:8000/partenaire-demo/retour/",
        "http://127.0.0.1:8010/partenaire-demo/retour/",
        "http://localhost:8010/partenaire-demo/retour/"]
    assert get_application_model().objects.filter(
        client_id=demo_partner.CLIENT_ID).count() == 1


@pytest.mark.django_db
def test_the_partner_is_not_served_when_switched_off(client, settings):
    settings.HUB_DEMO_PARTNER = False
    for path in ("/partenaire-demo/", "/partenaire-demo/connexion/",
                 "/partenaire-demo/retour/?code=x&state=y"):
        assert client.get(path).status_code == 404, path


@pytest.mark.django_db
def test_the_partner_starts_a_pkce_flow_and_refuses_a_forged_callback(client, settings):
    from urllib.parse import parse_qs, urlsplit

    settings.HUB_DEMO_PARTNER = True
    response = client.get("/partenaire-demo/connexion/")
    assert response.status_code == 302
    target = urlsplit(response["Location"])
    query = {k: v[0] for k, v in parse_qs(target.query).items()}
    assert target.path == "/o/authorize/"
    assert query["client_id"] == "partenaire-demo" and query["code_challenge_method"] == "S256"
    assert query["redirect_uri"] == "http://testserver/partenaire-demo/retour/"
    assert response.cookies[demo_partner.COOKIE]["path"] == "/partenaire-demo/"
    # A callback whose state is not the one the partner sent is refused.
    forged = client.get("/partenaire-demo/retour/", {"code": "abc", "state": "autre"})
    assert forged.status_code == 400 and "state" in forged.content.decode()


def test_production_settings_refuse_the_demo_partner():
    env = {**os.environ, "DEBUG": "0", "SECRET_KEY": "x" * 50, "HUB_DEMO_PARTNER": "1",
           "DJANGO_SETTINGS_MODULE": "hub.settings", "ALLOWED_HOSTS": "example.org"}
    result = subprocess.run([sys.executable, "-c", "import django; django.setup()"],
                            env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    assert "HUB_DEMO_PARTNER is for development only" in result.stderr
    env.pop("HUB_DEMO_PARTNER")
    result = subprocess.run([sys.executable, "-c",
                             "import django; django.setup(); from django.conf import "
                             "settings; print(settings.HUB_DEMO_PARTNER)"],
                            env=env, capture_output=True, text=True, timeout=120)
    assert result.stdout.strip() == "False", result.stderr
