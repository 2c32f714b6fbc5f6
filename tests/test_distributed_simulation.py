"""Simulations and comparisons on a Dask cluster: the local run's numbers, as a Parquet dataset."""

import json
import os
import signal
import threading
import time

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from simulation_cases import INCIDENTS

from pixirt import DataError, rules
from pixirt.cli import main
from pixirt.simulation import Population, SimulationResult, compare, pix_like_bank, simulate

distributed = pytest.importorskip("distributed")

POP = Population(groups={"school": (0.4, -0.3), "adult": (0.6, 0.2)})


@pytest.fixture(scope="module")
def bank():
    return pix_like_bank(seed=0)


@pytest.fixture(scope="module")
def cluster():
    # no dashboard; the scheduler's HTTP server on a free port (8787 may be taken)
    with distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        scheduler_kwargs={"dashboard_address": ":0"},
    ) as cluster:
        yield cluster


@pytest.fixture(scope="module")
def client(cluster):
    with distributed.Client(cluster) as client:
        yield client


def _parts(path):
    return sorted(path.glob("part-*.parquet"))


@pytest.mark.parametrize(
    ("rules_id", "n", "chunk", "start"),
    [("pix-v3", 900, 150, 0), ("pix-v2", 110, 25, 40)],
    ids=["v3", "v2"],
)
def test_identical_to_the_local_run(client, bank, tmp_path, rules_id, n, chunk, start):
    r = rules.load(rules_id)
    kwargs = {"seed": 3, "chunk_size": chunk, "responder": INCIDENTS, "start": start}
    local = simulate(POP, bank, r, n, out=tmp_path / "local.parquet", **kwargs)
    res = simulate(POP, bank, r, n, out=tmp_path / "ds", client=client, **kwargs)

    # the dataset: a manifest and one part per chunk, in candidate order
    parts = _parts(res.path)
    assert res.path == (tmp_path / "ds").resolve() and len(parts) == -(-n // chunk)
    manifest = json.loads((res.path / "_pixirt.json").read_text())
    assert manifest["n"] == n and manifest["start"] == start and manifest["seed"] == 3
    assert [p["file"] for p in manifest["parts"]] == [p.name for p in parts]
    assert manifest["rules_hash"] == r.hash and manifest["bank_hash"] == bank.hash
    # summaries read single columns: nothing loaded yet
    assert len(res) == n and res._frame is None
    pd.testing.assert_frame_equal(res.outcome_rates(by="group"), local.outcome_rates(by="group"))
    pd.testing.assert_frame_equal(res.score_distribution(), local.score_distribution())
    pd.testing.assert_series_equal(res.exposure(), local.exposure())
    if r.algorithm == "v3":
        pd.testing.assert_frame_equal(
            res.capacity_recovery(n_bins=4), local.capacity_recovery(n_bins=4)
        )
    assert res._frame is None
    pd.testing.assert_frame_equal(res.select(["index", "status"]), local.frame[["index", "status"]])

    # the same rows bit for bit: the frame, and the parts against the local file
    pd.testing.assert_frame_equal(res.frame, local.frame)
    schemas = [pq.read_schema(p).remove_metadata() for p in parts]
    assert all(s.equals(schemas[0]) for s in schemas)  # any Parquet reader takes the directory
    table = pa.concat_tables([pq.read_table(p) for p in parts])
    assert table.equals(pq.read_table(local.path))
    assert len(pd.read_parquet(res.path)) == n
    again = SimulationResult.open(res.path)
    assert (again.rules_id, again.seed, len(again)) == (r.id, 3, n)
    pd.testing.assert_frame_equal(again.frame, local.frame)


def test_compare_on_the_cluster_gives_the_local_numbers(client, bank, tmp_path):
    d = rules.load("pix-v3").to_dict()
    d["id"] = "shorter"
    d["selection"]["test_length"] = 28  # a selection change: second sittings, exposure
    shorter = rules.RuleSet.from_dict(d)
    kwargs = {
        "population": POP,
        "bank": bank,
        "n": 700,
        "n_retest": 300,
        "seed": 4,
        "responder": INCIDENTS,
        "n_bootstrap": 200,
    }
    local = compare("pix-v3", shorter, **kwargs)
    stages = []
    remote = compare(
        "pix-v3",
        shorter,
        client=client,
        out=tmp_path / "study",
        progress=lambda p: stages.append((p.stage, p.done, p.total)),
        **kwargs,
    )
    a, b = local.to_dict(), remote.to_dict()
    a.pop("seconds")
    b.pop("seconds")
    assert a == b
    for key, size in (
        ("baseline", 700),
        ("proposed", 700),
        ("retest_baseline", 300),
        ("retest_proposed", 300),
    ):
        assert len(SimulationResult.open(tmp_path / "study" / key)) == size
        assert (key, size, size) in stages
    assert len(_parts(tmp_path / "study" / "baseline")) == 3


def test_a_worker_killed_mid_run_changes_nothing(client, cluster, bank, tmp_path):
    r = rules.load("pix-v3")
    out = tmp_path / "ds"
    kwargs = {"seed": 11, "chunk_size": 40, "responder": INCIDENTS}
    client.wait_for_workers(2)
    pids = client.run(os.getpid)
    victim = next(iter(pids.values()))
    killed = {}

    def kill_after_the_first_part():
        while not any(out.glob("part-*.parquet")):
            time.sleep(0.005)
        killed["finished"] = (out / "_pixirt.json").exists()
        os.kill(victim, signal.SIGKILL)

    watcher = threading.Thread(target=kill_after_the_first_part, daemon=True)
    watcher.start()
    res = simulate(POP, bank, r, 1600, out=out, client=client, **kwargs)
    watcher.join(timeout=60)
    assert killed == {"finished": False}  # killed during the run (40 parts)
    client.wait_for_workers(2)  # the nanny restarted it
    assert victim not in client.run(os.getpid).values()
    assert len(_parts(out)) == 40
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]
    local = simulate(POP, bank, r, 1600, **kwargs)
    pd.testing.assert_frame_equal(res.frame, local.frame)


