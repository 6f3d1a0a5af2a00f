"""A browser renews its push subscription (``pushsubscriptionchange``): the service worker
subscribes again and posts the old and new subscriptions; the server replaces the stored
address when the old endpoint *and* its keys match (the auth secret is the proof, no
session or CSRF token), never touches another subscriber's address, rate-limits, and
answers bad input with a clear 400 that changes nothing."""

import json
import re
import shutil
import subprocess

import pytest
from django.core.cache import cache
from django.test import Client
from freezegun import freeze_time

from modules.alertes.models import Address, Delivery, Subscriber
from modules.alertes.services import push_subscriptions

from .test_push import AUTH, _key, browser, push_alert, send

CHANGE = "/fr/alertes/abonnement/notifications/changement/"


@pytest.fixture(autouse=True)
def fresh_rate_limit():
    cache.clear()  # the limiter counts per client address in the cache
    yield
    cache.clear()


@pytest.fixture
def worker():
    """What a service worker's fetch is: no session, no CSRF token (checks enforced)."""
    return Client(enforce_csrf_checks=True)


def subscription_of(address):
    return {"endpoint": address.value, "keys": dict(address.push_keys)}


def post(client, body, **extra):
    data = body if isinstance(body, (str, bytes)) else json.dumps(body)
    return client.post(CHANGE, data, content_type="application/json", **extra)


def snapshot():
    return sorted(Address.objects.values_list("pk", "subscriber_id", "value", "push_keys",
                                              "failing"))


def test_a_renewed_subscription_replaces_the_stored_one(worker, service):
    subscriber = Subscriber.objects.create(language="fr")
    old = browser(service, subscriber)
    new = service.new_device()
    response = post(worker, {"old": subscription_of(old), "new": new})
    assert response.status_code == 200, response.content
    assert response.json()["id"] == old.pk
    address = Address.objects.get(channel="push")
    assert (address.pk, address.subscriber_id) == (old.pk, subscriber.pk)
    assert address.value == new["endpoint"] and address.push_keys == new["keys"]
    assert address.verified and not address.failing
    # The next alert reaches the new subscription, encrypted with its keys.
    alert = push_alert()
    assert send(alert)["sent"] == 1
    [message] = service.received
    assert message["device"] == new["endpoint"].rsplit("/", 1)[-1]


@pytest.mark.parametrize("status", [410, 404])
def test_a_subscription_the_push_service_said_gone_can_still_be_renewed(worker, service,
                                                                        status):
    """The push service answers 404/410 on send: the address is marked failing (no alert
    tries it again), and kept so the browser's renewal can still replace it."""
    subscriber = Subscriber.objects.create(language="fr")
    old = browser(service, subscriber, status=status)
    assert send(push_alert())["failed"] == 1
    old.refresh_from_db()
    assert old.failing and str(status) in old.failing_reason
    assert send(push_alert(title_fr="Deuxième"))["sent"] == 0  # not tried again
    assert len(service.refused) == 1

    new = service.new_device()
    assert post(worker, {"old": subscription_of(old), "new": new}).status_code == 200
    old.refresh_from_db()
    assert not old.failing and old.failing_reason == "" and old.value == new["endpoint"]
    assert send(push_alert(title_fr="Troisième"))["sent"] == 1
    assert len(service.received) == 1


def test_deliveries_still_queued_follow_the_new_endpoint(worker, service):
    subscriber = Subscriber.objects.create(language="fr")
    old = browser(service, subscriber)
    alert = push_alert()
    from modules.alertes import services

    services.build_outbox(alert)
    row = Delivery.objects.get(alert=alert)
    assert row.status == "queued" and row.address == old.value
    new = service.new_device()
    assert post(worker, {"old": subscription_of(old), "new": new}).status_code == 200
    row.refresh_from_db()
    assert row.address == new["endpoint"]
    assert services.deliver([row.pk])["sent"] == 1
    assert service.received[0]["device"] == new["endpoint"].rsplit("/", 1)[-1]


def test_renewing_onto_an_endpoint_the_subscriber_already_has_merges(worker, service):
    subscriber = Subscriber.objects.create(language="fr")
    old = browser(service, subscriber)
    already = browser(service, subscriber)  # subscribed again from the page meanwhile
    new = service.new_device()
    new["endpoint"] = already.value
    response = post(worker, {"old": subscription_of(old), "new": new})
    assert response.status_code == 200 and response.json()["id"] == already.pk
    assert list(Address.objects.values_list("pk", "value")) == [(already.pk, already.value)]
    assert Address.objects.get().push_keys == new["keys"]


def test_another_subscribers_endpoint_cannot_be_taken(worker, service):
    """Owning *a* subscription does not let anyone move it onto someone else's."""
    mine = browser(service, Subscriber.objects.create(language="fr"))
    victim = browser(service, Subscriber.objects.create(language="en"))
    before = snapshot()
    response = post(worker, {"old": subscription_of(mine),
                                "new": {"endpoint": victim.value,
                                        "keys": service.new_device()["keys"]}})
    assert response.status_code == 400 and "taken" in response.json()["errors"]
    assert snapshot() == before


