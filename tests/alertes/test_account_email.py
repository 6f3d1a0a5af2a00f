"""The signed-in resident's verified account email is offered as an alert channel, added
in one click without a new confirmation link (issue 13); an unverified account email is
not offered and cannot be added that way."""

from django.core import mail

from modules.alertes import services
from modules.alertes.models import Address, ConsentRecord
from tests.conftest import make_user

URL = "/fr/alertes/abonnement/"


def test_a_verified_account_email_is_offered_and_added_already_confirmed(
        citizen_client, citizen):
    page = citizen_client.get(URL).content.decode()
    assert 'id="account-email-offer"' in page and "citoyenne@example.com" in page
    assert "déjà confirmée" in page

    response = citizen_client.post(URL, {"action": "use_account_email"})
    assert response.status_code == 302
    address = Address.objects.get(subscriber__user=citizen, channel="email")
    assert address.value == "citoyenne@example.com" and address.verified
    assert mail.outbox == []  # no confirmation link: the sign-up confirmed it
    assert ConsentRecord.objects.filter(subscriber__user=citizen, action="given",
                                        scope="channel:email").exists()
    # Offered no more once added; a second click adds nothing.
    assert 'id="account-email-offer"' not in citizen_client.get(URL).content.decode()
    citizen_client.post(URL, {"action": "use_account_email"})
    assert Address.objects.filter(subscriber__user=citizen).count() == 1


def test_an_unverified_account_email_is_not_offered(client, db):
    resident = make_user("pas.confirme@example.com", verified=False)
    client.force_login(resident)
    assert 'id="account-email-offer"' not in client.get(URL).content.decode()
    client.post(URL, {"action": "use_account_email"})
    assert not Address.objects.filter(subscriber__user=resident).exists()
    subscriber = services.subscriber_for(resident)
    assert services.account_email_offer(subscriber, resident) == ""


def test_the_offer_follows_the_addresses_the_subscriber_already_has(citizen):
    subscriber = services.subscriber_for(citizen)
    assert services.account_email_offer(subscriber, citizen) == "citoyenne@example.com"
    services.add_address(subscriber, "email", "Citoyenne@Example.com", verified=True)
    assert services.account_email_offer(subscriber, citizen) == ""
