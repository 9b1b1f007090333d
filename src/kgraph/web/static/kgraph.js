/*
 * The query page's editor: YASGUI pointed at this server's /sparql and nothing else.
 *
 * The page must work offline, so every YASGUI feature that would call out is switched off here: the endpoint
 * catalogue (DBpedia and Wikidata by default), the LOV property/class autocompleters, prefix.cc and the
 * saved-state restore (which could bring back a foreign endpoint from an earlier visit).
 */
(function () {
  "use strict";

  var config = JSON.parse(document.getElementById("kgraph-config").textContent);
  var endpoint = new URL(config.endpoint, window.location.href).href;
  var inferBox = document.getElementById("infer");

  function inferArgs() {
    return inferBox.checked ? [] : [{ name: "infer", value: "false" }];
  }

  // YASGUI concatenates array options with its defaults, so listing completers in the config would keep the
  // defaults' "property" and "class", which query lov.linkeddata.es: the defaults themselves must change.
  Yasgui.Yasqe.defaults.autocompleters = ["variables", "prefixes"];

  var yasgui = new Yasgui(document.getElementById("yasgui"), {
    requestConfig: { endpoint: endpoint, method: "POST", args: [] },
    copyEndpointOnNewTab: true,
    endpointCatalogueOptions: { getData: function () { return [{ endpoint: endpoint }]; }, keys: [] },
    persistenceId: null,
    populateFromUrl: false,
    autofocus: false,
    yasqe: { value: config.defaultQuery, prefixCcApi: null },
    yasr: { prefixes: config.prefixes, persistenceId: null },
  });

  // Read the checkbox when a query is sent, whichever tab sends it.
  yasgui.on("queryBefore", function (instance, tab) {
    tab.setRequestConfig({ args: inferArgs() });
  });

  function openExample(item) {
    var tab = yasgui.getTab();
    if (item.dataset.infer === "true") {
      inferBox.checked = true;
    }
    tab.setName(item.querySelector(".example-link").textContent);
    tab.setQuery(item.querySelector(".example-text").textContent);
    tab.query();
  }

  document.querySelectorAll("#examples .example").forEach(function (item) {
    item.querySelector(".example-link").addEventListener("click", function (event) {
      event.preventDefault();
      openExample(item);
    });
  });

  window.kgraphYasgui = yasgui;
})();