def test_knowing_an_endpoint_without_its_secret_changes_nothing(service, citizen):
    """A session is not the authorisation either: even the subscriber's own signed-in
    session with a wrong auth secret is refused (CSRF token given, to be sure)."""
    subscriber = Subscriber.objects.create(user=citizen, language="fr")
    address = browser(service, subscriber)
    client = Client()
    client.force_login(citizen)
    before = snapshot()
    wrong = {"endpoint": address.value,
             "keys": {"p256dh": address.push_keys["p256dh"], "auth": AUTH}}
    response = post(client, {"old": wrong, "new": service.new_device()})
    assert response.status_code == 400
    assert "n’est pas connu ici" in response.json()["errors"]["old"][0]
    wrong_key = {"endpoint": address.value,
                 "keys": {"p256dh": _key(), "auth": address.push_keys["auth"]}}
    assert post(client, {"old": wrong_key, "new": service.new_device()}).status_code == 400
    assert snapshot() == before


def _nasty(service, old):
    good_old, good_new = subscription_of(old), service.new_device()
    long_endpoint = "https://fcm.googleapis.com/fcm/send/" + "x" * 600
    return [
        ("pas du json", "subscription"),
        (b"\xff\xfe\x00garbage", "subscription"),
        ("[]", "subscription"),
        ("null", "subscription"),
        ({"old": good_old}, "subscription"),
        ({"new": good_new}, "subscription"),
        ({"old": "texte", "new": good_new}, "subscription"),
        ({"old": good_old, "new": ["liste"]}, "subscription"),
        ({"old": {**good_old, "endpoint": None}, "new": good_new}, "old"),
        ({"old": {**good_old, "endpoint": 12}, "new": good_new}, "old"),
        ({"old": {**good_old, "endpoint": long_endpoint}, "new": good_new}, "old"),
        ({"old": {**good_old, "endpoint": good_old["endpoint"] + "x"}, "new": good_new},
         "old"),
        ({"old": {"endpoint": good_old["endpoint"]}, "new": good_new}, "old"),
        ({"old": {**good_old, "keys": {"p256dh": "!!!", "auth": AUTH}}, "new": good_new},
         "old"),
        ({"old": {**good_old, "keys": {"p256dh": good_old["keys"]["p256dh"],
                                       "auth": {"$ne": ""}}}, "new": good_new}, "old"),
        ({"old": good_old, "new": {**good_new, "endpoint": "https://evil.example.com/x"}},
         "new"),
        ({"old": good_old, "new": {**good_new, "endpoint": "https://10.0.0.5/x"}}, "new"),
        ({"old": good_old, "new": {**good_new, "endpoint": "javascript:alert(1)"}}, "new"),
        ({"old": good_old, "new": {**good_new, "endpoint": long_endpoint}}, "new"),
        ({"old": good_old, "new": {"endpoint": good_new["endpoint"]}}, "new"),
        ({"old": good_old, "new": {**good_new, "keys": {"p256dh": _key(64), "auth": AUTH}}},
         "new"),
        ({"old": good_old, "new": {**good_new, "keys": {"p256dh": _key(),
                                                       "auth": "c2hvcnQ"}}}, "new"),
        (json.dumps({"old": good_old, "new": good_new, "pad": "x" * 5000}), "subscription"),
    ]


def test_bad_input_is_a_clear_400_and_changes_nothing(worker, service, settings):
    settings.ALERTES_PUSH_CHANGE_RATE = 1000
    subscriber = Subscriber.objects.create(language="fr")
    old = browser(service, subscriber)
    before = snapshot()
    cases = _nasty(service, old)
    for body, field in cases:
        response = post(worker, body)
        assert response.status_code == 400, (body, response.content)
        errors = response.json()["errors"]
        assert field in errors and all(errors[field]), (body, errors)
        assert snapshot() == before, body
    assert len(cases) > 20


def test_only_post(db, worker):
    assert worker.get(CHANGE).status_code == 405
    assert worker.put(CHANGE, "{}", content_type="application/json").status_code == 405


def test_renewals_are_rate_limited_per_client(worker, service, settings):
    settings.ALERTES_PUSH_CHANGE_RATE = 3
    settings.ALERTES_PUSH_CHANGE_WINDOW = 600
    subscriber = Subscriber.objects.create(language="fr")
    old = browser(service, subscriber)
    # The window is cut from the wall clock (10-minute slots): frozen 200 s into a slot,
    # so the four requests cannot straddle a slot boundary and flake.
    with freeze_time("2026-03-02 12:03:20") as clock:
        for _ in range(3):
            assert post(worker, {"old": subscription_of(old),
                                 "new": {"endpoint": "x"}}).status_code == 400
        before = snapshot()
        response = post(worker, {"old": subscription_of(old), "new": service.new_device()})
        assert response.status_code == 429
        assert response["Retry-After"] == "400"  # until the slot ends, 12:10:00
        assert snapshot() == before
        # Another client address is counted apart.
        other = post(worker, {"old": subscription_of(old), "new": service.new_device()},
                     REMOTE_ADDR="192.0.2.7")
        assert other.status_code == 200
        clock.tick(400)  # the next slot: a new budget
        assert post(worker, {"old": subscription_of(old),
                             "new": {"endpoint": "x"}}).status_code == 400


