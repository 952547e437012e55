"""Optional end-to-end QA: answer each question from a system's recalled memories with any LangChain
chat model, and score the answer by exact match and token F1 (SQuAD normalisation), optionally also
with a judge model. Never needed for the retrieval metrics; nothing here runs unless a model is given.
"""

from __future__ import annotations

import importlib
import re
import string
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from agentmem.episodes import Dataset
from agentmem_eval.runner import SystemRun

ANSWER_PROMPT = (
    "You answer questions about a long conversation history using only the memories below, oldest "
    "first. Answer with a short phrase, no explanation. If the memories do not contain the answer, "
    "say \"unknown\".\n\nMemories:\n{memories}\n\nQuestion: {question}\nAnswer:"
)
JUDGE_PROMPT = (
    "Question: {question}\nGold answer: {gold}\nModel answer: {answer}\n\n"
    "Does the model answer convey the gold answer? Reply with one word: yes or no."
)


@dataclass
class QAConfig:
    """k: memories given to the model per question; limit: at most this many items per system;
    batch_size: questions sent to the model per `batch` call."""

    k: int = 10
    limit: int | None = None
    batch_size: int = 16


def load_chat_model(spec: str) -> Any:
    """"package.module:attr" (a chat model, or a zero-argument factory of one); otherwise the spec is
    handed to `langchain.chat_models.init_chat_model` (e.g. "openai:gpt-4o-mini")."""
    module, _, attr = spec.partition(":")
    try:
        obj = getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError, ValueError):
        from langchain.chat_models import init_chat_model

        return init_chat_model(spec)
    # A class or a factory is called; a ready model instance is used as is.
    return obj() if isinstance(obj, type) or not hasattr(obj, "invoke") else obj


def normalize_answer(text: str) -> str:
    """SQuAD normalisation: lower case, no punctuation, no articles, single spaces."""
    text = "".join(c for c in str(text).lower() if c not in set(string.punctuation))
    text = re.sub(r"\b(a|an|the)\b", " ", text)
    return " ".join(text.split())


def exact_match(prediction: str, gold: str) -> float:
    return float(normalize_answer(prediction) == normalize_answer(gold))


def token_f1(prediction: str, gold: str) -> float:
    pred, ref = normalize_answer(prediction).split(), normalize_answer(gold).split()
    common = sum((Counter(pred) & Counter(ref)).values())
    if not pred or not ref or common == 0:
        return float(pred == ref)
    precision, recall = common / len(pred), common / len(ref)
    return 2 * precision * recall / (precision + recall)


def _text(message: Any) -> str:
    content = getattr(message, "content", message)
    if isinstance(content, list):  # content blocks
        content = " ".join(b.get("text", "") if isinstance(b, dict) else str(b) for b in content)
    return str(content).strip()


def _batched(model: Any, prompts: Sequence[str], size: int) -> list[str]:
    out: list[str] = []
    for i in range(0, len(prompts), size):
        out += [_text(m) for m in model.batch(list(prompts[i : i + size]))]
    return out


def answer_and_score(model: Any, dataset: Dataset, runs: dict[str, SystemRun], config: QAConfig | None = None,
                     judge: Any = None) -> dict[str, dict[str, float]]:
    """For each system: answer every item from its top-k recalled turns (oldest first) and score.

    Returns {system: {"n_items", "exact_match", "f1", ["judge"]}}.
    """
    config = config or QAConfig()
    items = {i.id: (i, ep) for ep in dataset.episodes for i in ep.items}
    scores: dict[str, dict[str, float]] = {}
    for name, run in runs.items():
        chosen = run.items[: config.limit] if config.limit else run.items
        prompts, golds = [], []
        for r in chosen:
            item, ep = items[r.item_id]
            order = {t.id: (pos, t.text) for pos, t in enumerate(ep.turns)}
            recalled = sorted(order[t] for t in r.ranking[: config.k])
            memories = "\n".join(f"- {text}" for _, text in recalled) or "(none)"
            prompts.append(ANSWER_PROMPT.format(memories=memories, question=item.question))
            golds.append((item.question, item.answer))
        answers = _batched(model, prompts, config.batch_size)
        result = {
            "n_items": len(answers),
            "exact_match": sum(exact_match(a, g) for a, (_, g) in zip(answers, golds, strict=True)) / max(len(answers), 1),
            "f1": sum(token_f1(a, g) for a, (_, g) in zip(answers, golds, strict=True)) / max(len(answers), 1),
        }
        if judge is not None:
            verdicts = _batched(judge, [JUDGE_PROMPT.format(question=q, gold=g, answer=a)
                                        for a, (q, g) in zip(answers, golds, strict=True)], config.batch_size)
            result["judge"] = sum(v.lower().startswith("yes") for v in verdicts) / max(len(verdicts), 1)
        scores[name] = result
    return scores
