"""`credcheck run --scrapyd` on three real Scrapyd daemons on loopback, one killed with SIGKILL
(its whole process group, as a machine that dies takes its crawls with it) while it crawls:
every site's listings arrive once, the dead node's sites having moved to the others, and the
run's JSON line says what each node did."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import duckdb
import pytest

from pipeline.crawl.scrapyd import node_urls
from pipeline.demo.fleet import fleet_sites
from pipeline.demo.nodes import deploy, scrapyd_nodes
from pipeline.demo.run import write_demo_registry
from pipeline.demo.server import serve_sites
from pipeline.demo.world import generate_world
from tests.conftest import Run, last_json_line, run_cli

BIN = Path(sys.executable).parent
pytestmark = pytest.mark.skipif(
    not (BIN / "scrapyd").exists() or not (BIN / "scrapyd-deploy").exists(),
    reason="scrapyd and scrapyd-client are dev dependencies (pip install -e '.[dev]')",
)


def test_node_urls_come_from_urls_or_scrapy_cfg_targets(tmp_path):
    config = tmp_path / "scrapy.cfg"
    config.write_text(
        "[deploy:a]\nurl = http://10.0.0.1:6800/\n[deploy:b]\nurl = http://10.0.0.2:6800\n"
    )
    assert node_urls(["all"], config) == ["http://10.0.0.1:6800/", "http://10.0.0.2:6800/"]
    assert node_urls(["b", "http://h:1"], config) == ["http://10.0.0.2:6800/", "http://h:1/"]
    with pytest.raises(Exception, match="targets: a, b"):
        node_urls(["c"], config)


def test_a_run_on_three_nodes_survives_one_killed(tmp_path):
    sites = fleet_sites(6, profiles=4, seed=8)
    db = tmp_path / "credcheck.duckdb"
    world = tmp_path / "world"
    generate_world(world, seed=8, n_physicians=100)  # the run matches against NPPES
    run_cli("load", "nppes", str(world / "reference" / "npidata.csv"), "--db", str(db))
    with serve_sites(sites) as urls:
        registry = tmp_path / "sites.toml"
        write_demo_registry(registry, {s["site_id"]: s for s in sites}, urls)
        env = {"CREDCHECK_SITES": str(registry)}
        with scrapyd_nodes(3, tmp_path / "nodes", env=env) as nodes:
            deploy(nodes, tmp_path / "project", env)
            scrapyd = [arg for node in nodes for arg in ("--scrapyd", node.url)]
            run = Run(env, tmp_path / "runs", ("--db", str(db), "--scrapyd-timeout", "4", *scrapyd))
            run.wait_for("on 3 Scrapyd node(s)")
            victim = nodes[0]  # killed once it crawls: its running job and its queue are lost
            deadline = time.monotonic() + 120
            while not victim.running():
                assert time.monotonic() < deadline and run.proc.poll() is None, "node 0 idle"
                time.sleep(0.1)
            victim.kill()
            assert run.finish() == 0, "".join(run.lines)
    out = "".join(run.lines)
    record = last_json_line(out)
    assert record["status"] == "ok" and len(record["sites_ok"]) == len(sites), out
    report = record["nodes"]
    assert report[victim.url]["alive"] is False and report[victim.url]["sites_requeued"] >= 1
    assert sum(node["sites_crawled"] for node in report.values()) == len(sites)
    assert all(node["alive"] for url, node in report.items() if url != victim.url)
    # Every site's listings arrived once: one crawl run per site, each listing once.
    con = duckdb.connect(str(tmp_path / "credcheck.work.duckdb"), read_only=True)
    runs = dict(con.execute("SELECT site_id, count(*) FROM crawl_runs GROUP BY 1").fetchall())
    listed = con.execute(
        "SELECT site_id, count(*), count(DISTINCT ref) FROM raw_listings GROUP BY 1"
    ).fetchall()
    con.close()
    assert runs == {s["site_id"]: 1 for s in sites}
    assert sorted(listed) == sorted((s["site_id"], 4, 4) for s in sites)
