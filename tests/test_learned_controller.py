"""The learned controller end to end: checkpoints, training that beats cosine where a signal other than
content decides, reading stores it did not write, the lexical half of a read on a worker thread, the
packaged default, and `explain`."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch

from agentmem import Memory
from agentmem.controller.candidates import LEXICAL_SPREAD_FLOOR, SIGNALS, CandidateConfig
from agentmem.controller.learned import LearnedConfig, LearnedController
from agentmem.controller.scoring import READ_PARTS, ScoringConfig
from agentmem.controller.train import ControllerTrainingConfig, fit, replay
from agentmem.controller.write_gate import WriteGateConfig
from agentmem.episodes import Episode, Item, Turn
from agentmem.errors import InvalidInputError


def test_checkpoint_round_trip(tmp_path):
    ctl = LearnedController(
        LearnedConfig(
            CandidateConfig(dense_k=5, naming=False), ScoringConfig(None), WriteGateConfig(hidden=3)
        )
    )
    with torch.no_grad():
        for p in ctl.parameters():
            p.normal_()
    ctl.save(tmp_path / "c.safetensors")
    again = LearnedController.load(tmp_path / "c.safetensors")
    assert again.config == ctl.config
    for (k, a), (_, b) in zip(ctl.state_dict().items(), again.state_dict().items(), strict=True):
        torch.testing.assert_close(a, b, msg=k)
    (tmp_path / "bad.safetensors").write_bytes(b"nope")
    with pytest.raises(InvalidInputError, match="cannot read controller checkpoint"):
        LearnedController.load(tmp_path / "bad.safetensors")
    from safetensors.torch import save_file

    save_file({"x": torch.zeros(1)}, str(tmp_path / "other.safetensors"), metadata={"format": "other/1"})
    with pytest.raises(InvalidInputError, match="not an agentmem controller checkpoint of this version"):
        LearnedController.load(tmp_path / "other.safetensors")


@pytest.mark.parametrize("version", [3, 4])
def test_an_older_checkpoint_loads_with_one_link_weight_for_what_its_links_did_not_tell_apart(tmp_path, version):
    """Format 3 had link weights (direction x same or other speaker), format 4 added whether the earlier
    memory asks, and read-mode columns to match. Loaded, each weight serves the values its format did
    not tell apart (both values of asks; a machine's reply to a person reads as any other reply), so
    the checkpoint reads exactly as it did."""

    from safetensors.torch import save_file

    from agentmem.controller.candidates import QUERY_FEATURES, Candidates

    ctl = LearnedController(LearnedConfig(scoring=ScoringConfig(read_modes=True)))
    n_sig, n_old = len(SIGNALS), SIGNALS.index("length")  # formats 3 and 4 had no length signal
    gen = torch.Generator().manual_seed(version)
    shape = (2, 2) if version == 3 else (2, 2, 2)
    old_links = torch.randn(*shape, generator=gen)
    old_modes = torch.randn(len(QUERY_FEATURES), 1 + n_old + old_links.numel() + 1, generator=gen)
    state = {k: v.detach().clone() for k, v in ctl.state_dict().items()}
    state["scorer.link_weight"], state["scorer.read_modes"] = old_links, old_modes
    state["scorer.signal_weight"] = torch.randn(n_old, generator=gen)
    meta = {"config": _older_config(ctl.config), "format": f"agentmem-controller/{version}"}
    save_file(state, str(tmp_path / "old.safetensors"), metadata=meta)
    got = LearnedController.load(tmp_path / "old.safetensors").scorer
    modes = got.read_modes.detach()
    old_mode_links = old_modes[:, 1 + n_old : -1].reshape(len(QUERY_FEATURES), *shape)
    new_mode_links = modes[:, 1 + n_sig : -1].reshape(len(QUERY_FEATURES), 2, 3, 2)
    for direction, who, asks in np.ndindex(2, 3, 2):
        old = (direction, min(who, 1)) + (() if version == 3 else (asks,))
        assert got.link_weight[direction, who, asks] == old_links[old]
        torch.testing.assert_close(new_mode_links[:, direction, who, asks], old_mode_links[(slice(None), *old)])
    torch.testing.assert_close(modes[:, : 1 + n_old], old_modes[:, : 1 + n_old])
    assert not modes[:, 1 + n_old].any() and got.signal_weight[n_old] == 0  # length: weight 0
    torch.testing.assert_close(got.signal_weight[:n_old], state["scorer.signal_weight"])
    torch.testing.assert_close(modes[:, -1], old_modes[:, -1])
    # so neither whether a memory asks (format 3) nor whether a machine wrote it changes a score
    rng = np.random.default_rng(0)
    keys = rng.standard_normal((4, 8)).astype(np.float32)
    cand = Candidates(
        np.arange(4), keys, rng.random((4, n_sig)).astype(np.float32), np.array([-1, 0, 1, 2]),
        np.array([1, 2, 3, -1]), np.array([0, 1, 0, 1]), np.zeros(4, np.int64), np.array([1, 0, 1, 0], bool),
        np.array([0, 1, 0, 1], bool), np.ones(len(QUERY_FEATURES), np.float32),
    )
    q = rng.standard_normal(8).astype(np.float32)
    before = got.score(cand, q)[0]
    cand.machine[:] = ~cand.machine
    np.testing.assert_allclose(got.score(cand, q)[0], before, rtol=1e-6)
    if version == 3:
        cand.asks[:] = ~cand.asks
        np.testing.assert_allclose(got.score(cand, q)[0], before, rtol=1e-6)


def test_a_format_5_checkpoint_reads_as_it_did_with_no_weight_on_length(tmp_path):
    """Format 5 had no `length` signal. Loaded, the signal gets weight 0 wherever a signal has one (the
    base weights, the read modes, the context layer's inputs) and every other parameter is kept, so
    a read scores exactly as the same weights did: whatever the candidates' lengths, the scores are
    those of the controller with the length weights zeroed."""

    from safetensors.torch import save_file

    from agentmem.controller.candidates import QUERY_FEATURES, Candidates

    config = LearnedConfig(scoring=ScoringConfig(link_asks=True, link_machines=True, read_modes=True, hidden=6, attention=4))
    ctl = LearnedController(config)
    n_sig, at = len(SIGNALS), SIGNALS.index("length")
    gen = torch.Generator().manual_seed(5)
    with torch.no_grad():
        for p in ctl.scorer.parameters():
            p.copy_(torch.randn(p.shape, generator=gen))
        ctl.scorer.signal_weight[at] = 0.0
        ctl.scorer.read_modes[:, 1 + at] = 0.0
        ctl.scorer.w_in[1 + at] = 0.0
    state = {k: v.detach().clone() for k, v in ctl.state_dict().items()}
    keep = [i for i in range(n_sig) if i != at]
    state["scorer.signal_weight"] = state["scorer.signal_weight"][keep]
    modes = state["scorer.read_modes"]
    state["scorer.read_modes"] = torch.cat([modes[:, : 1 + at], modes[:, 2 + at :]], 1)
    state["scorer.w_in"] = torch.cat([state["scorer.w_in"][: 1 + at], state["scorer.w_in"][2 + at :]])
    meta = {"config": _older_config(config), "format": "agentmem-controller/5"}
    save_file(state, str(tmp_path / "old.safetensors"), metadata=meta)
    got = LearnedController.load(tmp_path / "old.safetensors")
    for k, v in ctl.state_dict().items():
        torch.testing.assert_close(got.state_dict()[k], v, msg=k)
    rng = np.random.default_rng(1)
    feats = rng.random((5, n_sig)).astype(np.float32)
    cand = Candidates(
        np.arange(5), rng.standard_normal((5, 8)).astype(np.float32), feats, np.array([-1, 0, 1, 2, 3]),
        np.array([1, 2, 3, 4, -1]), np.array([0, 1, 0, 1, 0]), np.zeros(5, np.int64), np.zeros(5, bool),
        np.zeros(5, bool), rng.random(len(QUERY_FEATURES)).astype(np.float32),
    )  # fmt: skip
    q = rng.standard_normal(8).astype(np.float32)
    before = got.scorer.score(cand, q)[0]
    feats[:, at] = rng.random(5)
    np.testing.assert_allclose(got.scorer.score(cand, q)[0], before, rtol=1e-5)
    np.testing.assert_allclose(ctl.scorer.score(cand, q)[0], before, rtol=1e-5)


@pytest.mark.parametrize("version", [6, 7])
def test_a_format_6_or_7_checkpoint_reads_with_the_splits_it_was_trained_with(tmp_path, version):
    """Formats 6 and 7 always told a machine's reply to a person from other replies, and their configs do
    not say `link_machines`; format 6 always told a reply to a question from a reply to a statement,
    and its config does not say `link_asks` (format 7's does: here off). Loaded, each keeps its splits
    and every weight, reads as it did, and a machine's reply still reads apart from a person's."""
    from safetensors.torch import save_file

    from agentmem.controller.candidates import QUERY_FEATURES, Candidates

    config = LearnedConfig(scoring=ScoringConfig(link_asks=version == 6, link_machines=True, read_modes=True))
    ctl = LearnedController(config)
    gen = torch.Generator().manual_seed(version)
    with torch.no_grad():
        for p in ctl.scorer.parameters():
            p.copy_(torch.randn(p.shape, generator=gen))
    state = {k: v.detach().clone() for k, v in ctl.state_dict().items()}
    meta = {"config": _older_config(config, says_asks=version == 7), "format": f"agentmem-controller/{version}"}
    save_file(state, str(tmp_path / "old.safetensors"), metadata=meta)
    got = LearnedController.load(tmp_path / "old.safetensors")
    assert got.config.scoring.link_machines and got.config.scoring.link_asks == (version == 6)
    assert got.scorer.link_weight.shape == (2, 3, 2 if version == 6 else 1)
    for k, v in state.items():
        torch.testing.assert_close(got.state_dict()[k], v, msg=k)
    rng = np.random.default_rng(version)
    cand = Candidates(
        np.arange(4), rng.standard_normal((4, 8)).astype(np.float32), rng.random((4, len(SIGNALS))).astype(np.float32),
        np.array([-1, 0, 1, 2]), np.array([1, 2, 3, -1]), np.array([0, 1, 0, 1]), np.zeros(4, np.int64),
        np.array([1, 0, 0, 1], bool), np.array([0, 1, 0, 1], bool), rng.random(len(QUERY_FEATURES)).astype(np.float32),
    )  # fmt: skip
    q = rng.standard_normal(8).astype(np.float32)
    before = got.scorer.score(cand, q)[0]
    np.testing.assert_allclose(before, ctl.scorer.score(cand, q)[0], rtol=1e-6)
    cand.machine[:] = False
    assert not np.allclose(got.scorer.score(cand, q)[0], before)


def test_a_format_8_checkpoint_returns_its_top_k_by_score_as_it_did(tmp_path, encoder):
    """Format 8 knew no redundancy penalty (its config does not say `redundancy`): loaded, it has λ = 0
    and keeps its other settings (here without the machine split), so each hit's redundancy part is 0
    and the hits come in the order of their scores."""
    import json
    from dataclasses import asdict

    from safetensors.torch import save_file

    config = LearnedConfig(scoring=ScoringConfig(link_machines=False))
    packaged = LearnedController(config)
    state = {k: v.detach().clone() for k, v in packaged.state_dict().items()}
    d = asdict(config)
    del d["scoring"]["redundancy"]
    meta = {"config": json.dumps(d), "format": "agentmem-controller/8"}
    save_file(state, str(tmp_path / "old.safetensors"), metadata=meta)
    got = LearnedController.load(tmp_path / "old.safetensors")
    assert got.config.scoring.redundancy == 0.0 and not got.config.scoring.link_machines
    with Memory(None, encoder=encoder, controller=got) as mem:
        mem.remember(["I adopted a beagle.", "I adopted a beagle puppy.", "We went hiking on Sunday."])
        hits = mem.recall("What dog did I adopt?", k=3)
    assert [h.why["redundancy"] for h in hits] == [0.0, 0.0, 0.0]
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def _older_config(config: LearnedConfig, *, says_asks: bool = False) -> str:
    """The config JSON an older format wrote: no `redundancy` (formats up to 8 returned the top k by
    score), no `link_machines` (formats up to 7 always had the machine split), and no `link_asks` unless
    `says_asks` (formats up to 6 always had the asks split)."""
    import json
    from dataclasses import asdict

    d = asdict(config)
    del d["scoring"]["link_machines"], d["scoring"]["redundancy"]
    if not says_asks:
        del d["scoring"]["link_asks"]
    return json.dumps(d)


def _people_episodes(n_episodes: int, seed: int) -> list[Episode]:
    """Every speaker states a preference in the same words: only who said it tells turns apart."""
    rng = random.Random(seed)
    names = ["Alice", "Bruno", "Chloe", "Dario", "Elena", "Farah", "Goran", "Hana"]
    things = ["green tea", "jazz records", "mountain bikes", "old maps", "board games", "sourdough"]
    out = []
    for e in range(n_episodes):
        turns, questions = [], []
        for i, name in enumerate(rng.sample(names, 6)):
            thing = rng.choice(things)
            turns.append(Turn(f"e{e}t{2 * i}", "s", f"I have really been into {thing} lately.", speaker=name))
            turns.append(Turn(f"e{e}t{2 * i + 1}", "s", "That is lovely to hear.", speaker="Host"))
            question = f"What has {name} been into lately?"
            questions.append(Item(f"e{e}q{i}", question, thing, "single-hop", (f"e{e}t{2 * i}",), ("s",)))
        out.append(Episode(f"e{e}", turns, questions))
    return out


def test_training_beats_cosine_when_the_speaker_decides(encoder):
    from agentmem.controller import CosineController

    episodes = _people_episodes(6, seed=0)
    ctl = LearnedController(LearnedConfig(CandidateConfig(dense_k=12, lexical_k=12)))
    examples = replay(ctl, episodes, encoder)
    report = fit(ctl, examples, ControllerTrainingConfig(epochs=30, lr=0.05, val_fraction=0.0))
    assert report.train_loss[-1] < report.train_loss[0]
    assert ctl.scorer.signal_weight[SIGNALS.index("speaker")].item() > 0.5  # it learned who said it matters

    def recall_at_1(controller) -> float:
        hits = []
        for ep in episodes:
            with Memory(None, encoder=encoder, controller=controller) as mem:
                mem.remember(
                    [t.text for t in ep.turns],
                    ids=[t.id for t in ep.turns],
                    metadata=[{"speaker": t.speaker} for t in ep.turns],
                )
                for q in ep.items:
                    hits.append(mem.recall(q.question, k=1)[0].id in q.evidence)
        return float(np.mean(hits))

    learned, cosine = recall_at_1(ctl), recall_at_1(CosineController())
    assert learned >= 0.85 and learned > cosine + 0.5, (learned, cosine)


def test_store_written_by_cosine_is_read_by_a_trained_checkpoint(tmp_path, encoder):
    ctl = LearnedController()
    with torch.no_grad():
        ctl.scorer.signal_weight[SIGNALS.index("lexical")] = 2.0
    ctl.save(tmp_path / "c.safetensors")
    with Memory(tmp_path / "s", encoder=encoder) as mem:  # the cosine baseline writes
        ids = mem.remember(
            ["Alice moved to Lisbon.", "Bob bought a kayak.", "Alice adopted a cat."],
            metadata=[{"speaker": "Alice"}, {"speaker": "Bob"}, {"speaker": "Alice"}],
        )
    with Memory(tmp_path / "s", encoder=encoder, controller=str(tmp_path / "c.safetensors")) as mem:
        hits = mem.recall("kayak", k=3)
        assert hits[0].id == ids[1] and set(hits[0].why) == set(READ_PARTS)
        assert hits[0].score == pytest.approx(sum(hits[0].why.values()), abs=1e-4)
        # BM25 (x, 0, 0) over the three candidates standardises to (2x/3) / max(std, floor); weight 2.
        [(_, x)] = mem.backend.reader().lexical("kayak", 3, namespace=None)
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
    from agentmem.storage.local import LocalReader

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

    monkeypatch.setattr(LocalReader, "lexical", broken)
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
        by_slots = mem.backend.store.by_slots

        def spy(slots):
            asked.append(sorted(slots))
            return by_slots(slots)

        mem.backend.store.by_slots = spy
        hits = mem.recall("lamp", k=2, track_usage=False)
        assert {h.text for h in hits} == {"The lamp is in the attic.", "The lamp needs a new bulb."}
        assert asked == [sorted(h.record.write_order for h in hits)]  # once, the lexical candidates'


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


def test_a_question_about_what_the_assistant_suggested_finds_its_reply_not_only_the_request(encoder):
    """The links weigh an assistant's reply to a user apart (its advice repeats the request's words without
    the user's facts), but a question asking what the assistant said is answered by that reply: the
    packaged read ranks it near the top, where with `CandidateConfig.replies` off the request's own
    strong match pushes it down."""
    chat = [
        ("user", "How do I get roast potatoes really crispy?"),
        ("assistant", "Parboil them for ten minutes, rough up the edges in the colander, then roast in hot oil."),
        ("user", "I'm training for a 10K in May."),
        ("assistant", "Good luck with the race!"),
        ("user", "Which houseplants are hard to kill?"),
        ("assistant", "Snake plants and pothos survive low light and irregular watering."),
        ("user", "My sister Ana is visiting next week."),
        ("assistant", "That sounds lovely."),
        ("user", "What should I cook for her?"),
        ("assistant", "A tray bake of vegetables and chicken is easy and feeds a crowd."),
    ]
    from agentmem.controller import DEFAULT_CHECKPOINT

    query = "What did you suggest when I asked how to get roast potatoes crispy?"
    without = LearnedController.load(DEFAULT_CHECKPOINT)
    without.config.candidates.replies = False
    ranks = []
    for controller in ("learned", without):
        with Memory(None, encoder=encoder, controller=controller) as mem:
            ids = mem.remember([t for _, t in chat], metadata=[{"speaker": s} for s, _ in chat])
            ranks.append(mem.explain(query, [ids[1]])[ids[1]].rank)
    shipped, off = ranks
    assert shipped <= 2 < off


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
            assert set(e.result.why) == set(READ_PARTS)
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
    table = runner.invoke(cli, ["--store", store, "inspect", "-q", "Bob's dog?"], env={"TTY_COMPATIBLE": "1", "COLUMNS": "200"})
    assert "rank: score = why" in table.output and "#1:" in table.output
    piped = runner.invoke(cli, ["--store", store, "inspect", "-q", "Bob's dog?"])
    assert sorted(line.split("\t")[7][:3] for line in piped.stdout.splitlines()) == ["#1:", "#2:"]
    shown = runner.invoke(cli, ["--store", store, "show", items[0]["id"], "--query", "Bob's dog?"])
    assert shown.exit_code == 0 and 'for "Bob\'s dog?": #' in shown.output and "content" in shown.output
    empty = runner.invoke(cli, ["--store", store, "show", items[0]["id"], "--query", "  "])
    assert empty.exit_code != 0 and "--query is empty" in str(empty.exception)  # main() prints it in one line


def test_explanations_are_json_safe_where_nothing_was_computed(encoder):
    import json

    with Memory(None, encoder=encoder, controller="cosine") as mem:
        (a,) = mem.remember("Bob: a beagle named Toast.")
        (b,) = mem.remember("unindexed note", index=False)
        explained = mem.explain("Bob's dog?", [a, b])
        assert explained[a].rank == 1 and explained[b].rank is None  # not searchable: not a candidate
        doc = json.loads(json.dumps({k: e.to_dict() for k, e in explained.items()}, allow_nan=False))
        assert doc[a]["weight"] is None and doc[b]["score"] is None and doc[a]["score"] > 0


def test_the_config_defaults_are_the_packaged_checkpoints():
    from dataclasses import asdict

    from agentmem.controller import DEFAULT_CHECKPOINT

    packaged = asdict(LearnedController.load(DEFAULT_CHECKPOINT).config)
    defaults = asdict(LearnedConfig())
    assert packaged["gate"].pop("update_threshold") == pytest.approx(defaults["gate"].pop("update_threshold"))
    assert packaged == defaults


def test_the_recipe_chooses_the_smallest_redundancy_penalty_that_reads_the_held_out_questions_best(monkeypatch):
    """Eleven candidates, the gold one scoring last, under four copies of the top hit: by score
    alone the top 10 misses it; any penalty of 0.5 or more pushes the copies under it, and the tie
    among those goes to the smallest."""
    from agentmem.controller.candidates import QUERY_FEATURES, Candidates
    from agentmem.controller.train import REDUNDANCY_GRID, Example, choose_redundancy

    n, d = 11, 12
    keys = np.zeros((n, d), np.float32)
    keys[:5, 0] = 1.0  # candidate 0 and its four copies
    for i in range(5, n):
        keys[i, i - 4] = 1.0  # the others, each its own direction
    scores = np.array([10.0, 1.0, 0.9, 0.8, 0.7, 9.0, 8.0, 7.0, 6.0, 5.0, 0.6])
    none = np.full(n, -1)
    cand = Candidates(
        np.arange(n), keys, np.zeros((n, len(SIGNALS)), np.float32), none, none, none, np.arange(n),
        np.zeros(n, bool), np.zeros(n, bool), np.zeros(len(QUERY_FEATURES), np.float32),
    )  # fmt: skip
    ctl = LearnedController()
    monkeypatch.setattr(ctl.scorer, "score", lambda c, q: (scores, None))
    found = choose_redundancy(ctl, [Example(cand, np.ones(d, np.float32), gold=[10])])
    assert found == {str(lam): [float(lam > 0)] * 2 for lam in REDUNDANCY_GRID}
    assert ctl.config.scoring.redundancy == 0.5