def test_bad_input_names_the_field(client, bank, tmp_path):
    r = rules.load("pix-v3")
    with pytest.raises(DataError) as info:
        simulate(POP, bank, r, 10, client=client)
    assert info.value.field == "out"
    (tmp_path / "file.parquet").write_bytes(b"x")
    with pytest.raises(DataError) as info:
        simulate(POP, bank, r, 10, client=client, out=tmp_path / "file.parquet")
    assert info.value.field == "out"
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    with pytest.raises(DataError, match=r"notes\.txt") as info:
        simulate(POP, bank, r, 10, client=client, out=tmp_path / "mine")
    assert info.value.field == "out" and (tmp_path / "mine" / "notes.txt").exists()
    with pytest.raises(DataError) as info:
        simulate(POP, bank, r, 10, client=client, out=tmp_path / "ds", workers=2)
    assert info.value.field == "workers"
    with pytest.raises(DataError) as info:
        simulate(POP, bank, r, 10, client="tcp://127.0.0.1:8786", out=tmp_path / "ds")
    assert info.value.field == "client"
    with pytest.raises(DataError) as info:
        compare("pix-v3", "pix-v3", bank=bank, n=10, client=client)
    assert info.value.field == "out"
    with pytest.raises(DataError) as info:
        compare("pix-v3", "pix-v3", bank=bank, n=10, out=tmp_path / "study")
    assert info.value.field == "out"
    with pytest.raises(DataError, match="not a pixirt"):
        SimulationResult.open(tmp_path / "mine")


def test_a_previous_dataset_is_replaced(client, bank, tmp_path):
    r = rules.load("pix-v3")
    out = tmp_path / "ds"
    simulate(POP, bank, r, 90, chunk_size=30, out=out, client=client)
    (out / ".part-00001.parquet.abc.tmp").write_bytes(b"left by a killed worker")
    res = simulate(POP, bank, r, 40, seed=1, chunk_size=30, out=out, client=client)
    assert sorted(p.name for p in out.iterdir()) == [
        "_pixirt.json",
        "part-00000.parquet",
        "part-00001.parquet",
    ]
    assert len(SimulationResult.open(out)) == len(res) == 40
    pd.testing.assert_frame_equal(res.frame, simulate(POP, bank, r, 40, seed=1).frame)


def test_command_line_workers_and_scheduler(cluster, bank, tmp_path, capsys):
    # --workers 2: a LocalCluster of its own; the dataset holds the local run's rows
    out = tmp_path / "ds"
    argv = ["simulate", "--rules", "pix-v3", "--n", "120", "--chunk-size", "50", "--seed", "2"]
    code = main([*argv, "--out", str(out), "--workers", "2"])
    assert code == 0
    assert "(dataset)" in capsys.readouterr().out and len(_parts(out)) == 3
    local = simulate(Population(), bank, rules.load("pix-v3"), 120, seed=2)
    pd.testing.assert_frame_equal(SimulationResult.open(out).frame, local.frame)

    # compare on a running scheduler; --out is then required
    argv = ["compare", "--baseline", "pix-v3", "--proposed", "pix-v3", "--n", "60"]
    argv += ["--n-retest", "0", "--bootstrap", "100", "--report", str(tmp_path / "r.html")]
    argv += ["--scheduler", cluster.scheduler_address, "--quiet"]
    assert main(argv) == 2
    assert "'out'" in capsys.readouterr().err
    assert main([*argv, "--out", str(tmp_path / "study"), "--json", str(tmp_path / "c.json")]) == 0
    numbers = json.loads((tmp_path / "c.json").read_text())
    assert numbers["kind"] == "pixirt.Comparison"
    assert len(SimulationResult.open(tmp_path / "study" / "proposed")) == 60


def test_workers_fall_back_to_processes_without_dask(monkeypatch, tmp_path, capsys):
    from pixirt.cli import _simulate as simulate_cli

    monkeypatch.setattr(simulate_cli, "_has_distributed", lambda: False)
    out = tmp_path / "one.parquet"
    argv = ["simulate", "--rules", "pix-v3", "--n", "60", "--chunk-size", "30"]
    assert main([*argv, "--out", str(out), "--workers", "2"]) == 0
    captured = capsys.readouterr()
    assert "process pool" in captured.err and out.is_file()
    local = simulate(
        Population(), pix_like_bank(0), rules.load("pix-v3"), 60, out=tmp_path / "l.parquet"
    )
    assert out.read_bytes() == local.path.read_bytes()


def test_the_data_do_not_depend_on_the_chunking(client, bank, tmp_path):
    # v2 parts disagree on column types before unification (whole-number levels in one
    # chunk, missing ones in another; no comment at all): the data are the local file's
    r = rules.load("pix-v2")
    res = simulate(POP, bank, r, 12, chunk_size=3, seed=8, out=tmp_path / "ds", client=client)
    local = simulate(POP, bank, r, 12, chunk_size=12, seed=8, out=tmp_path / "one.parquet")
    parts = [pq.read_table(p) for p in _parts(res.path)]
    assert len(parts) == 4 and pa.concat_tables(parts).equals(pq.read_table(local.path))
    pd.testing.assert_frame_equal(pd.read_parquet(res.path), pd.read_parquet(local.path))
