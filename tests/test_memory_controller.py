"""The learned MemoryController: addressing equivalence, gradients, checkpoints, store compatibility,
and training that beats cosine on a task where a signal other than content decides."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch

from agentmem import Memory
from agentmem.errors import InvalidInputError
from agentmem.memory_controller import PARTS, MemoryController, MemoryControllerConfig, collate, merge_keys
from agentmem.read_columns import ReadBatch
from agentmem.research.addressing import sparse_content_weighting
from agentmem.signals import LEXICAL_SPREAD_FLOOR, SIGNALS, CandidateBuilder, Candidates
from agentmem.training import (
    ControllerTrainingConfig,
    GateExample,
    TrainingEpisode,
    TrainingQuestion,
    TrainingTurn,
    fit,
    fit_gate,
    gate_pairs,
    replay,
)
from agentmem.write_gate import GATE_FEATURES, pair_features


def _random_candidates(rng, c=7, d=16):
    keys = rng.standard_normal((c, d)).astype(np.float32)
    keys /= np.linalg.norm(keys, axis=1, keepdims=True)
    feats = rng.random((c, len(SIGNALS))).astype(np.float32)
    prev = np.array([-1, 0, 1, 2, -1, 4, 5])[:c]
    nxt = np.array([1, 2, 3, -1, 5, 6, -1])[:c]
    return Candidates(np.arange(c), keys, feats, prev, nxt)


def test_candidate_signals_by_hand():
    """The per-candidate signals (signals.py), whichever order the rows arrive in."""
    day = 86_400.0
    # (slot, prev, next, event time, usage, namespace key, speaker metadata, text head), as the store reads
    rows = [
        (7, 3, 9, 10 * day, 0.5, "u\x1fm", None, "Mel: I went hiking."),
        (3, None, 7, None, 0.0, "u\x1fm\x1fdeep", "Caroline Smith", "no prefix here"),
        (9, 7, None, 0.0, 1.0, "u\x1fm", None, "a very long first clause that is no name: x"),
    ]

    def keys(slots):  # a key that names its slot, to check that keys stay with their rows
        return np.array([[s, 0.0, 0.0] for s in slots], dtype=np.float32).reshape(-1, 3)

    build = CandidateBuilder(
        query="What did Caroline ask Mel?", namespace=("u", "m"), query_time=10 * day, keys=keys
    )
    build.add(ReadBatch.from_rows(rows[2:]))
    build.describe()  # a first batch described early, as a read does while its index scan runs
    build.add(ReadBatch.from_rows(rows[:2] + rows[2:]))  # a row seen twice counts once
    cand = build.build({7: 4.0, 9: 1.0})
    assert cand.keys[:, 0].tolist() == [3.0, 7.0, 9.0]
    assert cand.slots.tolist() == [3, 7, 9]
    raw = np.array([0.0, 4.0, 1.0])
    feats = dict(zip(SIGNALS, cand.features.T, strict=True))
    np.testing.assert_allclose(feats["lexical"], (raw - raw.mean()) / raw.std(), rtol=1e-6)
    assert feats["speaker"].tolist() == [1.0, 1.0, 0.0]  # metadata first word, "Name:" prefix, neither
    assert feats["recency"].tolist() == [0.0, 0.5, 1.0]
    np.testing.assert_allclose(feats["time"], [0.0, 0.0, -np.log1p(10.0) / np.log(366.0)], rtol=1e-6)
    assert feats["usage"].tolist() == [0.0, 0.5, 1.0]
    assert feats["namespace"].tolist() == [0.0, 1.0, 1.0]  # exactly the queried namespace, not deeper
    assert cand.prev.tolist() == [-1, 0, 1] and cand.next.tolist() == [1, 2, -1]


def test_a_query_naming_someone_cuts_the_links_and_matches_the_memories_naming_them():
    """A chain 1-2-3-4-5 where 3 and 4 name the asked-about person: they match the query's speaker,
    and no link carries anything, not even the one between them."""
    rows = [
        (s, s - 1 if s > 1 else None, s + 1 if s < 5 else None, None, 0.0, "u", None, "x")
        for s in range(1, 6)
    ]

    def build(naming):
        b = CandidateBuilder(query="q", namespace=None, query_time=None, keys=lambda s: np.zeros((len(s), 3)))
        b.add(ReadBatch.from_rows(rows))
        return b.build({}, naming)

    cand = build(np.array([3, 4, 8]))
    assert cand.prev.tolist() == [-1] * 5 and cand.next.tolist() == [-1] * 5
    # the memories naming the asked-about person count as the query's speaker
    assert cand.features[:, SIGNALS.index("speaker")].tolist() == [0.0, 0.0, 1.0, 1.0, 0.0]
    for nobody in (np.array([9]), np.zeros(0, np.int64), None):  # no candidate named: every link stays
        cand = build(nobody)
        assert cand.prev.tolist() == [-1, 0, 1, 2, 3] and cand.next.tolist() == [1, 2, 3, 4, -1]
        assert not cand.features[:, SIGNALS.index("speaker")].any()


def test_content_read_is_sparse_content_addressing_with_strength_over_spread():
    """softmax(β z(cos)) = softmax((β/σ) cos): the standardised read is the addressing op's content
    weighting over the candidates, with strength β divided by the cosines' spread σ."""
    rng = np.random.default_rng(0)
    ctl = MemoryController(MemoryControllerConfig(dim=16, heads=1, key_rank=4))
    cand = _random_candidates(rng)
    q = rng.standard_normal(16).astype(np.float32)
    with torch.no_grad():
        ctl.signal_weight.zero_()
        scores, parts = ctl(*collate([cand], [q]))
        beta = torch.nn.functional.softplus(ctl.strength)[0]
        keys, query = torch.from_numpy(cand.keys), torch.from_numpy(q)
        sigma = (keys @ (query / query.norm())).std(unbiased=False)
        expected = sparse_content_weighting(keys, query, beta / sigma)
    torch.testing.assert_close(torch.softmax(scores[0], -1), expected, atol=1e-5, rtol=1e-4)  # ε in σ
    assert parts.shape == (1, 7, len(PARTS))


