"""The write gate: its pair features, update-instead-of-append with history and merged keys, batch
writes weighed as stored, the chat rules (small talk, bursts and questions never merge), teacher-forced
training pairs, and what its config switches off."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
import torch

from agentmem import Memory
from agentmem.controller.learned import LearnedConfig, LearnedController
from agentmem.controller.write_gate import (
    GATE_FEATURES,
    GateExample,
    WriteGate,
    WriteGateConfig,
    fit_gate,
    gate_pairs,
    merge_keys,
    pair_features,
)
from agentmem.episodes import Turn
from agentmem.text import asks, entities, has_question, says_changed, substance

PACKAGED = Path(__file__).resolve().parent.parent / "agentmem" / "checkpoints" / "controller.safetensors"


def _logistic_gate(candidates: int = 1, **weights: float) -> LearnedController:
    """A controller whose hand-set logistic write gate is p = σ(Σ weights[f] φ_f + bias)."""
    ctl = LearnedController(LearnedConfig(gate=WriteGateConfig(hidden=0, candidates=candidates)))
    bias = weights.pop("bias")
    with torch.no_grad():
        ctl.gate.weight.zero_()
        for name, w in weights.items():
            ctl.gate.weight[GATE_FEATURES.index(name)] = w
        ctl.gate.bias.fill_(bias)
    return ctl


@pytest.mark.parametrize("one_batch", [True, False])
def test_write_gate_updates_the_superseded_memory_and_keeps_its_history(encoder, one_batch):
    # a logistic gate that fires on change words between same-speaker memories
    ctl = _logistic_gate(candidates=4, cue=10.0, speaker=10.0, bias=-15.0)
    texts = [
        "Alice: I live in Austin, close to work.",
        "Bob: Austin sounds lovely.",
        "Alice: We moved again, now we live in Denver.",
    ]
    with Memory(None, encoder=encoder, controller=ctl) as mem:
        ids = mem.remember(texts) if one_batch else [i for t in texts for i in mem.remember(t)]
        assert ids[2] == ids[0] and ids[1] != ids[0] and len(mem) == 2
        assert [v.text for v in mem.history(ids[0])] == [texts[0], texts[2]]
        assert mem.recall("Where does Alice live?", k=1)[0].text == texts[2]
        # The updated memory's key merges both statements: addressable as the fact was first put.
        slot = mem.get(ids[0]).write_order
        keys = encoder.encode([texts[0], texts[2]])
        merged = (keys[0] + keys[1]) / np.linalg.norm(keys[0] + keys[1])
        np.testing.assert_allclose(mem.backend.vectors([slot])[0], merged, atol=1e-3)  # float16 keys


def test_an_update_threshold_of_one_never_updates_and_no_duplicate_cosine_never_skips(encoder):
    """The ablations switch the gate and the duplicate skip off through config alone."""
    ctl = _logistic_gate(candidates=4, cue=10.0, speaker=10.0, bias=-15.0)
    ctl.config.gate.update_threshold = 1.0
    ctl.config.gate.duplicate_cosine = 2.0
    texts = [
        "Alice: I live in Austin.",
        "Alice: We moved, now we live in Denver.",
        "Alice: I live in Austin.",
    ]
    with Memory(None, encoder=encoder, controller=ctl) as mem:
        assert len(set(mem.remember(texts))) == 3


def test_duplicate_observation_is_skipped_not_appended(encoder):
    with Memory(None, encoder=encoder, controller=LearnedController()) as mem:
        (a,) = mem.remember("Alice moved to Lisbon.")
        assert mem.remember("alice moved  to Lisbon.") == [a]
        assert mem.remember("Alice moved to Porto.") != [a]
        assert len(mem) == 2


def test_gate_pair_features_by_hand():
    new = "user: Ilse Kim sold the Subaru and bought a Kia."

    def features(old: str, cosine: float) -> dict[str, float]:
        got = pair_features(new, "user", old, "user", cosine, best_cosine=0.81)
        return dict(zip(GATE_FEATURES, got.tolist(), strict=True))

    same = features("user: Ilse Kim drives a Subaru.", 0.78)
    assert same == pytest.approx(
        # substantive words {ilse kim subaru bought kia} ("sold" is a change word) vs {ilse kim drives
        # subaru}: 3 of 6 shared
        dict(
            cosine=0.78,
            closest=0.0,
            overlap=3 / 6,
            entities=1.0,
            speaker=1.0,
            cue=1.0,
            subject=1.0,
            named=1.0,
        )
    )
    other = features("user: Rosa Costa drives a Subaru.", 0.81)  # the same template about someone else
    assert other == pytest.approx(
        dict(
            cosine=0.81,
            closest=1.0,
            overlap=1 / 8,
            entities=1 / 3,
            speaker=1.0,
            cue=1.0,
            subject=0.0,
            named=1.0,
        )
    )
    # A speaker's own name is not an entity of the text, and an old memory naming no one has no subject.
    chat = pair_features(
        "Alice Brown: We moved to Denver.",
        "alice brown",
        "Alice Brown: I live in Austin.",
        "alice brown",
        0.6,
        0.6,
    )
    assert chat[GATE_FEATURES.index("subject")] == 0.0 and chat[GATE_FEATURES.index("entities")] == 0.0
    assert chat[GATE_FEATURES.index("named")] == 0.0  # names no one, where `other` names someone else


@pytest.mark.parametrize("one_batch", [True, False])
def test_a_write_is_weighed_against_the_memories_naming_whom_it_names(encoder, one_batch):
    """The same template about someone else is closer by key than the person's own old statement; the
    gate (G = 1) still sees the latter, because it names the same person, unless naming is off."""
    texts = [
        "user: Viktor Nakamura lives in Florence.",
        "user: Nikhil Nakamura lives in Cusco.",
        "user: Viktor Nakamura has moved from Florence to Cusco.",
    ]
    keys = encoder.encode(texts)
    assert keys[2] @ keys[1] > keys[2] @ keys[0]  # the other Nakamura is the closest memory
    for naming in (True, False):
        ctl = _logistic_gate(subject=10.0, cue=10.0, bias=-15.0)  # fires for a change about the same person
        ctl.config.gate.naming = naming
        with Memory(None, encoder=encoder, controller=ctl) as mem:
            ids = mem.remember(texts) if one_batch else [i for t in texts for i in mem.remember(t)]
            if not naming:  # weighed against the other Nakamura alone: no update
                assert len(set(ids)) == 3
                continue
            assert ids[2] == ids[0] != ids[1]
            assert [v.text for v in mem.history(ids[0])] == [texts[0], texts[2]]
            assert mem.get(ids[1]).text == texts[1]


def test_one_batch_and_one_write_at_a_time_weigh_the_same_memories(encoder):
    """Within a batch, a memory an earlier write updated is weighed as stored: with its latest text and
    merged key. Here the third statement matches only the second's words ("Lima"), not the first's."""
    texts = [
        "user: Ana Silva lives in Oslo.",
        "user: Ana Silva has moved from Oslo to Lima.",
        "user: Ana Silva has moved from Lima to Quito.",
    ]
    # substantive-word overlap ("moved" is a change word): 2nd vs 1st 3/5, 3rd vs 2nd 3/5, 3rd vs 1st 2/6;
    # fires above 0.45
    ctl = _logistic_gate(overlap=20.0, bias=-9.0)
    stores = []
    for one_batch in (True, False):
        mem = Memory(None, encoder=encoder, controller=ctl)
        ids = mem.remember(texts) if one_batch else [i for t in texts for i in mem.remember(t)]
        assert ids == [ids[0]] * 3 and [v.text for v in mem.history(ids[0])] == texts
        stores.append(mem.backend.vectors([mem.get(ids[0]).write_order])[0])
        mem.close()
    np.testing.assert_allclose(stores[0], stores[1], atol=1e-3)  # keys are stored as float16


def test_gate_pairs_see_each_chain_as_a_right_gate_would_have_left_it(encoder):
    """Training pairs (teacher forcing): a replaced statement is gone, its chain's memory holds the latest
    text and the merged key, and only that memory is labelled as the one the turn supersedes."""
    turns = [
        Turn("a", "s", "user: Ana Silva lives in Oslo."),
        Turn("b", "s", "user: Ana Silva has moved from Oslo to Lima.", supersedes="a"),
        Turn("c", "s", "user: Bo Ek drives a Fiat."),
        Turn("d", "s", "user: Ana Silva has moved from Lima to Quito.", supersedes="b"),
    ]
    v = encoder.encode([t.text for t in turns])
    by_turn = gate_pairs(turns, v, k=4)  # turns b, c, d against the memories standing before them
    # b against a; c against b's memory alone (a's statement is gone); d against b's memory and c
    assert [e.labels.tolist() for e in by_turn] == [[1.0], [0.0], [1.0, 0.0]]
    merged = merge_keys(v[0], v[1])
    assert by_turn[2].features[0, GATE_FEATURES.index("cosine")] == pytest.approx(
        float(v[3] @ merged), abs=1e-5
    )
    assert by_turn[2].features[1, GATE_FEATURES.index("cosine")] == pytest.approx(
        float(v[3] @ v[2]), abs=1e-5
    )
    # "Lima" is an entity of the memory's latest text, not of its first ("Oslo" only)
    assert by_turn[2].features[0, GATE_FEATURES.index("entities")] == pytest.approx(3 / 4)


def test_the_gate_learns_interactions_a_logistic_gate_cannot():
    """Whether a feature says "same fact" depends on the others (write_gate.py). The extreme case, an
    update exactly when one of speaker and subject matches (XOR): the hidden layer learns it, a
    logistic gate cannot."""
    rng = np.random.default_rng(0)
    speaker, subject = (rng.random(400) < 0.5 for _ in range(2))
    feats = np.zeros((400, len(GATE_FEATURES)), dtype=np.float32)
    feats[:, GATE_FEATURES.index("speaker")] = speaker
    feats[:, GATE_FEATURES.index("subject")] = subject
    labels = (speaker ^ subject).astype(np.float32)
    examples = [GateExample(feats[i : i + 4], labels[i : i + 4]) for i in range(0, 400, 4)]
    hidden = fit_gate(WriteGate(WriteGateConfig(hidden=16)), examples)
    assert hidden.val_precision == 1.0 and hidden.val_recall == 1.0
    logistic = fit_gate(WriteGate(WriteGateConfig(hidden=0)), examples)
    assert min(logistic.val_precision, logistic.val_recall) < 0.8


def test_gradients_reach_every_gate_parameter():
    gate = WriteGate()
    with torch.no_grad():
        gate.weight.normal_()  # at init the output weights are 0, blocking the hidden layer's gradient
    (-gate.probability(torch.rand(4, len(GATE_FEATURES))).log().sum()).backward()
    for name, p in gate.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name


def test_an_untrained_gate_never_updates():
    with torch.no_grad():
        assert float(WriteGate().probability(torch.ones(len(GATE_FEATURES)))) < 0.05


# -- the chat rules -------------------------------------------------------------------------------


def test_text_rules_by_hand():
    # substance: content words without change words, conversation glue or two-letter pieces ("m")
    assert substance("Good morning!") == [] and substance("ok moving on") == [] and substance("haha same") == []
    assert substance("I'm home now") == ["home"]
    assert substance("We moved to Denver, now we live in a tiny flat.") == ["denver", "live", "tiny", "flat"]
    # entities: capitalised words that are not a sentence's glue, possessives folded
    assert entities("Actually I'm at Omar's place in Lima.") == {"omar", "lima"}
    # whom a message is said to is not what it is about
    assert substance("Thanks, Gina! Wow Nate, the dance studio is great.") == ["dance", "studio"]
    assert entities("Hey Jon, I moved to Denver!") == {"denver"}
    # a question states nothing; a statement followed by a question does
    assert asks("Where do you live again?") and asks("Are you still in Austin? :)")
    assert not asks("We moved! Have you been to Denver?") and not asks("ok")
    # ... though it asks something, which a reply may answer; in any script's question mark
    assert has_question("We moved! Have you been to Denver?") and has_question("¿Y tú?")
    assert has_question("京都はどうでしたか？") and has_question("هل زرت القاهرة؟")
    assert not has_question("Noted: buy genmaicha.") and not has_question("")
    # change words, the ones that say a state ended included
    assert says_changed("Sam and I broke up.") and says_changed("Ana relocated to Lima.")
    assert not says_changed("I started a new job as a nurse.")
    # a negated change word says nothing changed, but "not ... anymore" and "no longer" do
    assert not says_changed("I won't quit, ever!") and not says_changed("We never moved.")
    assert says_changed("I'm not in Austin anymore.") and says_changed("I no longer drive.")


def _chat(*lines: tuple[str, float]) -> tuple[list[str], list[dict[str, str]], list[datetime]]:
    """(texts, metadata, event times) of "Name: text" lines at the given minutes after a start."""
    start = datetime(2024, 3, 4, 9, 0)
    texts = [t for t, _ in lines]
    return texts, [{"speaker": t.partition(":")[0]} for t in texts], [start + timedelta(minutes=m) for _, m in lines]


def _write(encoder, ctl, lines, one_batch: bool) -> list[str]:
    texts, metadata, times = _chat(*lines)
    with Memory(None, encoder=encoder, controller=ctl) as mem:
        if one_batch:
            return mem.remember(texts, metadata=metadata, event_time=times)
        return [
            i for t, m, at in zip(texts, metadata, times, strict=True) for i in mem.remember(t, metadata=m, event_time=at)
        ]


@pytest.mark.parametrize("one_batch", [True, False])
def test_small_talk_with_a_change_word_never_merges(encoder, one_batch):
    """A gate that fires on a change word between one speaker's turns (what the network learns from
    generated chats) would fold small talk into whatever that speaker said before; a merge needs a
    shared substantive word."""
    ctl = _logistic_gate(candidates=4, cue=10.0, speaker=10.0, bias=-15.0)
    day = 24 * 60
    lines = [
        ("Mira: I live in Austin, close to the river.", 0),
        ("Mira: Good morning!", day),
        ("Mira: I'm home now", day + 90),
        ("Mira: not tired anymore haha", 2 * day),
        ("Mira: ok moving on", 2 * day + 30),
    ]
    assert len(set(_write(encoder, ctl, lines, one_batch))) == len(lines)
    ctl.config.gate.shared_content = False  # the gate alone: small talk merges
    assert len(set(_write(encoder, ctl, lines, one_batch))) < len(lines)


@pytest.mark.parametrize("one_batch", [True, False])
def test_a_burst_continues_and_a_later_change_replaces(encoder, one_batch):
    """One speaker's messages seconds apart continue each other, even sharing words and a change word;
    the same change days later replaces the earlier statement."""
    ctl = _logistic_gate(candidates=4, cue=10.0, speaker=10.0, bias=-15.0)
    burst = [
        ("Mira: at the store, they don't have my cereal anymore", 0),
        ("Mira: got the other cereal brand instead", 0.5),
        ("Mira: the cereal line is huge now", 0.9),
    ]
    assert len(set(_write(encoder, ctl, burst, one_batch))) == 3
    ctl.config.gate.burst_seconds = 0.0  # no burst rule: the change words merge them
    assert len(set(_write(encoder, ctl, burst, one_batch))) < 3
    ctl.config.gate.burst_seconds = 60.0
    update = [("Mira: I live in Austin, close to the river.", 0), ("Mira: We moved, now we live in Denver.", 5 * 24 * 60)]
    ids = _write(encoder, ctl, update, one_batch)
    assert ids[0] == ids[1]


def test_a_question_never_merges(encoder):
    ctl = _logistic_gate(candidates=4, cue=10.0, speaker=10.0, bias=-15.0)
    lines = [("Mira: Are you still living in Austin?", 0), ("Mira: I'm not living in Austin anymore.", 60 * 24)]
    assert len(set(_write(encoder, ctl, lines, True))) == 2


def test_a_repeated_statement_is_skipped_and_repeated_small_talk_is_not(encoder):
    """The duplicate skip keeps one memory of a statement written twice; small talk and questions say
    nothing to keep once, so each is a memory of its own."""
    with Memory(None, encoder=encoder, controller=LearnedController()) as mem:
        fact = mem.remember(["Mira: The bakery on Main Street closes at six."] * 2)
        chat = mem.remember(["Mira: Good morning!"] * 2 + ["Mira: Where do you live again?"] * 2)
        assert fact[0] == fact[1] and len(set(chat)) == 4


@pytest.mark.parametrize("one_batch", [True, False])
def test_a_reply_never_replaces_what_another_speaker_said(encoder, one_batch):
    ctl = _logistic_gate(candidates=4, cue=10.0, overlap=10.0, bias=-12.0)
    lines = [
        ("Gina: I'm looking for a new dance studio downtown.", 0),
        ("Jon: A new dance studio downtown? Mine closed, I'm teaching from home now.", 60 * 24),
    ]
    assert len(set(_write(encoder, ctl, lines, one_batch))) == 2
    ctl.config.gate.same_speaker = False  # the gate alone: the reply replaces the statement
    assert len(set(_write(encoder, ctl, lines, one_batch))) == 1


def test_the_gate_config_of_a_checkpoint_without_the_rules_fields_loads():
    from safetensors import safe_open

    with safe_open(str(PACKAGED), framework="pt") as f:
        gate = json.loads(f.metadata()["config"])["gate"]
    rules = ("shared_content", "same_speaker", "burst_seconds")
    config = WriteGateConfig(**{k: v for k, v in gate.items() if k not in rules})
    assert config.shared_content and config.same_speaker and config.burst_seconds == 60.0
