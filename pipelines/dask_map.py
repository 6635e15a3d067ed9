"""Where a month's buyer partitions are computed: in this process, or on a Dask cluster.

``partition_map(address)`` yields a ``map(fn, items) -> list`` that the analytics step hands
to the partition runner (:mod:`pipelines.chat_parts`). Without an address it is a plain loop
in this process (the default), or ``KEFU_WORKERS`` spawned processes of this machine. With
``--dask-address tcp://host:8786`` each partition is one Dask task on that cluster; the results come back in the items' order, so the merged marts are the same as the
single-process run's (tests/pipelines/test_dask_partitions.py checks it on a LocalCluster).

What a cluster needs (docs/architecture.md "Beyond one machine"): workers with the same
environment (this package importable, same library versions) and the run's build folder
(``<out>/.kefu-build/...``) on a filesystem they share with the scheduler's client, because a
partition task reads its messages from there and writes its marts there. Nothing else is
sent: the arguments are paths and settings.
"""

from __future__ import annotations

import logging
import os
from contextlib import contextmanager
from typing import Any, Callable, Iterator, Sequence

Map = Callable[[Callable[[Any], Any], Sequence[Any]], list]


class DaskUnavailable(RuntimeError):
    """The Dask cluster named by --dask-address cannot be reached (a user error)."""


def connect_timeout() -> float:
    """Seconds to wait for the scheduler (``KEFU_DASK_TIMEOUT``, default 30)."""
    return float(os.environ.get("KEFU_DASK_TIMEOUT", "30"))


def _client(address: str):
    from distributed import Client

    try:
        return Client(address, set_as_default=False, timeout=connect_timeout())
    except (OSError, TimeoutError) as e:
        raise DaskUnavailable(f"无法连接 Dask 集群 {address} ({type(e).__name__}: {e}); 检查 --dask-address 或不加该选项在本机计算") from None


def check_cluster(address: str) -> int:
    """Connect to the cluster once and return its number of workers; raises DaskUnavailable.
    A run calls this before it reads anything, so a wrong address fails in seconds."""
    quiet_dask()
    with _client(address) as client:
        return len(client.scheduler_info().get("workers", {}))


def local_map(fn: Callable[[Any], Any], items: Sequence[Any]) -> list:
    """Run ``fn`` on every item here, in order, one at a time (bounded memory)."""
    return [fn(item) for item in items]


def quiet_dask() -> None:
    """Workers losing the scheduler at shutdown is not an error of the run: no log noise,
    here and (through the environment Dask reads) in worker processes started from here."""
    os.environ.setdefault("DASK_LOGGING__DISTRIBUTED", "critical")
    for name in ("distributed", "distributed.comm", "distributed.core", "distributed.worker",
                 "distributed.nanny", "distributed.batched", "distributed.scheduler"):
        logging.getLogger(name).setLevel(logging.CRITICAL)


def local_workers() -> int:
    """Processes computing partitions on this machine without a cluster (``KEFU_WORKERS``,
    default 1: the partitions one after the other in this process)."""
    try:
        return max(1, int(os.environ.get("KEFU_WORKERS", "1")))
    except ValueError:
        return 1


@contextmanager
def partition_map(address: str | None = None, workers: int | None = None) -> Iterator[Map]:
    """A map over partitions: on the Dask cluster at ``address``; else in ``workers`` local
    processes (spawned: polars' threads and fork do not mix); else a loop in this process."""
    workers = local_workers() if workers is None else workers
    if not address and workers <= 1:
        yield local_map
        return
    if not address:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn")) as pool:
            yield lambda fn, items: list(pool.map(fn, items))
        return
    quiet_dask()
    with _client(address) as client:

        def dask_map(fn: Callable[[Any], Any], items: Sequence[Any]) -> list:
            # pure=False: a re-run must recompute, never reuse a cached result of another build
            futures = client.map(fn, list(items), pure=False)
            return client.gather(futures)

        yield dask_map
