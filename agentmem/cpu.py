"""CPU thread policy for small tensor work.

torch runs its operators on an OpenMP pool. For the small tensors of one read or one query, a
parallel region costs more than it saves, and on a busy CPU it is pathological: measured on the
project's 2-core machine under load, one query embedding took 800 ms with 2 threads against 26 ms
with 1, and a (150 x 384) einsum 18 ms against 0.15 ms. Small work therefore runs single-threaded;
large batches keep torch's own setting.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

SMALL_BATCH = 8  # texts per encode call at or under which encoding runs single-threaded


@contextmanager
def single_threaded() -> Iterator[None]:
    """Run torch with one intra-op thread inside the block (process-wide, restored after)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)