def test_scores_are_the_sum_of_their_parts_with_links_by_hand():
    rng = np.random.default_rng(1)
    # Coherence ramp over the whole cosine range: c(i, j) = (cos + 1) / 2, never clipped.
    ctl = MemoryController(
        MemoryControllerConfig(dim=16, heads=2, key_rank=4, hop_k=4, link_coherence=(-1.0, 1.0))
    )
    with torch.no_grad():
        ctl.signal_weight.copy_(torch.arange(len(SIGNALS), dtype=torch.float32) / 10)
        ctl.link_weight.copy_(torch.tensor([0.5, -0.25]))
        ctl.hop_weight.fill_(0.7)
    cand = _random_candidates(rng)
    q = rng.standard_normal(16).astype(np.float32)
    with torch.no_grad():
        scores, parts = ctl(*collate([cand], [q]))
    torch.testing.assert_close(scores, parts.sum(-1))
    match = parts[0, :, 0] + parts[0, :, 1 + SIGNALS.index("lexical")]  # links carry content + lexical
    centred = match - match.mean()
    # Candidate 1's forward link reads candidate 0 (written just before); candidate 3 has no next.
    fwd, bwd, hop = (PARTS.index(p) for p in ("link_forward", "link_backward", "second_hop"))
    unit = cand.keys / np.linalg.norm(cand.keys, axis=1, keepdims=True)
    c10, c23 = ((float(unit[i] @ unit[j]) + 1) / 2 for i, j in ((1, 0), (2, 3)))
    assert parts[0, 1, fwd].item() == pytest.approx(0.5 * c10 * centred[0].item(), abs=1e-5)
    assert parts[0, 2, bwd].item() == pytest.approx(-0.25 * c23 * centred[3].item(), abs=1e-5)
    assert parts[0, 3, bwd].item() == 0.0 and parts[0, 0, fwd].item() == 0.0
    # Second hop by hand: the first read's vector r = Σ w_i M_i keys a z-scored cosine, weighted by 0.7.
    w = torch.softmax(parts[0, :, :hop].sum(-1), -1)
    r = (w[:, None] * torch.from_numpy(cand.keys)).sum(0)
    second = torch.from_numpy(cand.keys) @ (r / r.norm())
    expected = 0.7 * (second - second.mean()) / second.std(unbiased=False)
    torch.testing.assert_close(parts[0, :, hop], expected, atol=1e-4, rtol=1e-4)


