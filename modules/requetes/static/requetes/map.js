/* Maps of `requetes`, progressively enhanced: every page works without this script (the
   latitude/longitude fields and the lists are always there); this only adds Leaflet.

   <div class="requetes-map" hidden data-config="ID" data-mode="picker|points" ...>
   - data-config: id of a json_script element {tiles, attribution, bounds}
   - picker: data-lat-field, data-lon-field (input ids), data-status (a live region id);
     clicking the map, dragging the pin, or pressing Enter on the focused map (pin at its
     centre) fills the fields; typing in the fields moves the pin.
   - points: data-points (id of a json_script list of {lat, lon, label, url}). */
(function () {
  "use strict";
  if (typeof L === "undefined") { return; }

  var ZOOM_TITLES = { fr: ["Zoom avant", "Zoom arrière"], en: ["Zoom in", "Zoom out"] };

  function readJson(id) {
    var element = id && document.getElementById(id);
    return element ? JSON.parse(element.textContent) : null;
  }

  function baseMap(container, config) {
    container.hidden = false;
    var wrapper = container.closest("[data-map-wrapper]");
    if (wrapper) { wrapper.hidden = false; }
    var map = L.map(container, { keyboard: true, scrollWheelZoom: false, zoomControl: false });
    // Leaflet's zoom buttons are titled in English; name them in the page's language.
    var zoom = ZOOM_TITLES[(document.documentElement.lang || "fr").slice(0, 2)] || ZOOM_TITLES.fr;
    L.control.zoom({ zoomInTitle: zoom[0], zoomOutTitle: zoom[1] }).addTo(map);
    L.tileLayer(config.tiles, { attribution: config.attribution, maxZoom: 19 }).addTo(map);
    map.fitBounds(config.bounds);
    if (container.dataset.label) {
      container.setAttribute("role", "application");
      container.setAttribute("aria-label", container.dataset.label);
    }
    return map;
  }

  function picker(container, config) {
    var latField = document.getElementById(container.dataset.latField);
    var lonField = document.getElementById(container.dataset.lonField);
    var status = document.getElementById(container.dataset.status || "");
    if (!latField || !lonField) { return; }
    var map = baseMap(container, config);
    var marker = null;

    function announce(lat, lon) {
      if (status) {
        status.textContent = (container.dataset.announce || "%s, %s")
          .replace("%s", lat).replace("%s", lon);
      }
    }
    function fill(latlng) {
      var lat = latlng.lat.toFixed(6), lon = latlng.lng.toFixed(6);
      latField.value = lat;
      lonField.value = lon;
      announce(lat, lon);
    }
    function place(latlng, pan) {
      if (marker) {
        marker.setLatLng(latlng);
      } else {
        marker = L.marker(latlng, { draggable: true, title: container.dataset.pinLabel || "",
                                    alt: container.dataset.pinLabel || "" }).addTo(map);
        marker.on("dragend", function () { fill(marker.getLatLng()); });
      }
      if (pan) { map.setView(latlng, Math.max(map.getZoom(), 16)); }
    }
    function fromFields() {
      var lat = parseFloat(String(latField.value).replace(",", "."));
      var lon = parseFloat(String(lonField.value).replace(",", "."));
      if (isFinite(lat) && isFinite(lon) && Math.abs(lat) <= 90 && Math.abs(lon) <= 180) {
        place(L.latLng(lat, lon), true);
      }
    }

    map.on("click", function (event) { place(event.latlng, false); fill(event.latlng); });
    container.addEventListener("keydown", function (event) {
      if (event.target !== container) { return; }
      if (event.key === "Enter" || event.key === " ") {
        event.preventDefault();
        var centre = map.getCenter();
        place(centre, false);
        fill(centre);
      }
    });
    latField.addEventListener("change", fromFields);
    lonField.addEventListener("change", fromFields);
    fromFields();
  }

  function points(container, config) {
    /* Pins closer than GAP pixels are drawn as one pin listing them all (redrawn at each
       zoom): overlapping pins are targets too small to hit (WCAG 2.5.8, 24 px). */
    var GAP = 48;
    var items = readJson(container.dataset.points) || [];
    var map = baseMap(container, config);
    var layer = L.layerGroup().addTo(map);
    var bounds = items.map(function (item) { return [item.lat, item.lon]; });

    function entry(item) {
      if (!item.url) { return document.createTextNode(item.label); }
      var link = document.createElement("a");
      link.href = item.url;
      link.textContent = item.label;
      return link;
    }

    function draw() {
      layer.clearLayers();
      var groups = [];
      items.forEach(function (item) {
        var point = map.latLngToLayerPoint([item.lat, item.lon]);
        var group = null;
        for (var i = 0; i < groups.length && !group; i++) {
          if (groups[i].point.distanceTo(point) < GAP) { group = groups[i]; }
        }
        if (group) { group.items.push(item); } else { groups.push({ point: point, items: [item] }); }
      });
      groups.forEach(function (group) {
        var first = group.items[0];
        var label = first.label;
        var content = document.createElement("div");
        if (group.items.length === 1) {
          content.appendChild(entry(first));
        } else {
          label = (container.dataset.groupLabel || "%s").replace("%s", group.items.length);
          var list = document.createElement("ul");
          group.items.forEach(function (item) {
            var li = document.createElement("li");
            li.appendChild(entry(item));
            list.appendChild(li);
          });
          content.appendChild(list);
        }
        L.marker([first.lat, first.lon], { title: label, alt: label }).bindPopup(content)
          .addTo(layer);
      });
    }

    if (bounds.length) { map.fitBounds(bounds, { maxZoom: 16, padding: [20, 20] }); }
    map.on("zoomend", draw);
    draw();
  }

  Array.prototype.forEach.call(document.querySelectorAll(".requetes-map"), function (el) {
    var config = readJson(el.dataset.config);
    if (!config) { return; }
    if (el.dataset.mode === "picker") { picker(el, config); } else { points(el, config); }
  });
})();
