"""Issue 13 (beyond one machine): the analytics step's buyer partitions computed on a Dask
cluster (``MonthJob.dask_address``, ``kefu run --dask-address``) write exactly the marts of
the single-process run. A real LocalCluster of two worker processes stands in for a cluster:
every task and result crosses process boundaries, workers read and write the build folder."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from pipelines.monthly import CHAT_MARTS, MonthJob, step_analytics
from pipelines.publish import MonthBuild

MONTH = "2026-10"


@pytest.fixture(scope="module")
def cluster():
    distributed = pytest.importorskip("distributed")
    from pipelines.dask_map import quiet_dask

    quiet_dask()
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as c:
        yield c


def _staged(table: str, frame: pl.DataFrame) -> pl.DataFrame:
    from contracts import contract

    schema = contract(table).schema()
    return frame.select(pl.col(c).cast(schema[c]) if c in frame.columns else pl.lit(None, schema[c]).alias(c)
                        for c in schema if c != "month")


def _build(tmp: Path) -> MonthBuild:
    from pipelines.bench import sample_frames

    messages, refunds = sample_frames(8_000, seed=5)
    accounts = messages["agent_account"].unique().sort().to_list()[:2]
    build = MonthBuild(MONTH, tmp / "w.duckdb", tmp / "out")
    half = messages.height // 2
    build.write_part("messages", messages.slice(0, half))
    build.write_part("messages", messages.slice(half))
    build.write("refunds", _staged("refunds", refunds.drop("needs_return")))
    build.write("roster", _staged("roster", pl.DataFrame({"agent_account": accounts, "name": ["甲", "乙"],
                                                          "role": ["普通售后客服"] * 2})))
    return build


@pytest.fixture(autouse=True)
def _one_thread(monkeypatch):
    """The reference run of each test: the partitions one after the other in this thread."""
    monkeypatch.setenv("KEFU_THREADS", "1")
    monkeypatch.delenv("KEFU_WORKERS", raising=False)


def test_partitions_on_a_dask_cluster_give_the_single_process_marts(tmp_path, cluster):
    local = _build(tmp_path / "local")
    step_analytics(MonthJob(MONTH, warehouse=tmp_path / "local" / "w.duckdb", out=tmp_path / "local" / "out", partitions=3), local)
    remote = _build(tmp_path / "dask")
    summary = step_analytics(MonthJob(MONTH, warehouse=tmp_path / "dask" / "w.duckdb", out=tmp_path / "dask" / "out",
                                      partitions=3, dask_address=cluster.scheduler_address), remote)
    assert summary.rows["questions"] > 0 and summary.rows["text_hits"] > 0
    # the work really ran on the workers: a worker that ran a partition loaded the text resources
    from distributed import Client

    with Client(cluster, set_as_default=False) as client:
        loaded = client.run(lambda: len(__import__("pipelines.chat_parts", fromlist=["_RESOURCES"])._RESOURCES))
    assert len(loaded) == 2 and sum(loaded.values()) >= 1
    for name in (*CHAT_MARTS, "lexicon_versions"):
        assert_frame_equal(local.read(name), remote.read(name), check_exact=True), name


def test_partitions_in_local_worker_processes_give_the_single_process_marts(tmp_path, monkeypatch):
    local = _build(tmp_path / "local")
    step_analytics(MonthJob(MONTH, warehouse=tmp_path / "local" / "w.duckdb", out=tmp_path / "local" / "out", partitions=3), local)
    monkeypatch.setenv("KEFU_WORKERS", "2")
    pooled = _build(tmp_path / "pool")
    step_analytics(MonthJob(MONTH, warehouse=tmp_path / "pool" / "w.duckdb", out=tmp_path / "pool" / "out", partitions=3), pooled)
    for name in (*CHAT_MARTS, "lexicon_versions"):
        assert_frame_equal(local.read(name), pooled.read(name), check_exact=True), name


def test_unreachable_dask_address_is_a_user_error(tmp_path):
    from pipelines.cli import app
    from typer.testing import CliRunner

    res = CliRunner().invoke(app, ["run", "--month", MONTH, "--no-prefect", "--out", str(tmp_path / "out"),
                                   "--warehouse", str(tmp_path / "w.duckdb"), "--inbox", str(Path("data/sample/2026-10").resolve()),
                                   "--dask-address", "tcp://127.0.0.1:9"], env={"KEFU_DASK_TIMEOUT": "2"})
    assert res.exit_code == 3, res.output
    assert "Dask" in res.output and "Traceback" not in res.output


def _analysed(tmp: Path) -> MonthBuild:
    build = _build(tmp)
    step_analytics(MonthJob(MONTH, warehouse=tmp / "w.duckdb", out=tmp / "out", partitions=3), build)
    return build


def test_partitions_on_threads_give_the_single_process_marts(tmp_path, monkeypatch):
    local = _analysed(tmp_path / "local")
    monkeypatch.setenv("KEFU_THREADS", "2")
    threaded = _analysed(tmp_path / "threads")
    for name in (*CHAT_MARTS, "lexicon_versions"):
        assert_frame_equal(local.read(name), threaded.read(name), check_exact=True), name


def test_the_thread_map_runs_on_partition_threads_and_keeps_the_items_order():
    import threading

    from pipelines.dask_map import partition_map

    def who(i: int) -> tuple[int, str]:
        return i, threading.current_thread().name

    with partition_map(threads=2, workers=1) as map_:
        out = map_(who, range(6))
    assert [i for i, _ in out] == list(range(6))
    assert all(name.startswith("partition") for _, name in out)
    with partition_map(threads=1, workers=1) as map_:
        assert {name for _, name in map_(who, range(3))} == {threading.current_thread().name}


def test_local_workers_and_threads_defaults_and_overrides(monkeypatch):
    from pipelines import dask_map

    monkeypatch.delenv("KEFU_WORKERS", raising=False)
    monkeypatch.delenv("KEFU_THREADS", raising=False)
    monkeypatch.setattr(dask_map.os, "cpu_count", lambda: 2)
    assert dask_map.local_workers(80) == 1  # processes only when asked for: threads were faster and smaller
    assert dask_map.local_threads(1) == 1
    assert dask_map.local_threads(8) == 2
    monkeypatch.setattr(dask_map.os, "cpu_count", lambda: 1)
    assert dask_map.local_threads(80) == 1  # one core: one after the other
    monkeypatch.setenv("KEFU_WORKERS", "3")
    assert dask_map.local_workers(1) == 3
    monkeypatch.setenv("KEFU_WORKERS", "many")
    assert dask_map.local_workers(80) == 1
    monkeypatch.setenv("KEFU_THREADS", "4")
    assert dask_map.local_threads(1) == 4
    monkeypatch.setenv("KEFU_THREADS", "x")
    assert dask_map.local_threads(80) == 1


def test_local_workers_exit_when_the_run_is_killed(tmp_path):
    """A run killed while its partition workers are alive (SIGKILL, the OOM killer) leaves
    no worker behind: each watches its parent and exits when it is gone."""
    import signal
    import subprocess
    import sys
    import time

    pids = tmp_path / "pids"
    script = f"""
import multiprocessing, os, time
from pipelines.dask_map import partition_map
if __name__ == "__main__":
    with partition_map(workers=2) as map_:
        map_(abs, [1, -2, 3, -4])
        open({str(pids)!r}, "w").write(" ".join(str(p.pid) for p in multiprocessing.active_children() if "Process" in type(p).__name__))
        time.sleep(120)
"""
    run = subprocess.Popen([sys.executable, "-c", script], cwd=Path(__file__).resolve().parents[2])
    try:
        for _ in range(600):
            if pids.exists() and pids.read_text().strip():
                break
            time.sleep(0.1)
        workers = [int(p) for p in pids.read_text().split()]
        assert workers
        run.send_signal(signal.SIGKILL)
        run.wait()
        deadline = time.monotonic() + 10
        alive = workers
        while alive and time.monotonic() < deadline:
            time.sleep(0.2)
            alive = [p for p in workers if _alive(p)]
        assert not alive, f"workers left behind: {alive}"
    finally:
        run.kill()


def _alive(pid: int) -> bool:
    import os

    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie already exited; it only waits for init to reap it
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False
