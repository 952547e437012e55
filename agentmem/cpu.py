"""CPU thread policy for small tensor work.

torch runs its operators on an OpenMP pool. For the small tensors of one read or one query, a
parallel region costs more than it saves, and on a busy CPU it is pathological: two threads spinning
against another process's make one query embedding or one read's small einsum tens of times slower
than a single thread. Small work therefore runs single-threaded; large batches keep torch's own
setting.

A read's independent parts can overlap on the machine's cores instead (`in_background`).
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any, TypeVar

T = TypeVar("T")

SMALL_BATCH = 8  # texts per encode call at or under which encoding runs single-threaded


@contextmanager
def torch_threads(n: int | None) -> Iterator[None]:
    """Run torch with `n` intra-op threads inside the block (process-wide, restored after); None: as is."""
    if n is None:
        yield
        return
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


_faiss = threading.local()


def faiss_threads(n: int) -> None:
    """Set FAISS's OpenMP threads for the calling thread (OpenMP keeps the setting per thread), and skip
    the call when it is already so: each call releases and retakes the GIL, and while a read's worker
    thread holds it, retaking it costs more than a small search."""
    if getattr(_faiss, "threads", None) != n:
        import faiss

        faiss.omp_set_num_threads(n)
        _faiss.threads = n


def in_background(fn: Callable[..., T], *args: Any, here: bool = False) -> Future[T]:
    """Run `fn(*args)` on a worker thread, for work that can overlap a long call in this thread that
    releases the GIL (a FAISS scan, a SQLite query); on a one-core machine, or with `here` (work that
    needs a lock this thread holds), it runs here, already done."""
    pool = None if here else _worker_pool()
    if pool is None:
        done: Future[T] = Future()
        try:
            done.set_result(fn(*args))
        except BaseException as e:  # noqa: BLE001 - handed back to the caller by result(), as a worker's would be
            done.set_exception(e)
        return done
    return pool.submit(fn, *args)


@functools.cache
def _worker_pool() -> ThreadPoolExecutor | None:
    """One worker per core, so concurrent reads each get one; None on one core, where a worker could
    only take turns with the caller."""
    cores = os.cpu_count() or 1
    return ThreadPoolExecutor(max_workers=cores, thread_name_prefix="agentmem") if cores > 1 else None
