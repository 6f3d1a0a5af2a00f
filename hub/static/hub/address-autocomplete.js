/* Civic address autocompletion, from the city's address register.

   <input data-address-autocomplete data-url="/fr/adresses/suggestions/"
          [data-lat-field="id_latitude" data-lon-field="id_longitude"]>

   As the visitor types (3 characters or more), suggestions fill a native <datalist>
   (keyboard and screen reader friendly).  Choosing one writes its latitude and longitude
   into the given fields, if any, and fires "change" on them so a map's pin follows.
   Without JavaScript the field stays a plain text input that the server geocodes. */
(function () {
  "use strict";

  function setup(input, index) {
    var url = input.getAttribute("data-url");
    if (!url || !window.fetch) { return; }
    var list = document.createElement("datalist");
    list.id = (input.id || "address") + "-suggestions-" + index;
    input.insertAdjacentElement("afterend", list);
    input.setAttribute("list", list.id);
    var known = {};
    var timer = null;
    var asked = "";
    var latField = document.getElementById(input.getAttribute("data-lat-field") || "");
    var lonField = document.getElementById(input.getAttribute("data-lon-field") || "");

    function pick() {
      var hit = known[input.value];
      if (!hit || !latField || !lonField) { return; }
      latField.value = Number(hit.lat).toFixed(6);
      lonField.value = Number(hit.lon).toFixed(6);
      latField.dispatchEvent(new Event("change"));
    }

    function ask(query) {
      asked = query;
      fetch(url + "?q=" + encodeURIComponent(query), {
        headers: { "Accept": "application/json" }, credentials: "same-origin"
      }).then(function (response) {
        return response.ok ? response.json() : { results: [] };
      }).then(function (data) {
        if (asked !== query) { return; }  /* a newer query is on its way */
        list.textContent = "";
        (data.results || []).forEach(function (item) {
          known[item.label] = item;
          var option = document.createElement("option");
          option.value = item.label;
          if (item.district) { option.label = item.label + " — " + item.district; }
          list.appendChild(option);
        });
      }).catch(function () { /* the plain field still works */ });
    }

    input.addEventListener("input", function () {
      if (known[input.value]) { pick(); return; }
      var query = input.value.replace(/\s+/g, " ").trim();
      window.clearTimeout(timer);
      if (query.length < 3 || query === asked) { return; }
      timer = window.setTimeout(function () { ask(query); }, 250);
    });
    input.addEventListener("change", pick);
  }

  Array.prototype.forEach.call(
    document.querySelectorAll("input[data-address-autocomplete]"), setup);
})();
