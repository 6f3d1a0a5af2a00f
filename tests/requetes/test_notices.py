"""`requetes` tells the requester and the "me too" followers through ``hub_notify`` on
every public step, in each person's language, once per change and person; an internal
note or a step without public meaning tells nobody, and nobody is told about their own
action.

The observer is a plugin implementing ``hub_notify`` registered on the plugin manager
(it answers first, as an implementation does): it sees the real ``Notice`` objects that
``hub.notify`` hands over after the commit.  Delivery itself (outbox, email, SMS) is
tested end to end in tests/test_request_notices_e2e.py."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction

from hub.notify import Notice, Recipient
from hub.plugins import hookimpl
from hub.plugins.manager import collect, get_plugin_manager
from modules.requetes import services

NBSP = "\u00a0"


class _Observer:
    def __init__(self):
        self.notices: list[Notice] = []

    @hookimpl
    def hub_notify(self, notice):
        self.notices.append(notice)
        return True

    def to(self, user) -> list[Notice]:
        return [n for n in self.notices if n.recipient.user_id == user.pk]

    def clear(self):
        self.notices.clear()


@pytest.fixture
def told():
    pm = get_plugin_manager()
    observer = _Observer()
    pm.register(observer, name="test-requetes-notice-observer")
    yield observer
    pm.unregister(name="test-requetes-notice-observer")


@pytest.fixture
def english_follower(other_citizen):
    other_citizen.preferred_language = "en"
    other_citizen.save()
    return other_citizen


@pytest.fixture
def followed(make_request, english_follower, told, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        request = make_request()
        services.follow(request, user=english_follower)
    assert told.notices == []  # creating and following tell nobody
    return request


def _step(captured, function, *args, **kwargs):
    with captured(execute=True):
        return function(*args, **kwargs)


def test_topic_is_declared():
    [topic] = [t for t in collect("hub_notice_topics") if t.slug == "requests"]
    assert (topic.name_fr, topic.name_en) == ("Mes requêtes", "My requests")
    assert topic.default_channels == ("email",)


def test_acknowledged_tells_requester_in_french_and_follower_in_english(
        followed, citizen, english_follower, agent_a, told,
        django_capture_on_commit_callbacks):
    event = _step(django_capture_on_commit_callbacks, services.transition, followed,
                  actor=agent_a, to_status="acknowledged",
                  public_message="Une équipe passera demain.",
                  internal_note="Poteau 12 déjà signalé par Hydro")
    ref = followed.reference
    [french] = told.to(citizen)
    assert french.recipient == Recipient.for_user(citizen)
    assert french.subject == f"Votre requête {ref}{NBSP}: prise en charge"
    assert french.topic == "requests" and french.source == "requetes"
    assert french.dedupe_key == f"requetes:event:{event.pk}:user:{citizen.pk}"
    assert f"Le service Travaux publics a pris en charge la requête {ref} " \
           "(Éclairage de rue)." in french.body
    assert f"«{NBSP}Une équipe passera demain.{NBSP}»" in french.body
    assert french.url.endswith(f"/fr/requetes/{ref}/") and french.url.startswith("http")
    assert french.url not in french.body  # the transport adds the link, once
    assert french.short == (f"Le service Travaux publics a pris en charge la requête {ref} "
                            f"(Éclairage de rue). «{NBSP}Une équipe passera demain.{NBSP}»")
    [english] = told.to(english_follower)
    assert english.subject == f"The request {ref} you follow: acknowledged"
    assert "Travaux publics has taken charge of request" in english.body
    assert "(Street lighting)" in english.body
    assert "“Une équipe passera demain.”" in english.body
    assert english.url.endswith(f"/en/requetes/{ref}/")
    for notice in told.notices:  # the internal note and the agent reach nobody
        assert "Hydro" not in notice.body + notice.subject + notice.short
        assert agent_a.email not in notice.body
    assert len(told.notices) == 2


def test_assigned_does_not_name_the_agent(followed, citizen, agent_a, told,
                                          django_capture_on_commit_callbacks):
    agent_a.first_name, agent_a.last_name = "Gaston", "Lagaffe"
    agent_a.save()
    _step(django_capture_on_commit_callbacks, services.transition, followed,
          actor=agent_a, to_status="assigned", assignee=agent_a)
    [notice] = told.to(citizen)
    assert notice.subject.endswith(f"{NBSP}: confiée à une équipe")
    assert "confiée à une personne du service Travaux publics" in notice.body
    for text in ("Gaston", "Lagaffe", agent_a.email):
        assert text not in notice.body + notice.subject


def test_internal_steps_tell_nobody(followed, agent_a, told,
                                    django_capture_on_commit_callbacks):
    _step(django_capture_on_commit_callbacks, services.add_internal_note, followed,
          actor=agent_a, note="Voir avec l'équipe de nuit")
    _step(django_capture_on_commit_callbacks, services.set_description_redacted, followed,
          actor=agent_a, redacted=True)
    _step(django_capture_on_commit_callbacks, services.transition, followed,
          actor=agent_a, to_status="assigned", assignee=agent_a)
    told.clear()
    # A reassignment says nothing to the people unless the city writes to them.
    _step(django_capture_on_commit_callbacks, services.transition, followed,
          actor=agent_a, to_status="assigned", assignee=agent_a, internal_note="relève")
    assert told.notices == []
    _step(django_capture_on_commit_callbacks, services.transition, followed,
          actor=agent_a, to_status="assigned", assignee=agent_a,
          public_message="Nous attendons la pièce.")
    assert {n.subject.split(":")[-1].strip() for n in told.notices} == {
        "nouveau message", "new message"}


def test_the_citys_comments_reach_the_others_the_requesters_do_not(
        followed, citizen, english_follower, agent_a, told,
        django_capture_on_commit_callbacks):
    _step(django_capture_on_commit_callbacks, services.add_comment, followed,
          actor=agent_a, message="Nous avons commandé l'ampoule.")
    assert len(told.to(citizen)) == 1 and len(told.to(english_follower)) == 1
    assert "La Ville a écrit au sujet de la requête" in told.to(citizen)[0].body
    told.clear()
    _step(django_capture_on_commit_callbacks, services.add_comment, followed,
          actor=citizen, message="Appelez-moi au 450 555-0817.")
    # The requester's own comment is theirs (issue 12): not a public step, so the
    # followers are not told of it, and the requester is not told of their own.
    assert told.notices == []


def test_closed_with_reason_and_details(followed, citizen, english_follower, agent_a,
                                        told, django_capture_on_commit_callbacks):
    _step(django_capture_on_commit_callbacks, services.transition, followed,
          actor=agent_a, to_status="closed", closure_reason="not_city_responsibility",
          closure_note="Hydro-Québec entretient ce lampadaire.")
    [french] = told.to(citizen)
    assert french.subject == f"Votre requête {followed.reference}{NBSP}: fermée"
    assert f"est fermée. Motif{NBSP}: Ne relève pas de la Ville." in french.body
    assert f"Précisions{NBSP}: Hydro-Québec entretient ce lampadaire." in french.body
    [english] = told.to(english_follower)
    assert "Reason: Not the city's responsibility." in english.body


def test_merged_tells_the_duplicates_people_where_to_look(
        make_request, followed, citizen, other_citizen, agent_a, told,
        django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        copy = make_request(actor=other_citizen)
    told.clear()
    _step(django_capture_on_commit_callbacks, services.transition, copy, actor=agent_a,
          to_status="closed", closure_reason="duplicate", duplicate_of=followed.reference)
    # Only the duplicate's requester is told (the original's people learn nothing new).
    [notice] = told.notices
    assert notice.recipient.user_id == other_citizen.pk
    assert notice.subject == (f"Your request {copy.reference}: merged into "
                              f"{followed.reference}")
    assert f"you will now receive the updates of request {followed.reference}" \
        in notice.body
    assert notice.url.endswith(f"/en/requetes/{followed.reference}/")


def test_reopened_by_the_requester_tells_the_followers_only(
        followed, citizen, english_follower, agent_a, told,
        django_capture_on_commit_callbacks):
    _step(django_capture_on_commit_callbacks, services.transition, followed,
          actor=agent_a, to_status="closed", closure_reason="fixed")
    told.clear()
    _step(django_capture_on_commit_callbacks, services.reopen, followed, actor=citizen,
          message="Toujours éteint.")
    assert told.to(citizen) == []
    [notice] = told.notices
    assert notice.recipient.user_id == english_follower.pk
    assert notice.subject.endswith("you follow: reopened")
    # The step, not the requester's own words (issue 12: followers get public steps).
    assert "Toujours éteint." not in notice.body and "Toujours éteint." not in notice.short


def test_a_phone_caller_is_told_on_their_phone(make_request, intake_agent, agent_a, told,
                                               django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        request = make_request(actor=intake_agent, channel="phone", caller_name="Jean Roy",
                               caller_phone="450 555-0101", contact_channel="phone")
    event = _step(django_capture_on_commit_callbacks, services.transition, request,
                  actor=agent_a, to_status="acknowledged")
    [notice] = told.notices
    assert notice.recipient == Recipient(phone="450 555-0101", language="fr",
                                         name="Jean Roy")
    assert notice.dedupe_key == (f"requetes:event:{event.pk}:"
                                 "contact:|450 555-0101")
    assert notice.url == ""  # no account: the page would ask them to sign in
    assert notice.short.startswith("Le service Travaux publics a pris en charge")


def test_a_caller_who_wants_no_follow_up_is_not_told(make_request, intake_agent, agent_a,
                                                     told,
                                                     django_capture_on_commit_callbacks):
    request = make_request(actor=intake_agent, channel="counter", caller_name="Anne",
                           caller_email="anne@example.com", contact_channel="none")
    _step(django_capture_on_commit_callbacks, services.transition, request,
          actor=agent_a, to_status="acknowledged")
    assert told.notices == []


def test_a_change_rolled_back_tells_nobody(followed, agent_a, told,
                                           django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError), \
            transaction.atomic():
        services.transition(followed, actor=agent_a, to_status="acknowledged")
        raise RuntimeError("the rest of the agent's form failed")
    assert told.notices == []


def test_the_same_change_saved_twice_tells_once(followed, citizen, agent_a, told,
                                                django_capture_on_commit_callbacks):
    first = _step(django_capture_on_commit_callbacks, services.transition, followed,
                  actor=agent_a, to_status="acknowledged", public_message="Reçu")
    # The agent's form sent twice (double click): the first event, nothing recorded.
    again = _step(django_capture_on_commit_callbacks, services.transition, followed,
                  actor=agent_a, to_status="acknowledged", public_message="Reçu")
    assert again.pk == first.pk and followed.events.filter(kind="status").count() == 1
    with pytest.raises(ValidationError):  # not a repeat: a step that cannot be taken
        _step(django_capture_on_commit_callbacks, services.transition, followed,
              actor=agent_a, to_status="acknowledged", public_message="Autre chose")
    assert len(told.to(citizen)) == 1
    # A retried delivery carries the same key: the transport keeps it once.
    keys = {n.dedupe_key for n in told.notices}
    assert len(keys) == len(told.notices) == 2


def test_a_reply_sent_twice_is_recorded_and_told_once(followed, citizen, agent_a, told,
                                                      django_capture_on_commit_callbacks):
    first = _step(django_capture_on_commit_callbacks, services.add_comment, followed,
                  actor=agent_a, message="Nous passerons jeudi.")
    again = _step(django_capture_on_commit_callbacks, services.add_comment, followed,
                  actor=agent_a, message="Nous passerons jeudi.")
    assert again.pk == first.pk
    assert followed.events.filter(kind="comment").count() == 1
    assert len(told.to(citizen)) == 1
    later = _step(django_capture_on_commit_callbacks, services.add_comment, followed,
                  actor=agent_a, message="Finalement vendredi.")
    assert later.pk != first.pk and len(told.to(citizen)) == 2


def test_a_long_message_is_cut_for_text_messages(followed, citizen, agent_a, told,
                                                 django_capture_on_commit_callbacks):
    _step(django_capture_on_commit_callbacks, services.add_comment, followed,
          actor=agent_a, message="Des travaux sont prévus. " * 40)
    [notice] = told.to(citizen)
    assert len(notice.short) <= 200 and notice.short.endswith("…")
    assert ("Des travaux sont prévus. " * 40).strip() in notice.body