def test_a_link_counts_by_the_coherence_of_its_two_memories():
    """c(i, j) = clip((cos − lo) / (hi − lo), 0, 1): an unrelated neighbour carries nothing, a related
    one carries all of its match, one in between a share; without a ramp every link counts fully."""
    e = np.eye(4, dtype=np.float32)
    # Candidate 0 is the previous memory of candidates 1, 2 and 3, at cosines 0.1, 0.35 and 0.8.
    keys = np.stack(
        [
            e[0],
            0.1 * e[0] + np.sqrt(0.99) * e[1],
            0.35 * e[0] + np.sqrt(1 - 0.35**2) * e[2],
            0.8 * e[0] + 0.6 * e[3],
        ]
    ).astype(np.float32)
    cand = Candidates(
        np.arange(4),
        keys,
        np.zeros((4, len(SIGNALS)), np.float32),
        np.array([-1, 0, 0, 0]),
        np.array([-1, -1, -1, -1]),
    )
    q = e[0]
    fwd = PARTS.index("link_forward")
    for coherence, shares in (((0.2, 0.5), [0.0, 0.0, 0.5, 1.0]), (None, [0.0, 1.0, 1.0, 1.0])):
        ctl = MemoryController(MemoryControllerConfig(dim=4, heads=1, key_rank=0, link_coherence=coherence))
        with torch.no_grad():
            ctl.link_weight.copy_(torch.tensor([1.0, 0.0]))
        _, parts = ctl.score(cand, q)
        match = parts[:, 0] + parts[:, 1 + SIGNALS.index("lexical")]
        np.testing.assert_allclose(parts[:, fwd], np.array(shares) * (match[0] - match.mean()), atol=1e-5)
        with torch.no_grad():
            _, trained = ctl(*collate([cand], [q]))
        np.testing.assert_allclose(trained[0].numpy(), parts, atol=1e-5)


@pytest.mark.parametrize(
    "config",
    [
        dict(heads=1, key_rank=0),  # the packaged checkpoint's shape
        dict(heads=2, key_rank=4, hop_k=4, link_coherence=(-0.5, 0.5)),  # every mechanism on
    ],
)
def test_numpy_read_scores_equal_the_trained_forward(config):
    """Reads score with `score` (numpy), training with `forward` (torch): same parts, same scores."""
    rng = np.random.default_rng(5)
    ctl = MemoryController(MemoryControllerConfig(dim=16, **config))
    with torch.no_grad():
        for p in ctl.parameters():
            p.normal_(0, 0.5)
    for c in (7, 1):  # a single candidate has no spread at all
        cand = _random_candidates(rng, c=c)
        cand.next[c - 1] = -1  # the chain ends with the candidates
        q = rng.standard_normal(16).astype(np.float32)
        with torch.no_grad():
            scores, parts = ctl(*collate([cand], [q]))
        np_scores, np_parts = ctl.score(cand, q)
        np.testing.assert_allclose(np_parts, parts[0].numpy(), atol=1e-5, rtol=1e-5)
        np.testing.assert_allclose(np_scores, scores[0].numpy(), atol=1e-5, rtol=1e-5)
        np.testing.assert_allclose(
            ctl.head_keys(q), ctl.read_keys(torch.from_numpy(q)[None])[0].detach().numpy(), atol=1e-6
        )


def test_numpy_reads_follow_parameters_changed_in_place_or_replaced():
    """`score` keeps numpy views of the parameters: they must follow in-place training updates, a loaded
    state, and tensors replaced by a conversion."""
    rng = np.random.default_rng(6)
    ctl, other = (MemoryController(MemoryControllerConfig(dim=16, link_coherence=(0.0, 0.5))) for _ in "ab")
    cand, q = _random_candidates(rng), rng.standard_normal(16).astype(np.float32)
    before = ctl.score(cand, q)[0]
    with torch.no_grad():
        for p in other.parameters():
            p.normal_(0, 0.5)
    want = other.score(cand, q)[0]
    assert not np.allclose(before, want)
    ctl.load_state_dict(other.state_dict())  # copies in place
    np.testing.assert_allclose(ctl.score(cand, q)[0], want, rtol=1e-6)
    with torch.no_grad():
        ctl.link_weight.add_(1.0)  # as an optimiser step does
    moved = ctl.score(cand, q)[0]
    assert not np.allclose(moved, want)
    ctl.double().float()  # new tensors twice over
    with torch.no_grad():
        ctl.link_weight.sub_(1.0)
    np.testing.assert_allclose(ctl.score(cand, q)[0], want, rtol=1e-5)


