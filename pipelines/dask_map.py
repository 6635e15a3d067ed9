"""Where a month's buyer partitions are computed: in this process, or on a Dask cluster.

``partition_map(address)`` yields a ``map(fn, items) -> list`` that the analytics step hands
to the partition runner (:mod:`pipelines.chat_parts`). Without an address it runs on two
threads of this process for a month of 2+ partitions on a machine with 2+ cores
(``KEFU_THREADS=N`` overrides, 1 = a plain loop), or in ``KEFU_WORKERS=N`` spawned processes
if asked for. With
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


def die_with_parent(parent_pid: int, every_s: float = 0.5) -> None:
    """In a worker process: exit as soon as the run that started it is gone. A killed run
    (SIGKILL, OOM) cannot stop its pool, and idle workers would wait on the task queue
    forever, since each holds the queue's other end."""
    import threading
    import time

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(every_s)
        os._exit(1)

    threading.Thread(target=watch, name="die-with-parent", daemon=True).start()


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


def local_workers(partitions: int = 1) -> int:
    """Spawned processes computing the partitions on this machine without a cluster:
    ``KEFU_WORKERS`` if set, else 1 (none: the partitions run on threads of this process,
    :func:`local_threads`). Processes cost their start-up (imports, text resources: ~5 CPU s
    each) and a second copy of everything in memory; threads measured faster and smaller
    (docs/benchmarks.md, "Threads or processes")."""
    return _env_count("KEFU_WORKERS", 1)


def local_threads(partitions: int = 1) -> int:
    """Threads computing ``partitions`` partitions in this process: ``KEFU_THREADS`` if set,
    else 2 for a month of 2+ partitions on a machine with 2+ cores, else 1 (one after the
    other). A partition is polars work that releases the GIL (py-spy: it holds it ~10 % of
    its time), so two partitions at once keep both cores busy between polars' own parallel
    operations, and the month's marts are the same (the results are merged in partition
    order)."""
    return _env_count("KEFU_THREADS", 2 if partitions >= 2 and (os.cpu_count() or 1) >= 2 else 1)


def _env_count(name: str, default: int) -> int:
    """A count from the environment variable ``name`` (at least 1; 1 if it is not a number),
    else ``default``."""
    env = os.environ.get(name)
    if not env:
        return default
    try:
        return max(1, int(env))
    except ValueError:
        return 1


@contextmanager
def partition_map(address: str | None = None, workers: int | None = None, partitions: int = 1,
                  threads: int | None = None) -> Iterator[Map]:
    """A map over ``partitions`` partitions: on the Dask cluster at ``address``; else in
    ``workers`` local processes (default :func:`local_workers`; spawned: polars' threads and
    fork do not mix); else on ``threads`` threads of this process (default
    :func:`local_threads`); else a loop in this process. Results come back in the items'
    order whichever it is."""
    workers = local_workers(partitions) if workers is None else workers
    threads = local_threads(partitions) if threads is None else threads
    if not address and workers > 1:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                                 initializer=die_with_parent, initargs=(os.getpid(),)) as pool:
            yield lambda fn, items: list(pool.map(fn, items))
        return
    if not address and threads > 1:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="partition") as pool:
            yield lambda fn, items: list(pool.map(fn, items))
        return
    if not address:
        yield local_map
        return
    quiet_dask()
    with _client(address) as client:

        def dask_map(fn: Callable[[Any], Any], items: Sequence[Any]) -> list:
            # pure=False: a re-run must recompute, never reuse a cached result of another build
            futures = client.map(fn, list(items), pure=False)
            return client.gather(futures)

        yield dask_map
