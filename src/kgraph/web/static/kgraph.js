/*
 * The query page's editor: YASGUI pointed at this server's /sparql and nothing else.
 *
 * The page must work offline, so every YASGUI feature that would call out is switched off here: the endpoint
 * catalogue (DBpedia and Wikidata by default), the LOV property/class autocompleters, prefix.cc and the
 * saved-state restore (which could bring back a foreign endpoint from an earlier visit). A share link carries the
 * query and its settings in the URL (nothing is stored on the server); opening one restores them, but always
 * against this server's endpoint. Errors are shown as text with their line and column, marked in the editor;
 * result IRIs of this dataset open this server's pages.
 */
(function () {
  "use strict";

  var config = JSON.parse(document.getElementById("kgraph-config").textContent);
  var endpoint = new URL(config.endpoint, window.location.href).href;
  var inferBox = document.getElementById("infer");
  var errorMarks = [];
  var scrollToResults = false;

  function inferArgs() {
    return inferBox.checked ? [] : [{ name: "infer", value: "false" }];
  }

  // A shared link's settings: the inference switch travels as the infer=false request argument.
  function restoreSettings() {
    var shared = new URLSearchParams(window.location.hash.slice(1));
    if (shared.get("infer") === "false") {
      inferBox.checked = false;
    }
  }

  // Completion from this endpoint only: the graph's own classes, properties and resources, and the project's
  // prefixes. YASGUI's own "property" and "class" completers ask lov.linkeddata.es, so they are forked here with
  // another source; each list is fetched once, on the first completion that needs it (none on page load).
  var TERM_QUERIES = {
    class: "SELECT DISTINCT ?t WHERE { { ?t a <http://www.w3.org/2002/07/owl#Class> } UNION " +
      "{ ?t a <http://www.w3.org/2000/01/rdf-schema#Class> } UNION { [] a ?t } FILTER(isIRI(?t)) } LIMIT 5000",
    property: "SELECT DISTINCT ?t WHERE { { ?t a <http://www.w3.org/1999/02/22-rdf-syntax-ns#Property> } UNION " +
      "{ ?t a <http://www.w3.org/2002/07/owl#ObjectProperty> } UNION " +
      "{ ?t a <http://www.w3.org/2002/07/owl#DatatypeProperty> } UNION " +
      "{ ?t a <http://www.w3.org/2002/07/owl#AnnotationProperty> } UNION { [] ?t [] } } LIMIT 5000",
    resource: "SELECT DISTINCT ?t WHERE { ?t ?p ?o FILTER(STRSTARTS(STR(?t), \"" + config.resourceNamespace +
      "\")) } LIMIT 20000",
  };
  var termLists = {};

  function terms(kind) {
    if (!termLists[kind]) {
      var url = endpoint + "?" + new URLSearchParams({ query: TERM_QUERIES[kind] }).toString();
      termLists[kind] = fetch(url, { headers: { Accept: "application/sparql-results+json" } })
        .then(function (response) { return response.ok ? response.json() : { results: { bindings: [] } }; })
        .then(function (data) {
          return data.results.bindings.map(function (row) { return row.t.value; }).sort();
        })
        .catch(function () { delete termLists[kind]; return []; });
    }
    return termLists[kind];
  }

  function completeFrom(kind) {
    return function (yasqe, token) {
      var start = token ? token.autocompletionString || token.string : "";
      return terms(kind).then(function (list) {
        return list.filter(function (iri) { return iri.indexOf(start) === 0; }).slice(0, 100);
      });
    };
  }

  var resourcePattern = new RegExp("^(kgr:|<" + config.resourceNamespace.replace(/[.*+?^${}()|[\]\\]/g, "\\$&") + ")");
  Yasgui.Yasqe.forkAutocompleter("class", { name: "kg-class", get: completeFrom("class"), persistenceId: null }, false);
  Yasgui.Yasqe.forkAutocompleter("property", { name: "kg-property", get: completeFrom("property"), persistenceId: null }, false);
  Yasgui.Yasqe.forkAutocompleter("class", {
    name: "kg-resource",
    get: completeFrom("resource"),
    persistenceId: null,
    isValidCompletionPosition: function (yasqe) {
      return resourcePattern.test(yasqe.getCompleteToken().string);
    },
  }, false);
  Yasgui.Yasqe.forkAutocompleter("prefixes", {
    name: "kg-prefixes",
    persistenceId: null,
    get: function () {
      return Object.keys(config.prefixes).sort().map(function (p) { return p + ": <" + config.prefixes[p] + ">"; });
    },
  }, false);
  // YASGUI concatenates array options with its defaults, so listing completers in the config would keep the
  // defaults' "property" and "class": the defaults themselves must change.
  Yasgui.Yasqe.defaults.autocompleters = ["variables", "kg-prefixes", "kg-class", "kg-property", "kg-resource"];
  // Each tab's result view copies the defaults, not the options given to Yasgui: the error view is set there too.
  Yasgui.Yasr.defaults.errorRenderers = [renderError];

  restoreSettings();
  var yasgui = new Yasgui(document.getElementById("yasgui"), {
    requestConfig: { endpoint: endpoint, method: "POST", args: [] },
    copyEndpointOnNewTab: true,
    endpointCatalogueOptions: { getData: function () { return [{ endpoint: endpoint }]; }, keys: [] },
    persistenceId: null,
    // A share link restores its query, tab name, request method and result view, and YASGUI runs it; the endpoint
    // is always this server's, and the inference switch (read from the link by restoreSettings) sets the arguments.
    populateFromUrl: function (tabConfig) {
      tabConfig.requestConfig.endpoint = endpoint;
      tabConfig.requestConfig.args = inferArgs();
      return tabConfig;
    },
    autofocus: false,
    yasqe: { value: config.defaultQuery, prefixCcApi: null },
    yasr: { prefixes: config.prefixes, persistenceId: null },
  });

  // Read the checkbox when a query is sent, whichever tab sends it; clear the previous error's marks.
  yasgui.on("queryBefore", function (instance, tab) {
    tab.setRequestConfig({ endpoint: endpoint, args: inferArgs() });
    clearErrorMarks();
  });

  yasgui.on("queryResponse", function (instance, tab) {
    if (scrollToResults) {
      scrollToResults = false;
      var results = tab.getYasr().rootEl;
      window.requestAnimationFrame(function () { results.scrollIntoView({ block: "start" }); });
    }
  });

  // YASQE rethrows a failed request after YASR has shown it: the error is on the page, not an uncaught one.
  window.addEventListener("unhandledrejection", function (event) {
    if (event.reason instanceof Error && /^\{"status": \d+/.test(event.reason.message)) {
      event.preventDefault();
    }
  });

  // The server answers errors as {"status", "message"} (JSON, as YASGUI asks for JSON) or as plain text.
  function errorMessage(error) {
    var text = (error && error.text) || "";
    try {
      var parsed = JSON.parse(text);
      if (parsed && typeof parsed.message === "string") {
        return { status: parsed.status, message: parsed.message };
      }
    } catch (ignored) {
      // not JSON: the text itself is the message
    }
    return { status: error && error.status, message: text.trim() || "The query failed (no answer from the server)." };
  }

  function renderError(error) {
    var found = errorMessage(error);
    var box = document.createElement("div");
    box.className = "query-error";
    box.setAttribute("role", "alert");
    var title = document.createElement("strong");
    title.textContent = found.status ? "Error " + found.status : "Error";
    var message = document.createElement("p");
    message.className = "message";
    message.textContent = found.message;
    box.appendChild(title);
    box.appendChild(message);
    var where = /line (\d+), column (\d+)/.exec(found.message);
    if (where) {
      markError(Number(where[1]), Number(where[2]));
    }
    var opened = /opened at line (\d+), column (\d+)/.exec(found.message);
    if (opened) {
      markOpener(Number(opened[1]) - 1, Number(opened[2]) - 1);
    }
    return box;
  }

  // A bracket left open or closed by the wrong kind: the server names where it was opened, at its own column.
  function markOpener(row, ch) {
    var yasqe = yasgui.getTab().getYasqe();
    if (row < yasqe.lineCount() && ch < yasqe.getLine(row).length) {
      errorMarks.push(yasqe.markText({ line: row, ch: ch }, { line: row, ch: ch + 1 }, { className: "query-error-opener" }));
    }
  }

  // The server's column points just past the text it could not use: mark the character before it, and its line.
  function markError(line, column) {
    var yasqe = yasgui.getTab().getYasqe();
    var row = Math.min(Math.max(line - 1, 0), yasqe.lineCount() - 1);
    var length = yasqe.getLine(row).length;
    var end = Math.min(Math.max(column - 1, 1), Math.max(length, 1));
    errorMarks.push(yasqe.markText({ line: row, ch: end - 1 }, { line: row, ch: end }, { className: "query-error-mark" }));
    errorMarks.push(yasqe.addLineClass(row, "background", "query-error-line"));
    yasqe.setCursor({ line: row, ch: end });
  }

  function clearErrorMarks() {
    var yasqe = yasgui.getTab().getYasqe();
    errorMarks.forEach(function (mark) {
      if (mark.clear) {
        mark.clear();
      } else {
        yasqe.removeLineClass(mark, "background", "query-error-line");
      }
    });
    errorMarks = [];
  }

  // Result IRIs of this dataset open this server's page for them, in the same tab (results.js knows where).
  var localHref = window.kgraphResults.localHref;

  function relink(root) {
    root.querySelectorAll("a.iri[href]").forEach(function (link) {
      var iri = link.getAttribute("href");
      var local = localHref(iri);
      if (local !== null) {
        link.dataset.iri = iri;
        link.title = iri;
        link.setAttribute("href", local);
        link.removeAttribute("target");
      }
    });
  }

  new MutationObserver(function () { relink(document.getElementById("yasgui")); })
    .observe(document.getElementById("yasgui"), { childList: true, subtree: true });

  function openExample(item) {
    var tab = yasgui.getTab();
    if (item.dataset.infer === "true") {
      inferBox.checked = true;
    }
    tab.setName(item.querySelector(".example-link").textContent);
    tab.setQuery(item.querySelector(".example-text").textContent);
    scrollToResults = true;
    tab.query().catch(function () {});
  }

  document.querySelectorAll("#examples .example").forEach(function (item) {
    item.querySelector(".example-link").addEventListener("click", function (event) {
      event.preventDefault();
      openExample(item);
    });
  });

  window.kgraphYasgui = yasgui;
})();