def test_padded_candidates_get_no_weight_and_no_nan():
    rng = np.random.default_rng(2)
    ctl = MemoryController(MemoryControllerConfig(dim=16, heads=2, key_rank=4))
    small, big = _random_candidates(rng, c=3), _random_candidates(rng, c=7)
    small.prev, small.next = np.array([-1, 0, 1]), np.array([1, 2, -1])
    scores, _ = ctl(*collate([small, big], [np.ones(16, np.float32)] * 2))
    w = torch.softmax(scores, -1)
    assert torch.isfinite(w).all() and w[0, 3:].sum() == 0 and w[0].sum().item() == pytest.approx(1.0)


def test_gradients_reach_every_parameter():
    rng = np.random.default_rng(3)
    ctl = MemoryController(MemoryControllerConfig(dim=16, heads=2, key_rank=4, hop_k=4))
    with torch.no_grad():
        ctl.key_b.normal_(0, 0.1)  # at init B = 0 blocks A's gradient, as in LoRA
        ctl.link_weight.fill_(0.3)
        ctl.hop_weight.fill_(0.3)
        ctl.gate_weight.normal_()  # at init the gate's output weights are 0, blocking its hidden layer's
    cand = _random_candidates(rng)
    scores, _ = ctl(*collate([cand], [rng.standard_normal(16).astype(np.float32)]))
    (-torch.log_softmax(scores, -1)[0, 2]).backward()
    (-ctl.update_probability(torch.rand(4, len(GATE_FEATURES))).log().sum()).backward()  # the write gate
    for name, p in ctl.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name


def test_checkpoint_round_trip(tmp_path):
    ctl = MemoryController(MemoryControllerConfig(dim=16, heads=3, key_rank=2, dense_k=5))
    with torch.no_grad():
        for p in ctl.parameters():
            p.normal_()
    ctl.save(tmp_path / "c.safetensors")
    again = MemoryController.load(tmp_path / "c.safetensors")
    assert again.config == ctl.config
    for (k, a), (_, b) in zip(ctl.state_dict().items(), again.state_dict().items(), strict=True):
        torch.testing.assert_close(a, b, msg=k)
    (tmp_path / "bad.safetensors").write_bytes(b"nope")
    with pytest.raises(InvalidInputError, match="cannot read controller checkpoint"):
        MemoryController.load(tmp_path / "bad.safetensors")


def _people_episodes(n_episodes: int, seed: int) -> list[TrainingEpisode]:
    """Every speaker states a preference in the same words: only who said it tells turns apart."""
    rng = random.Random(seed)
    names = ["Alice", "Bruno", "Chloe", "Dario", "Elena", "Farah", "Goran", "Hana"]
    things = ["green tea", "jazz records", "mountain bikes", "old maps", "board games", "sourdough"]
    out = []
    for e in range(n_episodes):
        turns, questions = [], []
        for i, name in enumerate(rng.sample(names, 6)):
            thing = rng.choice(things)
            turns.append(
                TrainingTurn(f"e{e}t{2 * i}", f"I have really been into {thing} lately.", speaker=name)
            )
            turns.append(TrainingTurn(f"e{e}t{2 * i + 1}", "That is lovely to hear.", speaker="Host"))
            questions.append(TrainingQuestion(f"What has {name} been into lately?", (f"e{e}t{2 * i}",)))
        out.append(TrainingEpisode(f"e{e}", turns, questions))
    return out


def test_training_beats_cosine_when_the_speaker_decides(encoder):
    from agentmem.controller import CosineController

    episodes = _people_episodes(6, seed=0)
    ctl = MemoryController(MemoryControllerConfig(heads=1, key_rank=4, dense_k=12, lexical_k=12))
    examples = replay(ctl, episodes, encoder)
    report = fit(ctl, examples, ControllerTrainingConfig(epochs=30, lr=0.05, val_fraction=0.0))
    assert report.train_loss[-1] < report.train_loss[0]
    assert ctl.signal_weight[SIGNALS.index("speaker")].item() > 0.5  # it learned who said it matters

    def recall_at_1(controller) -> float:
        hits = []
        for ep in episodes:
            with Memory(None, encoder=encoder, controller=controller) as mem:
                mem.remember(
                    [t.text for t in ep.turns],
                    ids=[t.id for t in ep.turns],
                    metadata=[{"speaker": t.speaker} for t in ep.turns],
                )
                for q in ep.questions:
                    hits.append(mem.recall(q.text, k=1)[0].id in q.evidence)
        return float(np.mean(hits))

    learned, cosine = recall_at_1(ctl), recall_at_1(CosineController())
    assert learned >= 0.85 and learned > cosine + 0.5, (learned, cosine)


