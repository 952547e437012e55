"""Dataset loaders: each turns a benchmark file (or a generator config) into `episode.Dataset`."""

from __future__ import annotations

from agentmem_eval.datasets.babi import BabiConfig, load_babi
from agentmem_eval.datasets.locomo import LocomoConfig, load_locomo
from agentmem_eval.datasets.longmemeval import LongMemEvalConfig, load_longmemeval
from agentmem_eval.datasets.synthetic import SyntheticConfig, generate

__all__ = ["BabiConfig", "LocomoConfig", "LongMemEvalConfig", "SyntheticConfig", "generate", "load_babi",
           "load_locomo", "load_longmemeval"]
