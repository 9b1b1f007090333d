"""The query page and its example-query routes, via Flask's test client on a fixture project."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest
import rdflib
from flask import Flask
from flask.testing import FlaskClient

from kgraph.project import ProjectFiles
from kgraph.web import ui

FIXTURE = Path(__file__).parents[1] / "fixtures" / "ui"
ONTOLOGY = Path(__file__).parents[2] / "ontology" / "kgraph.ttl"


def _serving(root: Path) -> SimpleNamespace:
    """Stands in for the app's Service: the page only asks it for the project's files and whether it serves them."""
    return SimpleNamespace(graph=SimpleNamespace(files=ProjectFiles(root)), settings=SimpleNamespace(own_data=False))


@pytest.fixture
def client() -> FlaskClient:
    app = Flask(__name__)
    app.register_blueprint(ui.bp)
    app.extensions["kgraph"] = _serving(FIXTURE)
    return app.test_client()


def test_parse_example_reads_header_comments() -> None:
    text = (FIXTURE / "queries" / "alpha.rq").read_text(encoding="utf-8")
    assert ui.parse_example("alpha", text) == ui.ExampleQuery(
        name="alpha",
        title="Which things have a label?",
        description="Lists every labelled resource, with its label.",
        infer=False,
        text=text,
    )


def test_parse_example_without_header_uses_the_name() -> None:
    example = ui.parse_example("bare", "SELECT * WHERE { ?s ?p ?o }\n# title: too late\n")
    assert (example.title, example.description, example.infer) == ("bare", "", False)


def test_read_examples_skips_unsafe_names_and_other_files() -> None:
    assert [e.name for e in ui.read_examples(FIXTURE / "queries")] == ["alpha", "beta"]


def test_read_examples_of_missing_folder_is_empty(tmp_path: Path) -> None:
    assert ui.read_examples(tmp_path / "nowhere") == []


def test_index_lists_examples_with_their_text(client: FlaskClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert response.content_type == "text/html; charset=utf-8"
    page = response.get_data(as_text=True)
    assert '<a class="example-link" href="/queries/alpha.rq">Which things have a label?</a>' in page
    assert "Lists every labelled resource, with its label." in page
    assert "Is anything a &lt;b&gt;class&lt;/b&gt;?" in page
    assert "SELECT ?thing ?label WHERE { ?thing rdfs:label ?label }" in page
    assert 'data-name="beta" data-infer="true"' in page


def test_index_has_a_plain_form_posting_to_the_endpoint(client: FlaskClient) -> None:
    page = client.get("/").get_data(as_text=True)
    assert '<form method="post" action="/sparql" id="plain-form">' in page
    assert '<textarea id="plain-query" name="query"' in page
    assert '<option value="csv">csv (text/csv)</option>' in page
    assert '<option value="turtle">turtle (text/turtle)</option>' in page
    assert '<option value="false">off</option>' in page


def test_index_loads_only_local_assets(client: FlaskClient) -> None:
    page = client.get("/").get_data(as_text=True)
    assert '<script src="/assets/vendor/yasgui.min.js"></script>' in page
    assert "//" not in "".join(line for line in page.splitlines() if "src=" in line or "href=" in line)


def test_index_config_declares_the_project_prefixes(client: FlaskClient) -> None:
    page = client.get("/").get_data(as_text=True)
    start = page.index('<script id="kgraph-config" type="application/json">') + 51
    config = json.loads(page[start : page.index("</script>", start)])
    assert config["endpoint"] == "/sparql"
    assert config["prefixes"] == ui.PREFIXES
    assert config["defaultQuery"].startswith("PREFIX kg: <https://w3id.org/kgraph/ontology#>\n")


def test_prefixes_match_the_ontology() -> None:
    graph = rdflib.Graph().parse(ONTOLOGY)
    declared = {prefix: str(iri) for prefix, iri in graph.namespaces()}
    assert {p: declared[p] for p in ui.PREFIXES if p in declared} == {
        p: iri for p, iri in ui.PREFIXES.items() if p in declared
    }
    assert set(ui.PREFIXES) - set(declared) == {"kgr"}


def test_index_without_vendored_assets_says_to_run_setup(client: FlaskClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ui, "VENDOR_FILES", ("not-installed.js",))
    response = client.get("/")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "The query editor's files are not installed. Run <code>make setup</code>" in page
    assert "yasgui.min.js" not in page
    assert '<details class="plain" open>' in page


def test_index_without_examples(client: FlaskClient, tmp_path: Path) -> None:
    client.application.extensions["kgraph"] = _serving(tmp_path)
    page = client.get("/").get_data(as_text=True)
    assert "No example queries yet" in page


def test_queries_json(client: FlaskClient) -> None:
    response = client.get("/queries.json")
    assert response.status_code == 200
    assert [(e["name"], e["title"], e["infer"]) for e in response.get_json()] == [
        ("alpha", "Which things have a label?", False),
        ("beta", "Is anything a <b>class</b>?", True),
    ]


def test_raw_query(client: FlaskClient) -> None:
    response = client.get("/queries/beta.rq")
    assert response.status_code == 200
    assert response.content_type == "application/sparql-query; charset=utf-8"
    assert response.get_data(as_text=True) == (FIXTURE / "queries" / "beta.rq").read_text()


@pytest.mark.parametrize(
    "path",
    [
        "/queries/missing.rq",
        "/queries/not%20a%20name.rq",
        "/queries/..%2F..%2Fpyproject.rq",
        "/queries/../ui.rq",
        "/queries/%2e%2e.rq",
    ],
)
def test_raw_query_serves_only_listed_names(client: FlaskClient, path: str) -> None:
    assert client.get(path).status_code == 404


def test_vendored_asset_is_served(client: FlaskClient) -> None:
    if not ui.vendor_installed():
        pytest.skip("run `make assets` to vendor YASGUI")
    response = client.get("/assets/vendor/yasgui.min.css")
    assert response.status_code == 200
    response.close()
    assert response.content_type == "text/css; charset=utf-8"