def test_store_written_by_cosine_is_read_by_a_trained_checkpoint(tmp_path, encoder):
    ctl = MemoryController()
    with torch.no_grad():
        ctl.signal_weight[SIGNALS.index("lexical")] = 2.0
    ctl.save(tmp_path / "c.safetensors")
    with Memory(tmp_path / "s", encoder=encoder) as mem:  # the cosine baseline writes
        ids = mem.remember(
            ["Alice moved to Lisbon.", "Bob bought a kayak.", "Alice adopted a cat."],
            metadata=[{"speaker": "Alice"}, {"speaker": "Bob"}, {"speaker": "Alice"}],
        )
    with Memory(tmp_path / "s", encoder=encoder, controller=str(tmp_path / "c.safetensors")) as mem:
        hits = mem.recall("kayak", k=3)
        assert hits[0].id == ids[1] and set(hits[0].why) == set(PARTS)
        assert hits[0].score == pytest.approx(sum(hits[0].why.values()), abs=1e-4)
        # BM25 (x, 0, 0) over the three candidates standardises to (2x/3) / max(std, floor); weight 2.
        [(_, x)] = mem._view().lexical("kayak", 3, namespace=None)
        z = (2 * x / 3) / max(x * 2**0.5 / 3, LEXICAL_SPREAD_FLOOR)
        assert hits[0].why["lexical"] == pytest.approx(2 * z, rel=1e-4)


def test_a_read_overlapping_its_lexical_search_with_the_scan_ranks_as_one_done_in_turn(
    tmp_path, encoder, monkeypatch
):
    """A learned read runs its lexical half on a worker thread (cpu.in_background) while the reading
    thread scans the index. The first read of a freshly opened store loads the lexical index on that
    worker while the reader holds the memory's lock: it must finish, and rank exactly as the same read
    done in turn (as on a one-core machine); an error on the worker reaches the caller."""
    import threading

    from agentmem import cpu
    from agentmem.memory import _SlotView

    facts = [
        f"{name} said the {thing} is in the {place}."
        for name, thing, place in zip(
            ["Ana", "Ben", "Cleo", "Dev"] * 5,
            ["key", "map", "cake", "lamp", "book"] * 4,
            ["shed", "attic", "car", "garden"] * 5,
            strict=True,
        )
    ]
    with Memory(tmp_path / "s", encoder=encoder) as mem:
        mem.remember(facts, metadata=[{"speaker": f.split()[0]} for f in facts])
    queries = ["Where is the lamp?", "What did Cleo say about the cake?", "attic"]

    def read_all() -> list[list[tuple[str, float]]]:
        with Memory(tmp_path / "s", encoder=encoder) as mem:  # reopened: the lexical index is not loaded
            return [[(h.id, h.score) for h in mem.recall(q, k=5, track_usage=False)] for q in queries]

    overlapped: list = []
    reader = threading.Thread(target=lambda: overlapped.append(read_all()), daemon=True)
    reader.start()
    reader.join(timeout=120)
    assert not reader.is_alive(), "a read waited on its own worker (deadlock)"
    monkeypatch.setattr(cpu, "_worker_pool", lambda: None)  # one core: the lexical half runs in turn
    in_turn = read_all()
    assert [[i for i, _ in r] for r in overlapped[0]] == [[i for i, _ in r] for r in in_turn]
    np.testing.assert_allclose([s for r in overlapped[0] for _, s in r], [s for r in in_turn for _, s in r])
    monkeypatch.undo()

    def broken(self, *args, **kwargs):
        raise RuntimeError("lexical index unreadable")

    monkeypatch.setattr(_SlotView, "lexical", broken)
    with Memory(tmp_path / "s", encoder=encoder) as mem:
        with pytest.raises(RuntimeError, match="lexical index unreadable"):
            mem.recall("Where is the lamp?")
        monkeypatch.undo()
        assert "lamp" in mem.recall("Where is the lamp?", k=1)[0].text


