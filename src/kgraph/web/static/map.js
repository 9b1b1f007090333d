/*
 * A resource page's map: Leaflet over an offline base map, the country outlines of world-atlas (Natural Earth),
 * served from this server like every other asset. There is no tile layer: a tile server would be a request
 * leaving the machine. The points come from the page itself (#points, rendered server-side with their
 * coordinates as text), so the map adds a picture to what the page already says and nothing is lost without it.
 */
(function () {
  "use strict";

  // Leaflet renders a string tooltip as HTML: a label is data, so it goes in as a text node, never as markup.
  function textElement(text) {
    var span = document.createElement("span");
    span.textContent = text;
    return span;
  }

  var element = document.getElementById("map");
  var items = Array.prototype.slice.call(document.querySelectorAll("#points .point[data-lat]"));
  if (!element || !items.length || !window.L || !window.topojson) {
    return;
  }
  element.hidden = false;

  var map = L.map(element, { zoomSnap: 0.5, worldCopyJump: false });
  map.attributionControl.setPrefix("Leaflet");
  map.attributionControl.addAttribution("Country outlines: Natural Earth");

  var points = L.featureGroup(items.map(function (item) {
    var marker = L.circleMarker([Number(item.dataset.lat), Number(item.dataset.lon)], {
      radius: 7,
      weight: 2,
      color: "#8a1c1c",
      fillColor: "#d9412b",
      fillOpacity: 0.9,
      className: "point-marker",
    });
    return marker.bindTooltip(textElement(item.dataset.label), { permanent: items.length < 6, direction: "right" });
  })).addTo(map);

  if (items.length === 1) {
    map.setView(points.getLayers()[0].getLatLng(), 7);
  } else {
    map.fitBounds(points.getBounds(), { padding: [40, 40], maxZoom: 7 });
  }

  fetch(element.dataset.outlines)
    .then(function (response) {
      if (!response.ok) {
        throw new Error("country outlines: HTTP " + response.status);
      }
      return response.json();
    })
    .then(function (atlas) {
      var countries = topojson.feature(atlas, atlas.objects.countries);
      L.geoJSON(countries, {
        interactive: false,
        style: { color: "#7d8799", weight: 1, fillColor: "#f3f1ea", fillOpacity: 1 },
      }).addTo(map).bringToBack();
      element.dataset.state = "ready";
    })
    .catch(function (error) {
      element.dataset.state = "no-outlines";
      element.title = String(error);
    });
})();
