"""Classic tasks: layouts match the papers, targets are what the inputs imply; bAbI loader on a fixture."""

from __future__ import annotations

import pytest
import torch

from agentmem.research.tasks import (
    AssociativeRecallTask,
    BabiTask,
    CopyTask,
    PrioritySortTask,
    RepeatCopyTask,
    build_task,
    find_babi_files,
    load_babi,
    loss,
    metric,
)
from agentmem.research.tasks.base import Batch


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def test_copy_layout() -> None:
    batch = CopyTask().sample(3, generator=gen(), length=5)
    assert batch.inputs.shape == (3, 11, 9) and batch.targets.shape == (3, 11, 8)
    assert batch.inputs[:, 5, 8].eq(1).all() and batch.inputs[:, :5, 8].eq(0).all()
    assert torch.equal(batch.targets[:, 6:], batch.inputs[:, :5, :8])
    assert batch.mask[:, 6:].all() and not batch.mask[:, :6].any()


def test_copy_curriculum_bounds_length() -> None:
    task = CopyTask()
    lengths = {(task.sample(1, generator=gen(s), difficulty=0.1).inputs.shape[1] - 1) // 2 for s in range(50)}
    assert max(lengths) <= 3 and min(lengths) >= 1
    lengths = {(task.sample(1, generator=gen(s)).inputs.shape[1] - 1) // 2 for s in range(200)}
    assert max(lengths) == 20


def test_training_draws_from_the_full_range_unless_the_curriculum_is_asked_for() -> None:
    """The curriculum is opt-in: its first stages (copy lengths 1-3) are solvable by the LSTM
    controller alone, and NTM and SAM stalled there instead of learning to use their memory."""
    from agentmem.research.models import ControllerConfig, build_model
    from agentmem.research.trainer import TrainConfig, train

    torch.manual_seed(0)
    model = build_model("lstm", input_size=9, output_size=8, controller=ControllerConfig(hidden_size=8))
    assert {r["difficulty"] for r in train(model, CopyTask(), TrainConfig(steps=2, batch_size=2))} == {1.0}
    staged = train(model, CopyTask(), TrainConfig(steps=2, batch_size=2, curriculum=True))
    assert {r["difficulty"] for r in staged} == {0.1}


def test_repeat_copy_layout() -> None:
    batch = RepeatCopyTask().sample(2, generator=gen(), length=3, repeats=2)
    steps = 3 + 2 + 3 * 2 + 1
    assert batch.inputs.shape == (2, steps, 10)
    assert torch.allclose(batch.inputs[:, 4, 9], torch.tensor(0.2))
    assert torch.equal(batch.targets[:, 5:8, :8], batch.inputs[:, :3, :8])
    assert torch.equal(batch.targets[:, 8:11, :8], batch.inputs[:, :3, :8])
    assert batch.targets[:, -1, 8].eq(1).all()


def test_associative_recall_target_follows_query() -> None:
    batch = AssociativeRecallTask().sample(4, generator=gen(), items=4)
    items = batch.inputs[:, : 4 * 4].reshape(4, 4, 4, 8)[:, :, 1:, :6]  # (B, items, 3, bits)
    query = batch.inputs[:, 17:20, :6]
    for b in range(4):
        i = next(i for i in range(3) if torch.equal(items[b, i], query[b]))
        assert torch.equal(batch.targets[b, -3:], items[b, i + 1])


def test_priority_sort_orders_by_priority() -> None:
    batch = PrioritySortTask().sample(2, generator=gen())
    priorities = batch.inputs[:, :20, 8]
    order = priorities.argsort(dim=1, descending=True)[:, :16]
    expected = batch.inputs[:, :20, :8].gather(1, order.unsqueeze(-1).expand(-1, -1, 8))
    assert torch.equal(batch.targets[:, 21:], expected)


def test_loss_and_metric_bits() -> None:
    targets = torch.tensor([[[1.0, 0.0], [0.0, 1.0]]])
    batch = Batch(torch.zeros(1, 2, 1), targets, torch.tensor([[False, True]]))
    logits = torch.tensor([[[-5.0, 5.0], [5.0, 5.0]]])  # step 0 all wrong but unscored; step 1 one bit wrong
    assert metric("bits", logits, batch) == 1.0
    assert loss("bits", logits, batch).item() == pytest.approx((5.0067 + 0.0067) / 2, abs=1e-3)


STORY = """1 Mary moved to the bathroom.
2 John went to the hallway.
3 Where is Mary? \tbathroom\t1
4 Daniel went back to the hallway.
5 Where is Daniel? \thallway\t4
1 Sandra journeyed to the garden.
2 Where is Sandra? \tgarden\t1
"""


@pytest.fixture
def babi_dir(tmp_path):
    for split in ("train", "test"):
        (tmp_path / f"qa1_single-supporting-fact_{split}.txt").write_text(STORY)
    return tmp_path


def test_babi_loader_parses_stories_questions_and_supporting_facts(babi_dir) -> None:
    train_path, test_path = find_babi_files(babi_dir, 1)
    assert train_path.name.endswith("_train.txt") and test_path.name.endswith("_test.txt")
    examples = load_babi(train_path)
    assert len(examples) == 3
    assert examples[1].story == (
        (1, "Mary moved to the bathroom."),
        (2, "John went to the hallway."),
        (4, "Daniel went back to the hallway."),
    )
    assert examples[1].question == "Where is Daniel?" and examples[1].answer == "hallway"
    assert examples[1].supporting == (4,)
    assert examples[2].story == ((1, "Sandra journeyed to the garden."),)
    with pytest.raises(FileNotFoundError):
        find_babi_files(babi_dir, 2)


def test_babi_encoding_puts_the_question_last(babi_dir) -> None:
    task = build_task("babi", data=babi_dir, babi_task=1)
    assert isinstance(task, BabiTask)
    batch = task.encode(task.train)
    assert batch.inputs.shape == (3, 4, task.input_size)
    assert batch.mask[:, -1].all() and batch.mask[:, :-1].sum() == 0
    assert batch.inputs[:, -1, -1].eq(1).all()  # question flag
    assert batch.inputs[2, :2].abs().sum() == 0  # left padding for the one-sentence story
    assert batch.inputs[0, 1, task.vocab["mary"]] == 1
    assert [task.vocab[a] for a in ("bathroom", "hallway", "garden")] == batch.targets[:, -1].tolist()
    assert len(task.evaluation_batches(2)) == 2
