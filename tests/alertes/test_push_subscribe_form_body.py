"""The browser's push subscription endpoint is JSON; a form body (multipart, as a
forged or mistaken form POST sends) is a clear 400, not a 500: the CSRF check reads the
form first, after which the raw body can no longer be read (found by tests/test_csrf.py).
"""

import pytest

from modules.alertes.models.subscribers import Address

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("data", [{}, {"endpoint": "https://push.example.com/x"}])
def test_a_form_body_is_a_400(client, citizen, data):
    client.force_login(citizen)
    client.raise_request_exception = False
    response = client.post("/fr/alertes/abonnement/notifications/", data)
    assert response.status_code == 400
    assert "subscription" in response.json()["errors"]
    assert not Address.objects.filter(channel="push").exists()