# --- the service worker ------------------------------------------------------------------

def test_the_service_worker_handles_pushsubscriptionchange(client, vapid):
    script = client.get("/alertes/sw.js").content.decode()
    assert 'addEventListener("pushsubscriptionchange"' in script

    def js_string(name):  # escapejs writes \uXXXX escapes, which JSON reads the same way
        match = re.search(rf'var {name} = ("[^"]*");', script)
        return json.loads(match.group(1))

    assert js_string("VAPID_PUBLIC_KEY") == vapid
    assert js_string("PUSH_CHANGE_URL") == CHANGE
    assert "applicationServerKey: keyBytes(VAPID_PUBLIC_KEY)" in script
    assert 'credentials: "omit"' in script  # no cookies: the auth secret is the proof


NODE_HARNESS = r"""
const vm = require("vm");
const fs = require("fs");
const [script, oldJson, newJson] = [fs.readFileSync(0, "utf8"), process.argv[1], process.argv[2]];
const handlers = {};
const posted = [];
const stored = {};
function sub(json) { return {toJSON: () => JSON.parse(json)}; }
const self = {
  addEventListener: (name, fn) => { handlers[name] = fn; },
  registration: {
    scope: "https://ville.example/alertes/",
    pushManager: {
      subscribe: (options) => {
        if (!(options.applicationServerKey instanceof Uint8Array)
            || options.applicationServerKey.length !== 65 || !options.userVisibleOnly) {
          return Promise.reject(new Error("bad options"));
        }
        return Promise.resolve(sub(newJson));
      },
      getSubscription: () => Promise.resolve(null),
    },
    showNotification: () => Promise.resolve(),
  },
  clients: {claim: () => Promise.resolve()},
  location: {origin: "https://ville.example", hostname: "ville.example"},
};
const caches = {open: () => Promise.resolve({
  put: (key, response) => response.text().then((t) => { stored[key] = t; }),
  match: (key) => Promise.resolve(key in stored ? new Response(stored[key]) : undefined),
})};
const fetch = (url, init) => { posted.push({url, init}); return Promise.resolve({ok: true}); };
const context = {self, caches, fetch, Response, URL, Uint8Array, atob, Promise, JSON,
                 location: self.location};
vm.runInNewContext(script, context);
let done;
handlers.pushsubscriptionchange({
  oldSubscription: sub(oldJson), newSubscription: null,
  waitUntil: (p) => { done = p; },
});
done.then(() => {
  console.log(JSON.stringify({posted: posted.map((p) => ({url: p.url, method: p.init.method,
    credentials: p.init.credentials, body: JSON.parse(p.init.body)})), stored}));
}).catch((e) => { console.error(e); process.exit(1); });
"""


@pytest.mark.skipif(shutil.which("node") is None, reason="needs Node.js")
def test_the_worker_posts_what_the_endpoint_accepts(client, worker, service, vapid):
    """sw.js run in Node with a fake ServiceWorkerGlobalScope: on
    ``pushsubscriptionchange`` it subscribes again with the VAPID key and posts the old
    and new subscriptions; the server accepts exactly that request."""
    subscriber = Subscriber.objects.create(language="fr")
    old = browser(service, subscriber)
    new = service.new_device()
    script = client.get("/alertes/sw.js").content.decode()
    run = subprocess.run(
        ["node", "-e", NODE_HARNESS, json.dumps(subscription_of(old)), json.dumps(new)],
        input=script, capture_output=True, text=True, timeout=60, check=False)
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    [request] = result["posted"]
    assert request["url"] == CHANGE and request["method"] == "POST"
    assert request["credentials"] == "omit"
    assert request["body"] == {"old": subscription_of(old), "new": new}
    assert json.loads(next(iter(result["stored"].values()))) == new  # remembered
    response = post(worker, request["body"])
    assert response.status_code == 200
    assert Address.objects.get(pk=old.pk).value == new["endpoint"]


def test_the_replacement_needs_every_key_to_match(service):
    """``keys_match`` in isolation: both keys, compared exactly."""
    subscriber = Subscriber.objects.create(language="fr")
    address = browser(service, subscriber)
    keys = dict(address.push_keys)
    assert push_subscriptions.keys_match(address, keys)
    assert not push_subscriptions.keys_match(address, {**keys, "auth": AUTH})
    assert not push_subscriptions.keys_match(address, {**keys, "p256dh": _key()})
    address.push_keys = {}
    assert not push_subscriptions.keys_match(address, keys)
