"""Calibration on partitions of persons: here, and on a Dask LocalCluster (2 worker processes).

Known truth: the local calibration of the whole log. The partitioned E-step adds the
same sums in another order, so estimates agree to rounding (stated tolerance 1e-8);
partitioned here vs on Dask add them in the same order, so they agree bit for bit.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from pixirt import ResponseLog
from pixirt._dask import local_cluster
from pixirt.calibration import ResponseSource, calibrate
from pixirt.calibration._partitions import Partitioned, partitioned
from pixirt.exceptions import DataError
from pixirt.simulation import pix_like_bank, simulate_answers

distributed = pytest.importorskip("distributed")

TOL = 1e-8
PRIORS = "default"  # a few items of this small log run off to infinity under plain ML 2PL


@pytest.fixture(scope="module")
def client() -> Any:
    with (
        local_cluster(2) as cluster,
        distributed.Client(cluster) as c,
    ):
        yield c


@pytest.fixture(scope="module")
def log() -> ResponseLog:
    bank = pix_like_bank(seed=1).subset([f"ch{i:05d}" for i in range(1, 61)])
    return simulate_answers(bank, 3_000, answers_per_person=20, seed=5).log


@pytest.fixture(scope="module")
def sparse_log() -> ResponseLog:
    """13% of the cells answered: every partition stays sparse (no BLAS product)."""
    bank = pix_like_bank(seed=1).subset([f"ch{i:05d}" for i in range(1, 61)])
    return simulate_answers(bank, 3_000, answers_per_person=8, seed=6).log


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory, log: ResponseLog) -> Path:
    """The log as 4 Parquet files of whole persons (and one CSV), items as text."""
    root = tmp_path_factory.mktemp("answers")
    frame = log.to_frame()
    persons = frame["person_id"].unique()
    for k, block in enumerate(np.array_split(persons, 5)):
        part = frame[frame["person_id"].isin(block)]
        if k == 4:
            part.to_csv(root / f"part-{k}.csv", index=False)
        else:
            part.to_parquet(root / f"part-{k}.parquet", index=False)
    return root


def _max_diff(x: Any, y: Any) -> float:
    a = x.bank.to_frame().set_index("item_id")
    b = y.bank.to_frame().set_index("item_id").loc[a.index]
    cols = ["a", "b", "c", "se_a", "se_b"]
    worst = max(
        float(
            np.max(
                np.abs(a[c].to_numpy() - b[c].to_numpy()),
                initial=0.0,
                where=a[c].notna().to_numpy(),
            )
        )
        for c in cols
    )
    return max(
        worst,
        abs(x.loglik - y.loglik),
        abs(x.latent_variance - y.latent_variance),
    )


@pytest.mark.parametrize("model", ["Rasch", "1PL", "2PL"])
def test_log_on_dask_equals_local(client: Any, log: ResponseLog, model: str) -> None:
    local = calibrate(log, model, priors=PRIORS, progress=False)
    dist = calibrate(log, model, priors=PRIORS, progress=False, client=client)
    assert dist.n_iter == local.n_iter
    assert dist.n_persons == local.n_persons and dist.n_answers == local.n_answers
    assert _max_diff(local, dist) < TOL
    assert list(dist.bank.item_ids) == list(local.bank.item_ids)  # the log's item order


def test_3pl_with_priors_and_fixed_bank(client: Any, log: ResponseLog) -> None:
    local = calibrate(log, "3PL", priors="default", progress=False)
    dist = calibrate(log, "3PL", priors="default", progress=False, client=client)
    assert _max_diff(local, dist) < TOL
    anchors = local.bank.subset(list(local.bank.item_ids[:20]))
    fl = calibrate(log, "2PL", fixed=anchors, priors=PRIORS, progress=False)
    fd = calibrate(log, "2PL", fixed=anchors, priors=PRIORS, progress=False, client=client)
    assert _max_diff(fl, fd) < TOL
    assert fd.n_fixed == 20


def test_partitioned_here_and_on_dask_are_bit_identical(
    client: Any, sparse_log: ResponseLog
) -> None:
    """Same partitions, same tree of sums: the same bits (on sparse partitions; dense ones
    go through BLAS, whose thread count may change the last bits of a product)."""
    sparse = sparse_log
    here = calibrate(ResponseSource(sparse, partitions=5), "2PL", priors=PRIORS, progress=False)
    dist = calibrate(
        ResponseSource(sparse, partitions=5), "2PL", priors=PRIORS, progress=False, client=client
    )
    assert here.loglik == dist.loglik
    assert np.array_equal(here.bank.a, dist.bank.a)
    assert np.array_equal(here.bank.b, dist.bank.b)
    assert np.array_equal(here.bank.to_frame()["se_b"], dist.bank.to_frame()["se_b"])


def test_dataset_directory_glob_and_dask_frame(
    client: Any, log: ResponseLog, dataset: Path
) -> None:
    whole = pd.concat(
        [pd.read_parquet(p) for p in sorted(dataset.glob("*.parquet"))]
        + [pd.read_csv(dataset / "part-4.csv")]
    )
    local = calibrate(ResponseLog.from_frame(whole), "2PL", priors=PRIORS, progress=False)
    by_dir = calibrate(str(dataset), "2PL", priors=PRIORS, progress=False, client=client)
    assert _max_diff(local, by_dir) < TOL
    assert by_dir.n_persons == log.n_persons
    here = calibrate(dataset, "2PL", priors=PRIORS, progress=False)  # no client: read here
    assert _max_diff(here, by_dir) < TOL
    by_glob = calibrate(
        str(dataset / "*.parquet"), "2PL", priors=PRIORS, progress=False, client=client
    )
    four = ResponseLog.from_frame(
        pd.concat([pd.read_parquet(p) for p in sorted(dataset.glob("*.parquet"))])
    )
    assert _max_diff(calibrate(four, "2PL", priors=PRIORS, progress=False), by_glob) < TOL
    dd = pytest.importorskip("dask.dataframe")
    frame = dd.read_parquet(str(dataset / "*.parquet"))
    by_frame = calibrate(frame, "2PL", priors=PRIORS, progress=False, client=client)
    assert _max_diff(by_glob, by_frame) < TOL


def test_source_options_are_used(client: Any, log: ResponseLog, tmp_path: Path) -> None:
    frame = log.to_frame().rename(columns={"person_id": "who", "item_id": "what", "correct": "ok"})
    frame.to_parquet(tmp_path / "renamed.parquet", index=False)
    src = ResponseSource(tmp_path, person="who", item="what", correct="ok")
    res = calibrate(src, "Rasch", progress=False, client=client)
    assert _max_diff(calibrate(log, "Rasch", progress=False), res) < TOL


def test_person_in_two_partitions_is_refused(client: Any, log: ResponseLog, tmp_path: Path) -> None:
    frame = log.to_frame()
    first = frame["person_id"].iloc[0]
    mine = frame["person_id"] == first
    a = pd.concat([frame[~mine].iloc[: len(frame) // 2], frame[mine].iloc[:1]])
    b = pd.concat([frame[~mine].iloc[len(frame) // 2 :], frame[mine].iloc[1:]])
    a.to_parquet(tmp_path / "a.parquet", index=False)
    b.to_parquet(tmp_path / "b.parquet", index=False)
    for c in (client, None):
        with pytest.raises(DataError, match=r"has answers in two partitions") as err:
            calibrate(tmp_path, "2PL", priors=PRIORS, progress=False, client=c)
        assert str(first) in str(err.value)
        assert "a.parquet" in str(err.value) and "b.parquet" in str(err.value)
        assert err.value.field == "person_id"


def test_bad_inputs_name_file_row_and_field(client: Any, tmp_path: Path) -> None:
    (tmp_path / "good.csv").write_text("person_id,item_id,correct\np1,i1,1\np1,i2,0\n")
    (tmp_path / "bad.csv").write_text("person_id,item_id,correct\np2,i1,1\np2,i2,maybe\n")
    with pytest.raises(DataError) as err:
        calibrate(tmp_path, "2PL", priors=PRIORS, progress=False, client=client)
    assert err.value.path is not None and err.value.path.endswith("bad.csv")
    assert err.value.row == 2 and err.value.field == "correct"
    with pytest.raises(DataError, match="no such file"):
        calibrate(tmp_path / "missing", "2PL", priors=PRIORS, progress=False, client=client)
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="no Parquet or CSV file"):
        calibrate(tmp_path / "empty", "2PL", priors=PRIORS, progress=False, client=client)
    with pytest.raises(DataError, match="object store"):
        calibrate("s3://bucket/answers/", "2PL", priors=PRIORS, progress=False, client=client)
    with pytest.raises(DataError, match="must be a ResponseLog") as err2:
        calibrate(42, "2PL", priors=PRIORS, progress=False, client=client)
    assert err2.value.field == "log"
    with pytest.raises(DataError, match="Client") as err3:
        calibrate(
            tmp_path / "good.csv", "2PL", priors=PRIORS, progress=False, client="tcp://nowhere"
        )
    assert err3.value.field == "client"
    with pytest.raises(DataError) as err4:
        ResponseSource(tmp_path, partitions=0)
    assert err4.value.field == "partitions"


def test_partition_sizes_and_volume(client: Any, log: ResponseLog) -> None:
    part = partitioned(ResponseSource(log, partitions=3), client, n_quad=21)
    try:
        assert part.n_partitions == 3 and part.n_persons == log.n_persons
        assert part.bytes_per_e_step == 8 * (2 * log.n_items * 21 + 21 + 1)
        assert part.k_hist().sum() == log.n_persons
        assert int(part.stats["n_answers"].sum()) == log.n_answers
        pd.testing.assert_series_equal(
            part.stats["p_correct"], log.item_stats()["p_correct"], check_exact=False, rtol=1e-15
        )
    finally:
        part.close()


def test_a_worker_killed_mid_run_changes_nothing(
    sparse_log: ResponseLog, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SIGKILL one worker process during the EM: Dask reruns its tasks, the result is unchanged."""
    expected = calibrate(
        ResponseSource(sparse_log, partitions=6), "2PL", priors=PRIORS, progress=False
    )
    with (
        local_cluster(2) as cluster,
        distributed.Client(cluster) as c,
    ):
        victim = next(iter(c.run(os.getpid).values()))
        e_step = Partitioned.e_step
        calls: list[int] = []

        def e_step_killing_a_worker(self: Partitioned, s: Any) -> Any:
            calls.append(1)
            if len(calls) == 3:  # mid-run: the worker holds designs and E-steps are running
                os.kill(victim, signal.SIGKILL)
            return e_step(self, s)

        monkeypatch.setattr(Partitioned, "e_step", e_step_killing_a_worker)
        got = calibrate(
            ResponseSource(sparse_log, partitions=6), "2PL", priors=PRIORS, progress=False, client=c
        )
        assert len(calls) > 3  # the run went on after the kill
        c.wait_for_workers(2, timeout=60)
        assert (
            victim not in c.run(os.getpid).values()
        )  # it is really gone (the nanny restarted one)
    assert got.n_iter == expected.n_iter
    assert got.loglik == expected.loglik
    assert np.array_equal(got.bank.a, expected.bank.a)
    assert np.array_equal(got.bank.b, expected.bank.b)


