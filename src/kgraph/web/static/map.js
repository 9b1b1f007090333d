/*
 * Maps: Leaflet over an offline base map, the country outlines of world-atlas (Natural Earth), served from this
 * server like every other asset. There is no tile layer: a tile server would be a request leaving the machine.
 *
 * window.kgraphMap.draw(element, points, options) draws points ({lat, lon, label}) with the country outlines, the
 * names of the countries in view and an optional caption; the resource pages call it with the points of #points
 * (rendered server-side with their coordinates as text, so nothing is lost without the map), and the query page's
 * Map view with the POINT values of a result. Every label is data and goes in as text, never as markup.
 */
(function () {
  "use strict";

  var GRID = 14;
  var atlases = {};

  // Leaflet renders a string tooltip as HTML: a label is data, so it goes in as a text node, never as markup.
  function textElement(text) {
    var span = document.createElement("span");
    span.textContent = text;
    return span;
  }

  function inRing(lon, lat, ring) {
    var inside = false;
    for (var i = 0, j = ring.length - 1; i < ring.length; j = i++) {
      var xi = ring[i][0], yi = ring[i][1], xj = ring[j][0], yj = ring[j][1];
      if ((yi > lat) !== (yj > lat) && lon < (xj - xi) * (lat - yi) / (yj - yi) + xi) {
        inside = !inside;
      }
    }
    return inside;
  }

  function inCountry(lon, lat, geometry) {
    var polygons = geometry.type === "Polygon" ? [geometry.coordinates] : geometry.coordinates;
    return polygons.some(function (rings) {
      return inRing(lon, lat, rings[0]) && !rings.slice(1).some(function (hole) { return inRing(lon, lat, hole); });
    });
  }

  // Each country in view is named where the view shows it: at the middle of its visible part (sampled on a grid
  // and kept inside its outline), so Russia is named near Kursk rather than in Siberia, off the map.
  function labelCountries(map, features) {
    var view = map.getBounds();
    features.forEach(function (feature) {
      if (!feature.geometry || !L.geoJSON(feature).getBounds().intersects(view)) {
        return;
      }
      var inside = [];
      for (var i = 1; i < GRID; i++) {
        for (var j = 1; j < GRID; j++) {
          var lat = view.getSouth() + (view.getNorth() - view.getSouth()) * i / GRID;
          var lon = view.getWest() + (view.getEast() - view.getWest()) * j / GRID;
          if (inCountry(lon, lat, feature.geometry)) {
            inside.push([lat, lon]);
          }
        }
      }
      if (inside.length < 4) {
        return;
      }
      var mean = inside.reduce(function (a, p) {
        return [a[0] + p[0] / inside.length, a[1] + p[1] / inside.length];
      }, [0, 0]);
      var spot = inside.reduce(function (best, p) {
        var d = (p[0] - mean[0]) * (p[0] - mean[0]) + (p[1] - mean[1]) * (p[1] - mean[1]);
        return d < best.d ? { p: p, d: d } : best;
      }, { p: inside[0], d: Infinity }).p;
      L.tooltip({ permanent: true, direction: "center", className: "country-label", interactive: false })
        .setLatLng(spot)
        .setContent(textElement(feature.properties.name))
        .addTo(map);
    });
  }

  function loadAtlas(url) {
    if (!atlases[url]) {
      atlases[url] = fetch(url).then(function (response) {
        if (!response.ok) {
          throw new Error("country outlines: HTTP " + response.status);
        }
        return response.json();
      });
    }
    return atlases[url];
  }

  function addCaption(map, text) {
    var caption = L.control({ position: "topright" });
    caption.onAdd = function () {
      var box = L.DomUtil.create("div", "map-caption");
      box.textContent = text;
      return box;
    };
    caption.addTo(map);
  }

  function draw(element, items, options) {
    var map = L.map(element, { zoomSnap: 0.5, worldCopyJump: false });
    map.attributionControl.setPrefix("Leaflet");
    map.attributionControl.addAttribution("Country outlines: Natural Earth");
    var points = L.featureGroup(items.map(function (item) {
      var marker = L.circleMarker([item.lat, item.lon], {
        radius: 7,
        weight: 2,
        color: "#8a1c1c",
        fillColor: "#d9412b",
        fillOpacity: 0.9,
        className: "point-marker",
      });
      return marker.bindTooltip(textElement(item.label), { permanent: items.length < 6, direction: "right" });
    })).addTo(map);
    if (items.length === 1) {
      map.setView(points.getLayers()[0].getLatLng(), 7);
    } else {
      map.fitBounds(points.getBounds(), { padding: [40, 40], maxZoom: 7 });
    }
    if (options.caption) {
      addCaption(map, options.caption);
    }
    return loadAtlas(options.outlines)
      .then(function (atlas) {
        var countries = topojson.feature(atlas, atlas.objects.countries);
        L.geoJSON(countries, {
          interactive: false,
          style: { color: "#7d8799", weight: 1, fillColor: "#f3f1ea", fillOpacity: 1 },
        }).addTo(map).bringToBack();
        labelCountries(map, countries.features);
        element.dataset.state = "ready";
        return map;
      })
      .catch(function (error) {
        element.dataset.state = "no-outlines";
        element.title = String(error);
        return map;
      });
  }

  window.kgraphMap = { draw: draw };

  var element = document.getElementById("map");
  var items = Array.prototype.slice.call(document.querySelectorAll("#points .point[data-lat]"));
  if (!element || !items.length || !window.L || !window.topojson) {
    return;
  }
  element.hidden = false;
  draw(element, items.map(function (item) {
    return { lat: Number(item.dataset.lat), lon: Number(item.dataset.lon), label: item.dataset.label };
  }), { outlines: element.dataset.outlines, caption: element.dataset.caption });
})();
