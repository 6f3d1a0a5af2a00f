"""Privacy by default (Québec's Law 25, art. 9.1): an account made through the real
sign-up has every optional thing off — no alert subscription, no channel beyond the
account's own email for what concerns the resident, no staff role, no third-party grant,
no optional personal detail.  Every table that points at the account is checked, so an
opt-in a future module adds with a default "on" makes this test fail."""

import re

import pytest
from django.apps import apps
from django.conf import settings
from django.core import mail
from django.core.cache import cache
from django.db import models

from hub.models import User
from hub.notify import notice_topics

PASSWORD = "motdepasse-solide-42"

# Rows that a new account needs and may have: the email address it signs in with.
NEEDED = {"account.emailaddress"}


def related_rows(user) -> dict[str, int]:
    """``{"app.model": rows}`` pointing at ``user``, over every installed model."""
    found = {}
    for model in apps.get_models(include_auto_created=True):
        for field in model._meta.get_fields():
            if not field.concrete or not field.is_relation:
                continue
            if field.related_model is not settings.AUTH_USER_MODEL and (
                    field.related_model is not User):
                continue
            if isinstance(field, models.ManyToManyField):
                continue  # the auto-created through model is visited on its own
            count = model._default_manager.filter(**{field.name: user}).count()
            if count:
                label = model._meta.label_lower
                found[label] = found.get(label, 0) + count
    return found


@pytest.mark.django_db
@pytest.mark.parametrize("url, email", [("/fr/compte/signup/", "Nouvelle@Example.com"),
                                        ("/en/compte/signup/", "newcomer@example.com")])
def test_a_new_account_has_every_optional_thing_off(client, url, email):
    cache.clear()  # allauth's rate limits live in the cache
    mail.outbox.clear()
    response = client.post(url, {"email": email, "password1": PASSWORD,
                                 "password2": PASSWORD})
    assert response.status_code == 302
    user = User.objects.get(email=email.lower())
    # Confirm the address through the link sent, as a resident would.
    link = re.search(r"/(?:fr|en)/compte/confirm-email/[^/\s]+/", mail.outbox[-1].body)
    assert link, mail.outbox[-1].body
    assert client.post(link.group(0)).status_code == 302
    user.refresh_from_db()

    # No staff role, no permission, no optional personal detail.
    assert not user.is_staff and not user.is_superuser
    assert not user.groups.exists() and not user.user_permissions.exists()
    assert (user.phone, user.civic_address, user.postal_code, user.first_name,
            user.last_name) == ("", "", "", "", "")

    # Nothing else points at the account: no alert subscriber or topic subscription,
    # no notice preference, no followed request, no OAuth grant or token, no address
    # followed, no public profile.
    rows = related_rows(user)
    assert set(rows) <= NEEDED, f"opted in by default: {set(rows) - NEEDED}"
    assert rows.get("account.emailaddress") == 1
    assert not user.followed_requests.exists()

    # What concerns the resident (e.g. the updates of their own requests) goes by
    # default only to the email they signed up with: no SMS, push or call until they
    # choose one.
    for topic in notice_topics():
        assert set(topic.default_channels) <= {"email"}, topic.slug


@pytest.mark.django_db
def test_alert_subscriptions_start_empty_and_the_page_shows_nothing_checked(client):
    cache.clear()
    client.post("/fr/compte/signup/", {"email": "alerte@example.com",
                                       "password1": PASSWORD, "password2": PASSWORD})
    user = User.objects.get(email="alerte@example.com")
    client.force_login(user)
    from modules.alertes.models import Subscriber, TopicSubscription

    assert not Subscriber.objects.filter(user=user).exists()
    assert not TopicSubscription.objects.exists()
    page = client.get("/fr/alertes/abonnement/")
    assert page.status_code == 200
    # The subscription form: no alert topic or channel ticked in advance; only the
    # notices about the resident's own business (their requests' updates) are on, and
    # on email only, the address they signed up with.
    ticked = re.findall(rb'<input[^>]*type="checkbox"[^>]*checked[^>]*>', page.content)
    assert ticked, "the page shows the notice choices"
    for box in ticked:
        assert b'name="notice_' in box and b'value="email"' in box, box