def test_a_read_fetches_its_lexical_candidates_rows_during_the_scan_and_not_again(tmp_path, encoder):
    """The records of a learned read's hits come through its view of the memory: the rows of its
    lexical candidates, fetched on the worker while the index is scanned, are not fetched after it,
    and what the read returns is what is stored then."""
    facts = ["The lamp is in the attic.", "The lamp needs a bulb.", "The map is in the car."]
    with Memory(tmp_path / "s", encoder=encoder) as mem:
        ids = mem.remember(facts)
        mem.update(ids[1], text="The lamp needs a new bulb.")
        asked: list[list[int]] = []
        by_slots = mem.store.by_slots

        def spy(slots):
            asked.append(sorted(slots))
            return by_slots(slots)

        mem.store.by_slots = spy
        hits = mem.recall("lamp", k=2, track_usage=False)
        assert {h.text for h in hits} == {"The lamp is in the attic.", "The lamp needs a new bulb."}
        assert asked == [sorted(h.record.write_order for h in hits)]  # once, the lexical candidates'


def test_duplicate_observation_is_skipped_not_appended(encoder):
    with Memory(None, encoder=encoder, controller=MemoryController()) as mem:
        (a,) = mem.remember("Alice moved to Lisbon.")
        assert mem.remember("alice moved  to Lisbon.") == [a]
        assert mem.remember("Alice moved to Porto.") != [a]
        assert len(mem) == 2


def test_train_controller_command_writes_a_loadable_checkpoint(tmp_path, encoder):
    import json

    from click.testing import CliRunner

    from agentmem.cli import cli

    out = tmp_path / "ctl" / "c.safetensors"
    args = [
        "train",
        "controller",
        "--observations",
        "300",
        "--episodes",
        "1",
        "--epochs",
        "2",
        "--out",
        str(out),
    ]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert "wrote" in result.output and out.exists()
    report = json.loads(out.with_suffix(".json").read_text())
    assert len(report["train_loss"]) == 2 and report["examples"] > 0 and out.with_suffix(".png").exists()
    with Memory(None, encoder=encoder, controller=str(out)) as mem:
        mem.remember("the checkpoint loads")
        assert mem.recall("checkpoint", k=1)[0].text == "the checkpoint loads"


def test_the_packaged_learned_controller_is_the_default_and_cosine_stays_selectable(encoder, monkeypatch):
    import agentmem.controller as controller_module

    with Memory(None, encoder=encoder) as mem:
        assert mem.controller.name == "learned"
    with Memory(None, encoder=encoder, controller="cosine") as mem:
        assert mem.controller.name == "cosine"
    monkeypatch.setattr(controller_module, "DEFAULT_CHECKPOINT", controller_module.Path("/nonexistent/c.st"))
    with pytest.raises(InvalidInputError, match="packaged controller checkpoint .* is missing.*'cosine'"):
        controller_module.resolve_controller("learned")


def test_explain_gives_rank_and_parts_even_past_the_top_k(encoder):
    texts = [
        "Alice: Do you have any pets?",
        "Bob: Yes, a beagle named Toast.",
        "Alice: Work has been busy lately.",
        "Bob: I painted the fence on Sunday.",
    ]
    with Memory(None, encoder=encoder) as mem:
        ids = mem.remember(texts)
        top = mem.recall("What pet does Bob have?", k=1)
        explained = mem.explain("What pet does Bob have?", ids)
        assert sorted(e.rank for e in explained.values()) == [1, 2, 3, 4]
        first = explained[top[0].id]
        assert first.rank == 1 and first.result.score == pytest.approx(top[0].score, abs=1e-5)
        for e in explained.values():
            assert set(e.result.why) == set(PARTS)
            assert e.result.score == pytest.approx(sum(e.result.why.values()), abs=1e-4)
        # The speaker comes from the "Bob:" prefix when no speaker metadata is given.
        assert explained[ids[1]].result.why["speaker"] != 0 and explained[ids[0]].result.why["speaker"] == 0
        with pytest.raises(KeyError, match="no memory with id 'nope'"):
            mem.explain("pets?", ["nope"])
    with Memory(None, encoder=encoder, controller="cosine") as mem:
        ids = mem.remember(texts)
        explained = mem.explain("What pet does Bob have?", ids)
        assert sorted(e.rank for e in explained.values()) == [1, 2, 3, 4]
        assert all(set(e.result.why) == {"content"} for e in explained.values())


