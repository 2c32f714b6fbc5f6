"""Simulations on a Dask cluster, written to a Parquet dataset (extra ``[distributed]``).

``simulate(..., client=client, out="results/")`` runs the candidate chunks as tasks on
the cluster's workers. Each task draws exactly the numbers the local run draws for its
candidates (every draw is a pure function of ``(seed, candidate index, step)``), so the
rows are identical bit for bit to those of ``simulate(...)`` without a client, and writes
them itself to one file of the dataset; only a few numbers per chunk come back to the
client. The returned :class:`~pixirt.simulation.SimulationResult` reads the
dataset lazily.

The dataset (``out``, a directory the client and every worker reach at the same path)::

    results/
        _pixirt.json          the manifest, written last: provenance, parts, row counts
        part-00000.parquet    candidates start .. start + chunk_size - 1
        part-00001.parquet    the next chunk, and so on in candidate order

Every part has the same Arrow schema, so any Parquet reader takes the directory as one
table (``pandas.read_parquet("results/")``, DuckDB, Spark); the parts in file-name order
are the rows of the local run in candidate order. A part is written through a temporary
file renamed into place, so a task that runs again (its worker died) rewrites its part
whole. ``out`` must be a new or empty directory or a previous pixirt dataset, whose
files are removed first; a directory holding anything else is refused.

Reading needs pyarrow only: :func:`open_dataset` (or
:meth:`SimulationResult.open <pixirt.simulation.SimulationResult.open>`) reopens
a dataset written earlier.
"""

from __future__ import annotations

import json
import os
import re
import socket
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pixirt._progress import ProgressArg, Reporter, reporter
from pixirt.exceptions import DataError, PixirtError
from pixirt.simulation._results import _FORMAT, _FORMAT_VERSION, MANIFEST, Dataset, open_dataset

if TYPE_CHECKING:
    import pyarrow as pa

    from pixirt._item_bank import ItemBank
    from pixirt.rules import RuleSet
    from pixirt.simulation._population import ObservedPopulation, Population
    from pixirt.simulation._responders import Responder
    from pixirt.simulation._results import SimulationResult

__all__ = ["MANIFEST", "Dataset", "open_dataset", "simulate_on_cluster"]


_PART = re.compile(r"^part-\d+\.parquet$")


_TEMPORARY = re.compile(r"^\.(part-\d+\.parquet|_pixirt\.json)\..*\.tmp$")


_PROVENANCE = ("rules_id", "rules_hash", "bank_hash", "pixirt_version")


_Tick = Callable[[int, int], None]  # (done, total) candidates


