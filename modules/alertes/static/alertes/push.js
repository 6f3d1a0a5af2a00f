/* "Turn on notifications in this browser" on the subscription page: registers the
   service worker, subscribes with the city's VAPID key and sends the subscription to
   the server (CSRF token from the form).  Every message shown comes from the page, in
   the page's language. */
(function () {
  "use strict";
  var form = document.getElementById("push-form");
  if (!form) { return; }
  var status = document.getElementById("push-status");
  var say = function (key) { status.textContent = form.getAttribute("data-" + key) || ""; };
  var supported = "serviceWorker" in navigator && "PushManager" in window && "Notification" in window;
  if (!supported) { say("unsupported"); return; }
  form.hidden = false;

  function keyBytes(base64url) {
    var padded = (base64url + "===".slice((base64url.length + 3) % 4)).replace(/-/g, "+").replace(/_/g, "/");
    var raw = atob(padded);
    var bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) { bytes[i] = raw.charCodeAt(i); }
    return bytes;
  }

  function active(registration) {
    if (registration.active) { return Promise.resolve(registration); }
    var worker = registration.installing || registration.waiting;
    return new Promise(function (resolve) {
      worker.addEventListener("statechange", function () {
        if (worker.state === "activated") { resolve(registration); }
      });
    });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var button = form.querySelector("button");
    button.disabled = true;
    say("working");
    Notification.requestPermission().then(function (permission) {
      if (permission !== "granted") { throw new Error("denied"); }
      return navigator.serviceWorker.register(form.getAttribute("data-worker"),
                                              {scope: form.getAttribute("data-scope")});
    }).then(active).then(function (registration) {
      return registration.pushManager.subscribe({
        userVisibleOnly: true,
        applicationServerKey: keyBytes(form.getAttribute("data-key"))
      }).then(function (subscription) {
        // The worker keeps a copy, to prove it owned it if the browser renews it.
        registration.active.postMessage("alertes:remember-subscription");
        return subscription;
      });
    }).then(function (subscription) {
      return fetch(form.action, {
        method: "POST", credentials: "same-origin",
        headers: {"Content-Type": "application/json",
                  "X-CSRFToken": form.querySelector("[name=csrfmiddlewaretoken]").value},
        body: JSON.stringify(subscription.toJSON())
      });
    }).then(function (response) {
      if (!response.ok) { throw new Error("server"); }
      say("done");
      window.setTimeout(function () { window.location.reload(); }, 1500);
    }).catch(function (error) {
      say(error && error.message === "denied" ? "denied" : "failed");
      button.disabled = false;
    });
  });
}());
