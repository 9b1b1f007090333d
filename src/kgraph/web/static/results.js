/*
 * The query page's extra result views, as YASR plugins: a Map of the POINT values of geo:wktLiteral results
 * (drawn by map.js: Leaflet over the vendored country outlines, nothing fetched from another host) and a Timeline of
 * the date values (xsd:date, xsd:dateTime, xsd:gYearMonth, xsd:gYear), each offered only when the results have
 * such values. Every value is shown as text; IRIs of this dataset link to this server's pages, other http(s) IRIs
 * link out, and any other scheme is text.
 */
(function () {
  "use strict";

  var config = JSON.parse(document.getElementById("kgraph-config").textContent);
  var XSD = "http://www.w3.org/2001/XMLSchema#";
  var WKT = "http://www.opengis.net/ont/geosparql#wktLiteral";
  var DATES = [XSD + "date", XSD + "dateTime", XSD + "gYearMonth", XSD + "gYear"];
  var POINT = /^\s*(?:<[^>]*>\s*)?POINT\s*\(\s*(-?\d+(?:\.\d+)?)\s+(-?\d+(?:\.\d+)?)\s*\)\s*$/i;

  // This server's page for an IRI of the dataset, or null.
  function localHref(iri) {
    for (var i = 0; i < config.local.length; i++) {
      var namespace = config.local[i][0];
      if (iri === namespace || (config.local[i][2] && iri.indexOf(namespace) === 0)) {
        return config.local[i][1] + iri.slice(namespace.length);
      }
    }
    return null;
  }

  function shortIri(iri) {
    var best = iri;
    Object.keys(config.prefixes).forEach(function (prefix) {
      var namespace = config.prefixes[prefix];
      if (iri.indexOf(namespace) === 0 && iri.length > namespace.length) {
        best = prefix + ":" + iri.slice(namespace.length);
      }
    });
    return best;
  }

  // One term as a page element: a link for an http(s) IRI (this server's page for the dataset's), else text.
  function termElement(term) {
    if (term.type === "uri") {
      var local = localHref(term.value);
      var safe = local !== null || /^https?:\/\//i.test(term.value);
      var element = document.createElement(safe ? "a" : "span");
      element.textContent = shortIri(term.value);
      element.title = term.value;
      if (safe) {
        element.href = local !== null ? local : term.value;
        element.className = local !== null ? "iri" : "iri external";
      }
      return element;
    }
    var text = document.createElement("span");
    text.className = "literal";
    text.textContent = term.value;
    return text;
  }

  function bindings(yasr) {
    return (yasr.results && yasr.results.getBindings && yasr.results.getBindings()) || [];
  }

  function rowLabel(row, skip) {
    var names = Object.keys(row).filter(function (name) { return name !== skip; });
    var literal = names.filter(function (n) { return row[n].type !== "uri" && row[n].datatype !== WKT; })[0];
    if (literal) {
      return row[literal].value;
    }
    var iri = names.filter(function (n) { return row[n].type === "uri"; })[0];
    return iri ? shortIri(row[iri].value) : "";
  }

  function points(yasr) {
    var found = [];
    bindings(yasr).forEach(function (row) {
      Object.keys(row).forEach(function (name) {
        var term = row[name];
        var match = term.datatype === WKT && POINT.exec(term.value);
        if (match) {
          found.push({ lon: Number(match[1]), lat: Number(match[2]), label: rowLabel(row, name) || term.value });
        }
      });
    });
    return found;
  }

  function icon(text) {
    var element = document.createElement("span");
    element.className = "kgraph-view-icon";
    element.textContent = text;
    return element;
  }

  function MapView(yasr) {
    this.yasr = yasr;
    this.priority = 3;
    this.label = "Map";
  }
  MapView.prototype.canHandleResults = function () {
    return Boolean(window.L && window.topojson && window.kgraphMap) && points(this.yasr).length > 0;
  };
  MapView.prototype.getIcon = function () { return icon("\u25C9"); };
  MapView.prototype.draw = function () {
    var element = document.createElement("div");
    element.className = "map result-map";
    this.yasr.resultsEl.appendChild(element);
    var found = points(this.yasr);
    return window.kgraphMap.draw(element, found, {
      outlines: config.outlines,
      caption: found.length + (found.length === 1 ? " point" : " points"),
    });
  };

  function dated(yasr) {
    var found = [];
    bindings(yasr).forEach(function (row) {
      var name = Object.keys(row).filter(function (n) { return DATES.indexOf(row[n].datatype) >= 0; })[0];
      if (name) {
        found.push({ when: row[name].value, row: row, name: name });
      }
    });
    return found;
  }

  function TimelineView(yasr) {
    this.yasr = yasr;
    this.priority = 2;
    this.label = "Timeline";
  }
  TimelineView.prototype.canHandleResults = function () { return dated(this.yasr).length > 0; };
  TimelineView.prototype.getIcon = function () { return icon("\u2630"); };
  // Rows by their first date value; ISO values sort as text, a year before its months and a month before its days.
  TimelineView.prototype.draw = function () {
    var groups = {};
    dated(this.yasr).forEach(function (entry) {
      (groups[entry.when] = groups[entry.when] || []).push(entry);
    });
    var list = document.createElement("ol");
    list.className = "timeline result-timeline";
    Object.keys(groups).sort().forEach(function (when) {
      var moment = document.createElement("li");
      moment.className = "moment";
      var time = document.createElement("time");
      time.className = "when";
      time.dateTime = when;
      time.textContent = when;
      moment.appendChild(time);
      var events = document.createElement("ul");
      events.className = "events";
      groups[when].forEach(function (entry) {
        var item = document.createElement("li");
        Object.keys(entry.row).filter(function (n) { return n !== entry.name; }).forEach(function (n, i) {
          if (i > 0) {
            item.appendChild(document.createTextNode(" \u00B7 "));
          }
          item.appendChild(termElement(entry.row[n]));
        });
        events.appendChild(item);
      });
      moment.appendChild(events);
      list.appendChild(moment);
    });
    var box = document.createElement("div");
    box.className = "timeline";
    box.appendChild(list);
    this.yasr.resultsEl.appendChild(box);
  };

  Yasgui.Yasr.registerPlugin("kgraphTimeline", TimelineView);
  Yasgui.Yasr.registerPlugin("kgraphMap", MapView);
  window.kgraphResults = { localHref: localHref };
})();