# ====================================================================== the run
def prepare_directory(out: str | os.PathLike[str], field: str = "out") -> Path:
    """Make ``out`` an empty directory: created, or emptied of a previous pixirt dataset.

    Raises
    ------
    DataError
        ``out`` is a file, or a directory holding files that are not a pixirt dataset's.
    """
    directory = Path(out).expanduser().resolve()
    if directory.exists() and not directory.is_dir():
        raise DataError(
            "a run on a Dask cluster writes a Parquet dataset: out must be a directory, "
            "not an existing file",
            path=str(directory),
            field=field,
        )
    if directory.is_dir():
        entries = list(directory.iterdir())
        foreign = sorted(
            e.name
            for e in entries
            if not (e.name == MANIFEST or _PART.match(e.name) or _TEMPORARY.match(e.name))
            or not e.is_file()
        )
        if foreign:
            raise DataError(
                f"out holds {foreign[0]!r}, which is not part of a pixirt dataset: give a new "
                "or empty directory (a previous pixirt dataset there is replaced)",
                path=str(directory),
                field=field,
            )
        # the manifest first: a half-emptied directory never reads as a finished dataset
        entries.sort(key=lambda e: e.name != MANIFEST)
        for e in entries:
            e.unlink(missing_ok=True)
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def simulate_on_cluster(
    client: Any,
    population: Population | ObservedPopulation,
    bank: ItemBank,
    rules: RuleSet,
    n: int,
    *,
    seed: int,
    out: str | os.PathLike[str] | None,
    chunk_size: int,
    responder: Responder,
    start: int = 0,
    progress: ProgressArg | Reporter = False,
    workers: int = 1,
) -> SimulationResult:
    """Run :func:`~pixirt.simulation.simulate` on a Dask cluster (arguments checked there).

    ``progress`` is True (a line on stderr when it is a terminal) or a callable receiving
    a :class:`pixirt.Progress` (stage ``"simulate"``) as chunks finish.
    """
    from pixirt._dask import require_distributed
    from pixirt._version import __version__
    from pixirt.simulation._chunks import _chunks

    _check_cluster_run(client, workers, out)
    assert out is not None
    distributed = require_distributed()
    directory = prepare_directory(out)
    t0 = time.perf_counter()
    tasks = list(_chunks(start, n, chunk_size))
    width = max(5, len(str(len(tasks) - 1)))
    token = uuid.uuid4().hex[:12]
    provenance = {
        "rules_id": rules.id,
        "rules_hash": rules.hash,
        "bank_hash": bank.hash,
        "pixirt_version": __version__,
    }
    report = _progress_function(progress)
    metas = _run_parts(
        client,
        distributed,
        (bank, rules, population, responder, seed),
        tasks,
        (directory, width, token),
        provenance,
        report,
    )
    ordered = [metas[f"part-{i:0{width}d}.parquet"] for i in range(len(tasks))]
    _finish_parts(directory, ordered)
    seconds = time.perf_counter() - t0
    manifest = {
        "format": _FORMAT,
        "format_version": _FORMAT_VERSION,
        **provenance,
        "seed": seed,
        "n": n,
        "start": start,
        "chunk_size": chunk_size,
        "seconds": seconds,
        "columns": list(ordered[0]["schema"].names),
        "parts": [{"file": m["file"], "start": m["start"], "rows": m["rows"]} for m in ordered],
    }
    _write_manifest(directory, manifest)
    return Dataset(directory, manifest).result()


def _check_cluster_run(client: Any, workers: int, out: str | os.PathLike[str] | None) -> None:
    """A run on a Dask cluster: a client, no local processes, and a dataset directory."""
    from pixirt._dask import check_client

    check_client(client)
    if workers != 1:
        raise DataError(
            "workers sets local processes; with a Dask client the cluster's workers run the chunks",
            field="workers",
        )
    if out is None:
        raise DataError(
            "a run on a Dask cluster writes its rows to a Parquet dataset rather than "
            "gathering them here: give out= (a directory the client and every worker reach)",
            field="out",
        )


def _run_parts(
    client: Any,
    distributed: Any,
    inputs_: tuple[ItemBank, RuleSet, Population | ObservedPopulation, Responder, int],
    tasks: list[tuple[int, int]],
    where: tuple[Path, int, str],
    provenance: dict[str, str],
    report: _Tick,
) -> dict[str, dict[str, Any]]:
    """Submit one task per chunk, each writing its part; the parts' metadata by file name."""
    bank, rules, population, responder, seed = inputs_
    directory, width, token = where
    n = sum(size for _, size in tasks)
    # The inputs travel once, as the result of a task (not scattered): the scheduler keeps
    # the task, so they are recomputed if every worker holding them is lost.
    inputs = client.submit(
        _inputs, bank, rules, population, responder, key=f"pixirt-simulate-inputs-{token}"
    )
    futures = [
        client.submit(
            _write_part,
            inputs,
            seed,
            lo,
            size,
            str(directory),
            f"part-{i:0{width}d}.parquet",
            provenance,
            key=f"pixirt-simulate-{token}-{i:0{width}d}",
            priority=-i,
        )
        for i, (lo, size) in enumerate(tasks)
    ]
    metas: dict[str, dict[str, Any]] = {}
    done = 0
    report(0, n)
    try:
        for future in distributed.as_completed(futures):
            meta = future.result()
            metas[meta["file"]] = meta
            done += int(meta["rows"])
            report(done, n)
    finally:
        client.cancel([*futures, inputs])
    return metas