def test_cli_calibrates_a_dataset_on_a_local_cluster(
    dataset: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from pixirt import ItemBank
    from pixirt.cli import main

    out = tmp_path / "bank.csv"
    args = ["calibrate", str(dataset), "--out", str(out), "--priors", "default", "--quiet"]
    assert main([*args, "--workers", "2"]) == 0
    here = tmp_path / "here.csv"
    assert (
        main(["calibrate", str(dataset), "--out", str(here), "--priors", "default", "--quiet"]) == 0
    )
    on_cluster, local = ItemBank.read(out), ItemBank.read(here)
    assert list(on_cluster.item_ids) == list(local.item_ids)
    assert np.max(np.abs(on_cluster.b - local.b)) < TOL
    with pytest.raises(SystemExit) as exit_:  # not both
        main([*args, "--workers", "2", "--scheduler", "tcp://x:1"])
    assert exit_.value.code == 2
    assert "not allowed with" in capsys.readouterr().err


def test_multiple_groups_on_dask_equal_the_local_run(client: Any, log: ResponseLog) -> None:
    """Issue 18: group codes mapped on the workers; every partition of files and blocks."""
    groups = pd.Series(
        np.where(np.arange(log.n_persons) % 3 == 0, "new", "old"), index=log.person_ids
    )
    kwargs: dict[str, Any] = {"groups": groups, "reference_group": "old", "priors": PRIORS}
    here = calibrate(log, "2PL", progress=False, **kwargs)
    on_dask = calibrate(log, "2PL", progress=False, client=client, **kwargs)
    assert here.groups is not None and on_dask.groups is not None
    np.testing.assert_allclose(on_dask.groups["mean"], here.groups["mean"], atol=TOL)
    np.testing.assert_allclose(on_dask.groups["variance"], here.groups["variance"], atol=TOL)
    np.testing.assert_allclose(on_dask.bank.b, here.bank.b, atol=TOL)
    assert list(on_dask.groups["n_persons"]) == list(here.groups["n_persons"])
    with pytest.raises(DataError) as info:
        calibrate(log, "2PL", progress=False, client=client, groups=list(groups))
    assert info.value.field == "groups"