def test_show_and_inspect_display_why_for_a_query(tmp_path, encoder):
    import json

    from click.testing import CliRunner

    from agentmem.cli import cli

    store = str(tmp_path / "s")
    runner = CliRunner()
    added = runner.invoke(
        cli, ["--store", store, "add", "Bob: Yes, a beagle named Toast.", "Alice: Busy week."]
    )
    assert added.exit_code == 0, added.output
    listed = runner.invoke(cli, ["--store", store, "inspect", "--query", "Bob's dog?", "--json"])
    items = json.loads(listed.output)["items"]
    assert {i["explain"]["rank"] for i in items} == {1, 2} and "content" in items[0]["explain"]["why"]
    table = runner.invoke(cli, ["--store", store, "inspect", "-q", "Bob's dog?"])
    assert "rank: score = why" in table.output and "#1:" in table.output
    shown = runner.invoke(cli, ["--store", store, "show", items[0]["id"], "--query", "Bob's dog?"])
    assert shown.exit_code == 0 and 'for "Bob\'s dog?": #' in shown.output and "content" in shown.output
    empty = runner.invoke(cli, ["--store", store, "show", items[0]["id"], "--query", "  "])
    assert empty.exit_code != 0 and "--query is empty" in str(empty.exception)  # main() prints it in one line


@pytest.mark.parametrize("one_batch", [True, False])
def test_write_gate_updates_the_superseded_memory_and_keeps_its_history(encoder, one_batch):
    ctl = MemoryController(MemoryControllerConfig(gate_hidden=0))
    with torch.no_grad():  # a logistic gate that fires on change words between same-speaker memories
        ctl.gate_weight.zero_()
        ctl.gate_weight[GATE_FEATURES.index("cue")] = 10.0
        ctl.gate_weight[GATE_FEATURES.index("speaker")] = 10.0
        ctl.gate_bias.fill_(-15.0)
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
        slot = mem.store.by_ids([ids[0]])[ids[0]].slot
        keys = encoder.encode([texts[0], texts[2]])
        merged = (keys[0] + keys[1]) / np.linalg.norm(keys[0] + keys[1])
        np.testing.assert_allclose(mem.store.vectors([slot], 384)[0], merged, atol=1e-5)


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


def _logistic_gate(**weights: float) -> MemoryController:
    """A hand-set logistic write gate: p = σ(Σ weights[f] φ_f + bias)."""
    ctl = MemoryController(MemoryControllerConfig(gate_hidden=0, gate_candidates=1))
    bias = weights.pop("bias")
    with torch.no_grad():
        ctl.gate_weight.zero_()
        for name, w in weights.items():
            ctl.gate_weight[GATE_FEATURES.index(name)] = w
        ctl.gate_bias.fill_(bias)
    return ctl


@pytest.mark.parametrize("one_batch", [True, False])
def test_a_write_is_weighed_against_the_memories_naming_whom_it_names(encoder, one_batch):
    """The same template about someone else is closer by key than the person's own old statement; the
    gate (G = 1) still sees the latter, because it names the same person."""
    texts = [
        "user: Viktor Nakamura lives in Florence.",
        "user: Nikhil Nakamura lives in Cusco.",
        "user: Viktor Nakamura has moved from Florence to Cusco.",
    ]
    keys = encoder.encode(texts)
    assert keys[2] @ keys[1] > keys[2] @ keys[0]  # the other Nakamura is the closest memory
    ctl = _logistic_gate(subject=10.0, cue=10.0, bias=-15.0)  # fires for a change about the same person
    with Memory(None, encoder=encoder, controller=ctl) as mem:
        ids = mem.remember(texts) if one_batch else [i for t in texts for i in mem.remember(t)]
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
        stores.append(mem.store.vectors([mem.store.by_ids([ids[0]])[ids[0]].slot], 384)[0])
        mem.close()
    np.testing.assert_allclose(stores[0], stores[1], atol=1e-6)


