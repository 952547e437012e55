"""Episodes: a memory's worth of observations and the questions asked of it, with known evidence.

One data model (`Episode`, `Turn`, `Item`, `Dataset`) serves both controller training
(`agentmem.controller.train`) and the evaluation harness (`agentmem-eval`). It comes from the
project's own generators (`synthetic`: agent histories; `dialogue`: two-person chats), which are
redistributable, or from a benchmark file the user supplies (`locomo`, `longmemeval`, `babi`): no
benchmark data ships with agentmem.
"""

from __future__ import annotations

from agentmem.episodes.babi import BabiConfig, load_babi
from agentmem.episodes.dialogue import DialogueConfig, generate_dialogue
from agentmem.episodes.episode import Dataset, Episode, Item, Turn
from agentmem.episodes.locomo import LocomoConfig, load_locomo
from agentmem.episodes.longmemeval import LongMemEvalConfig, load_longmemeval
from agentmem.episodes.shapes import HELD_OUT, SHAPES, TRAINING_SHAPES, ShapesConfig, generate_shapes
from agentmem.episodes.synthetic import SyntheticConfig, generate

__all__ = [
    "BabiConfig",
    "Dataset",
    "DialogueConfig",
    "Episode",
    "HELD_OUT",
    "Item",
    "LocomoConfig",
    "LongMemEvalConfig",
    "SHAPES",
    "ShapesConfig",
    "SyntheticConfig",
    "TRAINING_SHAPES",
    "Turn",
    "generate",
    "generate_dialogue",
    "generate_shapes",
    "load_babi",
    "load_locomo",
    "load_longmemeval",
]