def _progress_function(progress: ProgressArg | Reporter) -> _Tick:
    report = reporter(progress)

    def tick(done: int, total: int) -> None:
        report("simulate", done, total)

    return tick


def _finish_parts(directory: Path, metas: list[dict[str, Any]]) -> None:
    """Give every part the common schema; remove stray temporary files."""
    import pyarrow as pa

    for m in metas:
        if not (directory / m["file"]).is_file():
            raise DataError(
                f"{m['file']}, written on {m['host']}, is not visible here: out must be a "
                "directory the client and every worker reach at the same path (a shared "
                "file system)",
                path=str(directory),
                field="out",
            )
    schemas = [m["schema"] for m in metas]
    common = pa.unify_schemas(schemas, promote_options="permissive").remove_metadata()
    for m, schema in zip(metas, schemas, strict=True):
        # a part where a column is all None (null type) or whole numbers only (int64 where
        # other parts need float64): cast as the local run's concatenation does
        if not schema.remove_metadata().equals(common):
            _cast_part(directory / m["file"], common)
    for e in directory.iterdir():
        if _TEMPORARY.match(e.name):  # left by a worker killed while writing
            e.unlink(missing_ok=True)


def _cast_part(path: Path, schema: pa.Schema) -> None:
    import pyarrow.parquet as pq

    from pixirt._atomic_files import atomic_write
    from pixirt.simulation._chunks import _ROW_GROUP

    table = pq.read_table(path)
    table = table.cast(schema.with_metadata(table.schema.metadata))
    atomic_write(
        path,
        lambda tmp: pq.write_table(table, tmp, row_group_size=_ROW_GROUP, compression="zstd"),
    )


def _write_manifest(directory: Path, manifest: dict[str, Any]) -> None:
    from pixirt._atomic_files import atomic_write

    text = json.dumps(manifest, indent=1, ensure_ascii=False)
    atomic_write(directory / MANIFEST, lambda tmp: tmp.write_text(text + "\n", encoding="utf-8"))


# ====================================================================== on the workers
def _inputs(
    bank: ItemBank,
    rules: RuleSet,
    population: Population | ObservedPopulation,
    responder: Responder,
) -> tuple[ItemBank, RuleSet, Population | ObservedPopulation, Responder]:
    return bank, rules, population, responder


def _write_part(
    inputs: tuple[ItemBank, RuleSet, Population | ObservedPopulation, Responder],
    seed: int,
    lo: int,
    size: int,
    directory: str,
    name: str,
    provenance: dict[str, str],
) -> dict[str, Any]:
    """Simulate candidates ``lo .. lo + size − 1`` and write them to ``directory/name``."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from pixirt._atomic_files import atomic_write
    from pixirt._version import __version__
    from pixirt.cat._engine import build_runtime
    from pixirt.simulation._chunks import _ROW_GROUP, _run_chunk

    host = socket.gethostname()
    if __version__ != provenance["pixirt_version"]:
        raise PixirtError(
            f"worker on {host} runs pixirt {__version__}, the client {provenance['pixirt_version']}: "
            "install the same pixirt everywhere (the draws must be the same code)"
        )
    t0 = time.perf_counter()
    bank, rules, population, responder = inputs
    # build_runtime keeps the runtime with the bank object, which the worker holds once
    frame = _run_chunk(build_runtime(bank, rules), population, responder, seed, lo, size)
    for column in _PROVENANCE:
        frame[column] = provenance[column]
    table = pa.Table.from_pandas(frame, preserve_index=False)
    atomic_write(
        Path(directory) / name,
        lambda tmp: pq.write_table(table, tmp, row_group_size=_ROW_GROUP, compression="zstd"),
    )
    return {
        "file": name,
        "start": lo,
        "rows": size,
        "schema": table.schema,
        "host": host,
        "seconds": time.perf_counter() - t0,
    }
