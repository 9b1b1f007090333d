"""``kgraph serve``: the command users run, started for real, queried, and stopped with SIGTERM."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import requests
from click.testing import CliRunner

from conftest import free_port
from kgraph.cli import main
from processes import descendants

if TYPE_CHECKING:
    from conftest import LiveServer

KGRAPH = Path(sys.executable).with_name("kgraph")
FIXTURES = Path(__file__).parent / "fixtures" / "project"
KG = "https://w3id.org/kgraph/ontology#"
KGR = "https://w3id.org/kgraph/id/"
CONFIRMERS = f"""PREFIX kg: <{KG}>
PREFIX kgr: <{KGR}>
SELECT (COUNT(DISTINCT ?who) AS ?confirmers) WHERE {{
  ?claim kg:about kgr:north-korean-deployment-kursk ;
         kg:stance kg:stanceConfirms ;
         kg:claimant ?who .
}}"""


def test_help_lists_the_options() -> None:
    result = CliRunner().invoke(main, ["serve", "--help"])
    assert result.exit_code == 0
    for option in ("--host", "--port", "--data", "--timeout", "--store"):
        assert option in result.output


def test_missing_data_path_is_a_usage_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["serve", "--data", str(tmp_path / "absent.ttl")])
    assert result.exit_code == 2
    assert "does not exist" in result.output


def test_article_graph_counts_the_deployment_confirmers(live_server: LiveServer) -> None:
    response = requests.get(live_server.endpoint, params={"query": CONFIRMERS}, timeout=30)
    bindings = response.json()["results"]["bindings"]
    assert [row["confirmers"]["value"] for row in bindings] == ["3"]


def _bare_project(root: Path) -> Path:
    """A project with the fixture ontology and no data of its own."""
    for folder in ("ontology", "data/ttl", "rules"):
        (root / folder).mkdir(parents=True)
    shutil.copy(FIXTURES / "ontology" / "mini.ttl", root / "ontology")
    return root


def test_serve_loads_extra_data_announces_itself_and_stops_cleanly(
    serve: Callable[[list[str], dict[str, str]], LiveServer], tmp_path: Path
) -> None:
    extra = FIXTURES / "data" / "ttl" / "source.ttl"
    env = {"KGRAPH_PROJECT_DIR": str(_bare_project(tmp_path))}
    server = serve(["--data", str(extra), "--timeout", "5"], env)
    try:
        query = f"SELECT ?title WHERE {{ <{KGR}source-article> ?p ?title }}"
        response = requests.get(server.endpoint, params={"query": query}, timeout=30)
        assert response.json()["results"]["bindings"] == [{"title": {"type": "literal", "value": "Fixture article"}}]
        assert f"kgraph: serving on {server.endpoint}\n" in server.output()
        children = set(descendants(server.process.pid))
        assert len(children) >= 3  # the zygote and two query workers
    finally:
        code = server.stop()
    assert code == 0
    assert _still_running(children) == set()


def test_bad_data_file_exits_2_with_its_location(tmp_path: Path) -> None:
    bad = tmp_path / "bad.ttl"
    bad.write_text("<http://a> <http://b> .\n", encoding="utf-8")
    env = {**os.environ, "KGRAPH_PROJECT_DIR": str(_bare_project(tmp_path / "project"))}
    result = subprocess.run(
        [str(KGRAPH), "serve", "--port", str(free_port()), "--data", str(bad)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert f"kgraph: cannot load the graph: {bad}:1:" in result.stderr


def _still_running(pids: set[int], wait: float = 10.0) -> set[int]:
    """The pids that have not exited (zombies count as exited) within ``wait`` seconds."""
    deadline = time.monotonic() + wait
    alive = pids
    while alive and time.monotonic() < deadline:
        alive = {pid for pid in alive if _alive(pid)}
        time.sleep(0.05)
    return alive


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z" and os.path.exists(f"/proc/{pid}")
