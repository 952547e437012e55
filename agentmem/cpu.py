"""CPU thread policy for small tensor work.

torch runs its operators on an OpenMP pool. For the small tensors of one read or one query, a
parallel region costs more than it saves, and on a busy CPU it is pathological: measured on the
project's 2-core machine under load, one query embedding took 800 ms with 2 threads against 26 ms
with 1, and a (150 x 384) einsum 18 ms against 0.15 ms. Small work therefore runs single-threaded;
large batches keep torch's own setting.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager

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


def single_threaded() -> AbstractContextManager[None]:
    """`torch_threads(1)`: for the small tensors of one read or one query."""
    return torch_threads(1)
