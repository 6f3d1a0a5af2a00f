{% load static %}/* Service worker of the city's alerts: shows a Web Push notification and opens the
   alert's page when it is clicked.  The payload (decrypted by the browser) is JSON:
   {title, body, url, tag, severity, lang}. */
"use strict";

self.addEventListener("install", function () { self.skipWaiting(); });
self.addEventListener("activate", function (event) { event.waitUntil(self.clients.claim()); });

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
  event.waitUntil(self.registration.showNotification(data.title || location.hostname, options));
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
