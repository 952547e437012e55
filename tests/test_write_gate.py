"""The write gate: its pair features, update-instead-of-append with history and merged keys, batch
writes weighed as stored, teacher-forced training pairs, and what its config switches off."""

from __future__ import annotations

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
        # content words {ilse kim sold subaru bought kia} vs {ilse kim drives subaru}: 3 of 7 shared
        dict(
            cosine=0.78,
            closest=0.0,
            overlap=3 / 7,
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
            overlap=1 / 9,
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
    # content-word overlap: 2nd vs 1st 3/6, 3rd vs 2nd 4/6, 3rd vs 1st 2/7; fires above 0.45
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
