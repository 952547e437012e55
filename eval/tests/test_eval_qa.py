"""The optional QA stage with langchain-core's fake chat models (no network, no real model)."""

from __future__ import annotations

import pytest
from agentmem_eval.qa import (
    QAConfig,
    answer_and_score,
    exact_match,
    load_chat_model,
    normalize_answer,
    token_f1,
)
from agentmem_eval.runner import RunConfig, evaluate
from langchain_core.language_models.fake_chat_models import FakeListChatModel

from agentmem.episodes import load_locomo


def test_squad_normalisation_em_f1():
    assert normalize_answer("The  Violin!") == "violin"
    assert exact_match("the violin.", "Violin") == 1.0
    assert token_f1("a red violin", "violin") == pytest.approx(2 * 0.5 * 1 / 1.5)  # P=1/2, R=1
    assert token_f1("", "") == 1.0
    assert token_f1("cello", "violin") == 0.0


def test_answer_and_judge_with_fake_models(locomo_file):
    ds = load_locomo(locomo_file)
    _, runs = evaluate(ds, RunConfig(systems=("recency",), ks=(2,), progress=False))
    # Items in order: puppy (Rex), violin, Porto, violin start (May 2023), Rex chew (shoes).
    model = FakeListChatModel(responses=["Rex", "the violin", "Lisbon", "unknown", "his shoes"])
    judge = FakeListChatModel(responses=["yes", "Yes.", "no", "no", "yes"])
    scores = answer_and_score(model, ds, runs, QAConfig(k=2, batch_size=2), judge=judge)["recency"]
    assert scores["n_items"] == 5
    assert scores["exact_match"] == pytest.approx(2 / 5)
    # F1 per item: 1, 1, 0, 0, "his shoes" vs "shoes" = 2/3.
    assert scores["f1"] == pytest.approx((1 + 1 + 0 + 0 + 2 / 3) / 5)
    assert scores["judge"] == pytest.approx(3 / 5)


def test_prompt_holds_recalled_memories_oldest_first(locomo_file):
    from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
    from langchain_core.messages import AIMessage

    ds = load_locomo(locomo_file)
    _, runs = evaluate(ds, RunConfig(systems=("recency",), ks=(2,), progress=False))
    seen: list[str] = []

    class Recording(GenericFakeChatModel):
        def _generate(self, messages, *args, **kwargs):
            seen.append(messages[0].content)
            return super()._generate(messages, *args, **kwargs)

    model = Recording(messages=iter([AIMessage(content="x")] * 5))
    answer_and_score(model, ds, runs, QAConfig(k=2, limit=1))
    assert len(seen) == 1
    assert seen[0].index("Bo: The violin recital went well.") < seen[0].index("Ann: Rex chewed my shoes again.")
    assert "Question: What is the name of Ann's puppy?" in seen[0]


def fake_model() -> FakeListChatModel:
    return FakeListChatModel(responses=["ok"])


def test_load_chat_model_from_import_path():
    model = load_chat_model(f"{__name__}:fake_model")
    assert isinstance(model, FakeListChatModel)
    assert model.invoke("hi").content == "ok"
