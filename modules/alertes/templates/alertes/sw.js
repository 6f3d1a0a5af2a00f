{% load static %}/* Service worker of the city's alerts: shows a Web Push notification and opens the
   alert's page when it is clicked.  The payload (decrypted by the browser) is JSON:
   {title, body, url, tag, severity, lang}.

   When the browser renews or expires the push subscription ("pushsubscriptionchange"),
   it subscribes again with the city's VAPID key and sends the previous subscription and
   the new one to the server, which replaces the stored one (the previous subscription's
   auth secret is the proof: no session or CSRF token is needed).  The current
   subscription is remembered in the Cache Storage for browsers that do not give the
   previous one with the event. */
"use strict";

var VAPID_PUBLIC_KEY = "{{ vapid_public_key|escapejs }}";
var PUSH_CHANGE_URL = "{{ push_change_url|escapejs }}";
var STORE = "alertes-push";
var REMEMBERED = new URL("subscription.json", self.registration.scope).href;

function keyBytes(base64url) {
  var padded = (base64url + "===".slice((base64url.length + 3) % 4)).replace(/-/g, "+").replace(/_/g, "/");
  var raw = atob(padded);
  var bytes = new Uint8Array(raw.length);
  for (var i = 0; i < raw.length; i++) { bytes[i] = raw.charCodeAt(i); }
  return bytes;
}

function remember(subscription) {
  if (!subscription) { return Promise.resolve(); }
  var json = subscription.toJSON ? subscription.toJSON() : subscription;
  return caches.open(STORE).then(function (cache) {
    return cache.put(REMEMBERED, new Response(JSON.stringify(json),
                                              {headers: {"Content-Type": "application/json"}}));
  });
}

function remembered() {
  return caches.open(STORE).then(function (cache) { return cache.match(REMEMBERED); })
    .then(function (response) { return response ? response.json() : null; })
    .catch(function () { return null; });
}

function rememberCurrent() {
  return self.registration.pushManager.getSubscription().then(remember).catch(function () {});
}

function resubscribe(oldSubscription, newSubscription) {
  var previous = oldSubscription ? Promise.resolve(oldSubscription.toJSON()) : remembered();
  return previous.then(function (old) {
    if (!old || !old.endpoint || !old.keys) { return null; }  // nothing of ours to replace
    return self.registration.pushManager.subscribe({
      userVisibleOnly: true, applicationServerKey: keyBytes(VAPID_PUBLIC_KEY)
    }).catch(function (error) {
      if (newSubscription) { return newSubscription; }
      throw error;
    }).then(function (subscription) {
      var fresh = subscription.toJSON();
      if (fresh.endpoint === old.endpoint && fresh.keys && old.keys.auth === fresh.keys.auth) {
        return remember(subscription);
      }
      return fetch(PUSH_CHANGE_URL, {
        method: "POST", credentials: "omit", cache: "no-store",
        headers: {"Content-Type": "application/json"},
        body: JSON.stringify({old: {endpoint: old.endpoint, keys: old.keys}, "new": fresh})
      }).then(function (response) {
        if (response.ok) { return remember(subscription); }
        return null;  // refused: the subscription page offers to turn notifications on again
      });
    });
  });
}

self.addEventListener("install", function () { self.skipWaiting(); });
self.addEventListener("activate", function (event) {
  event.waitUntil(Promise.all([self.clients.claim(), rememberCurrent()]));
});
self.addEventListener("message", function (event) {
  if (event.data === "alertes:remember-subscription") { event.waitUntil(rememberCurrent()); }
});

self.addEventListener("pushsubscriptionchange", function (event) {
  event.waitUntil(resubscribe(event.oldSubscription, event.newSubscription));
});

self.addEventListener("push", function (event) {
  var data = {};
  if (event.data) {
    try { data = event.data.json(); } catch (error) { data = {body: event.data.text()}; }
  }
  var options = {
    body: data.body || "",
    tag: data.tag || undefined,
    lang: data.lang || undefined,
    renotify: Boolean(data.tag),
    requireInteraction: data.severity === "emergency",
    icon: "{% static 'theme/icons/logo.svg' %}",
    data: {url: data.url || "/"}
  };
  event.waitUntil(Promise.all([
    self.registration.showNotification(data.title || location.hostname, options),
    rememberCurrent()
  ]));
});

self.addEventListener("notificationclick", function (event) {
  event.notification.close();
  var target = new URL((event.notification.data && event.notification.data.url) || "/", self.location.origin);
  if (target.origin !== self.location.origin) { target = new URL("/", self.location.origin); }
  event.waitUntil(self.clients.matchAll({type: "window", includeUncontrolled: true}).then(function (windows) {
    for (var i = 0; i < windows.length; i++) {
      if (windows[i].url === target.href && "focus" in windows[i]) { return windows[i].focus(); }
    }
    return self.clients.openWindow(target.href);
  }));
});
