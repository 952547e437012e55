"""bAbI single-task QA (Weston et al. 2015) as a sequence task for memory networks.

Loader: `load_babi(path)` reads a qaN_*_{train,test}.txt file as one `BabiExample` per question:
the story sentences before it (with their ids), the question, the answer and the supporting-fact ids.
`find_babi_files(root, task)` finds the train/test pair in a directory (e.g. ../shared/datasets/babi/en).

Encoding: one step per sentence, a bag of words over the task's vocabulary plus a question flag; the
question is the last step and the answer word is the target there. Only the last `max_sentences`
sentences are kept (as in MemN2N's experiments), which bounds the sequence length.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import torch

from agentmem.research.tasks.base import Batch


@dataclass(frozen=True)
class BabiExample:
    story: tuple[tuple[int, str], ...]  # (sentence id, text) in story order, questions excluded
    question: str
    answer: str
    supporting: tuple[int, ...]  # ids of the sentences that answer the question


_WORD = re.compile(r"[a-z]+")


def tokenize(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def load_babi(path: str | Path) -> list[BabiExample]:
    """One bAbI file as examples: each question with the story sentences before it. The file is parsed
    by the episodes loader (`agentmem.episodes.babi`), which the retrieval evaluation reads it with too."""
    from agentmem.episodes.babi import load_babi as load_episodes

    return [
        BabiExample(
            tuple((int(t.id), t.text) for t in episode.turns[: item.at]),
            item.question,
            item.answer,
            tuple(int(e) for e in item.evidence),
        )
        for episode in load_episodes(path).episodes
        for item in episode.items
    ]


def find_babi_files(root: str | Path, task: int) -> tuple[Path, Path]:
    """The (train, test) files of task N under root (e.g. qa1_single-supporting-fact_train.txt)."""
    root = Path(root)
    found = []
    for split in ("train", "test"):
        matches = sorted(root.glob(f"qa{task}_*_{split}.txt"))
        if not matches:
            raise FileNotFoundError(f"no qa{task}_*_{split}.txt under {root}")
        found.append(matches[0])
    return found[0], found[1]


@dataclass(frozen=True)
class BabiConfig:
    task: int = 1
    max_sentences: int = 50


class BabiTask:
    """One bAbI task: samples training batches; `evaluation_batches` walks the test set once."""

    name = "babi"
    kind = "classes"
    curriculum_threshold = 0.0  # no curriculum

    def __init__(self, data: str | Path, config: BabiConfig = BabiConfig()) -> None:
        self.config = config
        train_path, test_path = find_babi_files(data, config.task)
        self.train = load_babi(train_path)
        self.test = load_babi(test_path)
        words = sorted(
            {w for ex in self.train for _, s in ex.story for w in tokenize(s)}
            | {w for ex in self.train + self.test for w in tokenize(ex.question) + tokenize(ex.answer)}
        )
        self.vocab = {w: i for i, w in enumerate(words)}
        self.input_size = len(words) + 1  # + question flag
        self.output_size = len(words)

    def _bag(self, text: str) -> torch.Tensor:
        bag = torch.zeros(self.input_size)
        for word in tokenize(text):
            if word in self.vocab:  # test-only story words carry no information the model learned
                bag[self.vocab[word]] = 1
        return bag

    def encode(self, examples: list[BabiExample]) -> Batch:
        """Left-pad to a common length so that every question sits at the last step."""
        sentences = [[s for _, s in ex.story[-self.config.max_sentences :]] for ex in examples]
        steps = max(len(s) for s in sentences) + 1
        inputs = torch.zeros(len(examples), steps, self.input_size)
        for b, (ex, story) in enumerate(zip(examples, sentences, strict=True)):
            offset = steps - 1 - len(story)
            for t, sentence in enumerate(story):
                inputs[b, offset + t] = self._bag(sentence)
            inputs[b, -1] = self._bag(ex.question)
            inputs[b, -1, -1] = 1
        targets = torch.zeros(len(examples), steps, dtype=torch.long)
        targets[:, -1] = torch.tensor([self.vocab[ex.answer.split(",")[0]] for ex in examples])
        mask = torch.zeros(len(examples), steps, dtype=torch.bool)
        mask[:, -1] = True
        return Batch(inputs, targets, mask)

    def sample(self, batch_size: int, *, generator: torch.Generator, difficulty: float = 1.0) -> Batch:
        picks = torch.randint(0, len(self.train), (batch_size,), generator=generator).tolist()
        return self.encode([self.train[i] for i in picks])

    def evaluation_batches(self, batch_size: int) -> list[Batch]:
        return [self.encode(self.test[i : i + batch_size]) for i in range(0, len(self.test), batch_size)]