def test_gate_pairs_see_each_chain_as_a_right_gate_would_have_left_it(encoder):
    """Training pairs (teacher forcing): a replaced statement is gone, its chain's memory holds the latest
    text and the merged key, and only that memory is labelled as the one the turn supersedes."""
    turns = [
        TrainingTurn("a", "user: Ana Silva lives in Oslo."),
        TrainingTurn("b", "user: Ana Silva has moved from Oslo to Lima.", supersedes="a"),
        TrainingTurn("c", "user: Bo Ek drives a Fiat."),
        TrainingTurn("d", "user: Ana Silva has moved from Lima to Quito.", supersedes="b"),
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
    hidden = fit_gate(MemoryController(MemoryControllerConfig(dim=8, gate_hidden=16)), examples)
    assert hidden.val_precision == 1.0 and hidden.val_recall == 1.0
    logistic = fit_gate(MemoryController(MemoryControllerConfig(dim=8, gate_hidden=0)), examples)
    assert min(logistic.val_precision, logistic.val_recall) < 0.8


def test_a_logistic_gate_checkpoint_from_before_the_subject_feature_decides_as_trained(tmp_path):
    import json
    from dataclasses import asdict

    from safetensors.torch import save_file

    old = MemoryController(MemoryControllerConfig(dim=8, gate_hidden=0))
    with torch.no_grad():
        old.gate_weight.normal_()
    state = {k: v.detach().clone() for k, v in old.state_dict().items()}
    state["gate_weight"] = state["gate_weight"][:6]  # six features then, and no `gate_hidden` setting
    config = {k: v for k, v in asdict(old.config).items() if k != "gate_hidden"}
    meta = {"config": json.dumps(config), "format": "agentmem-controller/1"}
    save_file(state, str(tmp_path / "old.safetensors"), metadata=meta)
    loaded = MemoryController.load(tmp_path / "old.safetensors")
    assert loaded.config.gate_hidden == 0 and loaded.gate_weight[6].item() == 0.0
    phi = torch.rand(5, len(GATE_FEATURES))
    expected = torch.sigmoid(phi[:, :6] @ state["gate_weight"] + state["gate_bias"])
    torch.testing.assert_close(loaded.update_probability(phi), expected)


def test_a_hidden_gate_checkpoint_from_before_the_named_feature_decides_as_trained(tmp_path):
    import json
    from dataclasses import asdict

    from safetensors.torch import save_file

    old = MemoryController(MemoryControllerConfig(dim=8))
    with torch.no_grad():
        old.gate_weight.normal_()
    state = {k: v.detach().clone() for k, v in old.state_dict().items()}
    state["gate_hidden_weight"] = state["gate_hidden_weight"][:7]  # seven features then
    meta = {"config": json.dumps(asdict(old.config)), "format": "agentmem-controller/1"}
    save_file(state, str(tmp_path / "old.safetensors"), metadata=meta)
    loaded = MemoryController.load(tmp_path / "old.safetensors")
    phi = torch.rand(5, len(GATE_FEATURES))
    h = torch.tanh(phi[:, :7] @ state["gate_hidden_weight"] + state["gate_hidden_bias"])
    expected = torch.sigmoid(h @ state["gate_weight"] + state["gate_bias"])
    torch.testing.assert_close(loaded.update_probability(phi), expected)


@pytest.mark.parametrize("flag, expected", [(True, 48), (False, 0)])
def test_a_checkpoint_from_when_neighbours_was_a_flag_keeps_its_meaning(tmp_path, flag, expected):
    """neighbours=True meant the neighbours of every candidate: the larger of its dense_k and lexical_k,
    whatever the current default count is."""
    import json
    from dataclasses import asdict

    from safetensors.torch import save_file

    old = MemoryController(MemoryControllerConfig(dim=8, dense_k=40, lexical_k=48))
    config = {**asdict(old.config), "neighbours": flag}
    meta = {"config": json.dumps(config), "format": "agentmem-controller/1"}
    save_file(
        {k: v.detach().clone() for k, v in old.state_dict().items()},
        str(tmp_path / "old.safetensors"),
        metadata=meta,
    )
    assert MemoryController.load(tmp_path / "old.safetensors").config.neighbours == expected


def test_explanations_are_json_safe_where_nothing_was_computed(encoder):
    import json

    with Memory(None, encoder=encoder, controller="cosine") as mem:
        (a,) = mem.remember("Bob: a beagle named Toast.")
        (b,) = mem.remember("unindexed note", index=False)
        explained = mem.explain("Bob's dog?", [a, b])
        assert explained[a].rank == 1 and explained[b].rank is None  # not searchable: not a candidate
        doc = json.loads(json.dumps({k: e.to_dict() for k, e in explained.items()}, allow_nan=False))
        assert doc[a]["weight"] is None and doc[b]["score"] is None and doc[a]["score"] > 0
