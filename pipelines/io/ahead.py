"""Run a generator ahead of its consumer in a background thread (a two-stage pipeline).

Ingest reads and parses the inbox (CSV parsing, reader expressions: polars releases the GIL
while it computes) while the consumer stages, hashes and writes what was read before, so the
two halves use both cores. At most ``depth`` items wait between them, so the memory of an
ingest stays bounded by a few chunks, not by the file.
"""

from __future__ import annotations

import queue
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")

_POLL_S = 0.1  # how often a blocked producer checks whether the consumer gave up


def read_ahead(items: Iterable[T], depth: int = 2) -> Iterator[T]:
    """The items of ``items`` in order, produced by a background thread up to ``depth`` items
    ahead of the caller (``depth`` 0: in the caller's thread, no thread at all).

    An exception raised by ``items`` is raised here, at its place in the sequence (after
    every item produced before it). If the caller stops early (an exception of its own, or
    ``close()``), the producer stops at its next item and its generator is closed in its own
    thread before this one returns: no thread outlives the iteration."""
    if depth <= 0:
        yield from items
        return
    q: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(msg) -> bool:
        while not stop.is_set():
            try:
                q.put(msg, timeout=_POLL_S)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        it = iter(items)
        try:
            for item in it:
                if not put((True, item)):
                    return
            put((False, None))
        except BaseException as e:  # handed to the consumer, raised there
            put((False, e))
        finally:
            close = getattr(it, "close", None)
            if close is not None:
                close()

    worker = threading.Thread(target=produce, name="kefu-read-ahead", daemon=True)
    worker.start()
    try:
        while True:
            ok, value = q.get()
            if ok:
                yield value
                continue
            if value is not None:
                raise value
            return
    finally:
        stop.set()
        worker.join()


U = TypeVar("U")


def ordered_map(fn: Callable[[T], U], items: Iterable[T], workers: int = 2) -> Iterator[U]:
    """``fn(item)`` for each of ``items``, in order, up to ``workers`` of them computed at
    once in threads (items are taken lazily: at most ``workers`` are held beyond the one
    handed out). ``workers`` 1: one after the other in the caller's thread. An exception of
    ``fn``, or of ``items`` itself, is raised at its item's place (after the results of
    every item before it); stopping early cancels what is not started and waits for what is."""
    if workers <= 1:
        for item in items:
            yield fn(item)
        return
    pool = ThreadPoolExecutor(workers, thread_name_prefix="kefu-map")
    pending: deque[Future] = deque()
    it = iter(items)
    ended = False
    try:
        while True:
            while not ended and len(pending) < workers:
                try:
                    item = next(it, _END)
                except Exception as e:  # raised after the items before it
                    failed: Future = Future()
                    failed.set_exception(e)
                    pending.append(failed)
                    ended = True
                    break
                if item is _END:
                    ended = True
                    break
                pending.append(pool.submit(fn, item))
                del item
            if not pending:
                return
            yield pending.popleft().result()
    finally:
        for f in pending:
            f.cancel()
        pool.shutdown(wait=True)


_END = object()
