"""The differentiable read over a read's candidates: content addressing equivalence, each part by hand,
link coherence, the fast path equal to the reference, and gradients."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from agentmem.controller.candidates import QUERY_FEATURES, SIGNALS, Candidates
from agentmem.controller.scoring import PARTS, Scorer, ScoringConfig, collate, select
from agentmem.research.addressing import sparse_content_weighting


def _random_candidates(rng, c=7, d=16):
    keys = rng.standard_normal((c, d)).astype(np.float32)
    keys /= np.linalg.norm(keys, axis=1, keepdims=True)
    feats = rng.random((c, len(SIGNALS))).astype(np.float32)
    prev = np.array([-1, 0, 1, 2, -1, 4, 5])[:c]
    nxt = np.array([1, 2, 3, -1, 5, 6, -1])[:c]
    speakers = np.array([0, 1, 0, 1, -1, 2, 2])[:c]
    sessions = np.array([0, 0, 0, 1, 1, 2, 2])[:c]
    asks = np.array([True, False, False, True, False, True, False])[:c]
    machine = np.array([False, True, False, True, False, False, True])[:c]
    return Candidates(np.arange(c), keys, feats, prev, nxt, speakers, sessions, asks, machine, _query())


def _query(**on: float) -> np.ndarray:
    """QUERY_FEATURES with the named ones set (the constant always 1)."""
    q = np.zeros(len(QUERY_FEATURES), np.float32)
    q[QUERY_FEATURES.index("bias")] = 1.0
    for name, value in on.items():
        q[QUERY_FEATURES.index(name)] = value
    return q


def test_content_read_is_sparse_content_addressing_with_strength_over_spread():
    """softmax(β z(cos)) = softmax((β/σ) cos): the standardised read is the addressing op's content
    weighting over the candidates, with strength β divided by the cosines' spread σ."""
    rng = np.random.default_rng(0)
    scorer = Scorer()
    cand = _random_candidates(rng)
    q = rng.standard_normal(16).astype(np.float32)
    with torch.no_grad():
        scorer.signal_weight.zero_()
        scores, parts = scorer(*collate([cand], [q]))
        beta = torch.nn.functional.softplus(scorer.strength)
        keys, query = torch.from_numpy(cand.keys), torch.from_numpy(q)
        sigma = (keys @ (query / query.norm())).std(unbiased=False)
        expected = sparse_content_weighting(keys, query, beta / sigma)
    torch.testing.assert_close(torch.softmax(scores[0], -1), expected, atol=1e-5, rtol=1e-4)  # ε in σ
    assert parts.shape == (1, 7, len(PARTS))


def test_scores_are_the_sum_of_their_parts_with_links_by_hand():
    rng = np.random.default_rng(1)
    # Coherence ramp over the whole cosine range: c(i, j) = (cos + 1) / 2, never clipped.
    scorer = Scorer(ScoringConfig(link_coherence=(-1.0, 1.0)))
    with torch.no_grad():
        scorer.signal_weight.copy_(torch.arange(len(SIGNALS), dtype=torch.float32) / 10)
        scorer.link_weight[0], scorer.link_weight[1] = 0.5, -0.25  # whoever spoke, whether or not it asks
    cand = _random_candidates(rng)
    q = rng.standard_normal(16).astype(np.float32)
    with torch.no_grad():
        scores, parts = scorer(*collate([cand], [q]))
    torch.testing.assert_close(scores, parts.sum(-1))
    match = parts[0, :, 0] + parts[0, :, 1 + SIGNALS.index("lexical")]  # links carry content + lexical
    centred = match - match.mean()
    # Candidate 1's forward link reads candidate 0 (written just before); candidate 3 has no next.
    fwd, bwd = (PARTS.index(p) for p in ("link_forward", "link_backward"))
    unit = cand.keys / np.linalg.norm(cand.keys, axis=1, keepdims=True)
    c10, c23 = ((float(unit[i] @ unit[j]) + 1) / 2 for i, j in ((1, 0), (2, 3)))
    assert parts[0, 1, fwd].item() == pytest.approx(0.5 * c10 * centred[0].item(), abs=1e-5)
    assert parts[0, 2, bwd].item() == pytest.approx(-0.25 * c23 * centred[3].item(), abs=1e-5)
    assert parts[0, 3, bwd].item() == 0.0 and parts[0, 0, fwd].item() == 0.0
    # Each signal's part is its weight times its feature.
    for f in range(len(SIGNALS)):
        np.testing.assert_allclose(parts[0, :, 1 + f].numpy(), f / 10 * cand.features[:, f], atol=1e-6)


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
        np.full(4, -1),
        np.arange(4),
        np.zeros(4, dtype=bool),
        np.zeros(4, dtype=bool),
        _query(),
    )
    q = e[0]
    fwd = PARTS.index("link_forward")
    for coherence, shares in (((0.2, 0.5), [0.0, 0.0, 0.5, 1.0]), (None, [0.0, 1.0, 1.0, 1.0])):
        scorer = Scorer(ScoringConfig(link_coherence=coherence))
        with torch.no_grad():
            scorer.link_weight[0] = 1.0
        _, parts = scorer.score_numpy(cand, q)
        match = parts[:, 0] + parts[:, 1 + SIGNALS.index("lexical")]
        np.testing.assert_allclose(parts[:, fwd], np.array(shares) * (match[0] - match.mean()), atol=1e-5)
        with torch.no_grad():
            _, trained = scorer(*collate([cand], [q]))
        np.testing.assert_allclose(trained[0].numpy(), parts, atol=1e-5)


@pytest.mark.parametrize(("link_asks", "link_machines"), [(False, False), (True, False), (False, True), (True, True)])
@pytest.mark.parametrize("coherence", [(0.2, 0.5), (-0.5, 0.5), None])
def test_the_fast_path_scores_equal_the_reference(coherence, link_asks, link_machines):
    """Reads score with the numpy fast path, training with the torch reference: same parts, same scores,
    whichever `ScoringConfig.fast` picks."""
    rng = np.random.default_rng(5)
    fast, reference = (
        Scorer(
            ScoringConfig(
                coherence, link_asks=link_asks, link_machines=link_machines, read_modes=True, hidden=8, fast=fast
            )
        )
        for fast in (True, False)
    )
    with torch.no_grad():
        for p in fast.parameters():
            p.normal_(0, 0.5)
    reference.load_state_dict(fast.state_dict())
    for c in (7, 1):  # a single candidate has no spread at all
        cand = _random_candidates(rng, c=c)
        cand.next[c - 1] = -1  # the chain ends with the candidates
        q = rng.standard_normal(16).astype(np.float32)
        with torch.no_grad():
            scores, parts = fast(*collate([cand], [q]))
        np_scores, np_parts = fast.score(cand, q)
        np.testing.assert_allclose(np_parts, parts[0].numpy(), atol=1e-5, rtol=1e-5)
        np.testing.assert_allclose(np_scores, scores[0].numpy(), atol=1e-5, rtol=1e-5)
        ref_scores, ref_parts = reference.score(cand, q)
        np.testing.assert_allclose(np_parts, ref_parts, atol=1e-5, rtol=1e-5)
        np.testing.assert_allclose(np_scores, ref_scores, atol=1e-5, rtol=1e-5)


def test_numpy_reads_follow_parameters_changed_in_place_or_replaced():
    """The fast path keeps numpy views of the parameters: they must follow in-place training updates, a
    loaded state, and tensors replaced by a conversion."""
    rng = np.random.default_rng(6)
    scorer, other = (Scorer(ScoringConfig(link_coherence=(0.0, 0.5))) for _ in "ab")
    cand, q = _random_candidates(rng), rng.standard_normal(16).astype(np.float32)
    before = scorer.score(cand, q)[0]
    with torch.no_grad():
        for p in other.parameters():
            p.normal_(0, 0.5)
    want = other.score(cand, q)[0]
    assert not np.allclose(before, want)
    scorer.load_state_dict(other.state_dict())  # copies in place
    np.testing.assert_allclose(scorer.score(cand, q)[0], want, rtol=1e-6)
    with torch.no_grad():
        scorer.link_weight.add_(1.0)  # as an optimiser step does
    moved = scorer.score(cand, q)[0]
    assert not np.allclose(moved, want)
    scorer.double().float()  # new tensors twice over
    with torch.no_grad():
        scorer.link_weight.sub_(1.0)
    np.testing.assert_allclose(scorer.score(cand, q)[0], want, rtol=1e-5)


def test_padded_candidates_get_no_weight_and_no_nan():
    rng = np.random.default_rng(2)
    scorer = Scorer()
    small, big = _random_candidates(rng, c=3), _random_candidates(rng, c=7)
    small.prev, small.next = np.array([-1, 0, 1]), np.array([1, 2, -1])
    scores, _ = scorer(*collate([small, big], [np.ones(16, np.float32)] * 2))
    w = torch.softmax(scores, -1)
    assert torch.isfinite(w).all() and w[0, 3:].sum() == 0 and w[0].sum().item() == pytest.approx(1.0)


@pytest.mark.parametrize(("link_asks", "link_machines"), [(False, False), (True, True)])
def test_gradients_reach_every_parameter(link_asks, link_machines):
    rng = np.random.default_rng(3)
    scorer = Scorer(ScoringConfig(link_asks=link_asks, link_machines=link_machines, read_modes=True, hidden=8))
    with torch.no_grad():
        scorer.link_weight.fill_(0.3)
        scorer.session_weight.fill_(0.3)
        scorer.w_out.fill_(0.3)  # it starts at 0, where nothing reaches the layers under it
    cand = _random_candidates(rng)
    scores, _ = scorer(*collate([cand], [rng.standard_normal(16).astype(np.float32)]))
    (-torch.log_softmax(scores, -1)[0, 2]).backward()
    for name, p in scorer.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name


@pytest.mark.parametrize(("link_asks", "link_machines"), [(False, False), (True, True)])
def test_gradients_match_finite_differences(link_asks, link_machines):
    """The reference's gradient of -log w_gold, against central differences in float64."""
    rng = np.random.default_rng(4)
    config = ScoringConfig(link_asks=link_asks, link_machines=link_machines, read_modes=True, hidden=4, attention=3)
    scorer = Scorer(config).double()
    with torch.no_grad():
        for p in scorer.parameters():
            p.normal_(0, 0.5)
    cand = _random_candidates(rng)
    q = rng.standard_normal(16).astype(np.float32)
    batch = [t.double() if t.is_floating_point() else t for t in collate([cand], [q])]

    def loss() -> torch.Tensor:
        return -torch.log_softmax(scorer(*batch)[0], -1)[0, 2]

    params = list(scorer.parameters())
    analytic = torch.autograd.grad(loss(), params)
    for p, g in zip(params, analytic, strict=True):
        flat, grad = p.data.view(-1), g.reshape(-1)
        for i in range(flat.numel()):
            old = flat[i].item()
            flat[i] = old + 1e-6
            up = loss().item()
            flat[i] = old - 1e-6
            down = loss().item()
            flat[i] = old
            assert (up - down) / 2e-6 == pytest.approx(grad[i].item(), abs=1e-5)


def test_links_weigh_a_reply_across_speakers_apart_from_a_burst_by_one_speaker():
    """γ[direction, same / other speaker, ·]: candidate 1 follows candidate 0 by another speaker,
    candidate 2 follows candidate 1 by the same speaker; an unknown speaker is never the same."""
    rng = np.random.default_rng(7)
    cand = _random_candidates(rng, c=4)
    cand.speakers[:] = [5, 6, 6, -1]
    cand.machine[:] = False
    cand.prev[:], cand.next[:] = [-1, 0, 1, 2], [1, 2, 3, -1]
    scorer = Scorer(ScoringConfig(link_coherence=None))
    with torch.no_grad():
        scorer.link_weight[0, 0], scorer.link_weight[0, 1] = 2.0, 3.0  # whether or not it asks
    q = rng.standard_normal(16).astype(np.float32)
    _, parts = scorer.score_numpy(cand, q)
    match = parts[:, 0] + parts[:, 1 + SIGNALS.index("lexical")]
    centred = match - match.mean()
    fwd = parts[:, PARTS.index("link_forward")]
    np.testing.assert_allclose(fwd, [0.0, 3.0 * centred[0], 2.0 * centred[1], 3.0 * centred[2]], atol=1e-5)


def test_links_weigh_the_reply_to_a_question_apart_from_the_reply_to_a_statement():
    """γ[direction, ·, asks / not] by hand: the forward link of candidate i counts by whether its previous
    memory asks, the backward link by whether i itself asks (the earlier memory of each pair); the torch
    reference gives the same parts."""
    rng = np.random.default_rng(10)
    cand = _random_candidates(rng, c=4)
    cand.speakers[:] = [5, 6, 5, 6]  # every link is a reply across speakers
    cand.machine[:] = False
    cand.asks[:] = [True, False, False, True]
    cand.prev[:], cand.next[:] = [-1, 0, 1, 2], [1, 2, 3, -1]
    scorer = Scorer(ScoringConfig(link_coherence=None, link_asks=True))
    with torch.no_grad():
        scorer.link_weight[0, 1], scorer.link_weight[1, 1] = torch.tensor([2.0, 0.5]), torch.tensor([-1.0, 0.25])
    q = rng.standard_normal(16).astype(np.float32)
    _, parts = scorer.score_numpy(cand, q)
    match = parts[:, 0] + parts[:, 1 + SIGNALS.index("lexical")]
    c = match - match.mean()
    fwd, bwd = (parts[:, PARTS.index(p)] for p in ("link_forward", "link_backward"))
    # forward: 1 answers 0 (asks), 2 follows 1 (a statement), 3 follows 2 (a statement)
    np.testing.assert_allclose(fwd, [0.0, 2.0 * c[0], 0.5 * c[1], 0.5 * c[2]], atol=1e-5)
    # backward: 0 asks (its reply is 1), 1 and 2 state, 3 has no next
    np.testing.assert_allclose(bwd, [-1.0 * c[1], 0.25 * c[2], 0.25 * c[3], 0.0], atol=1e-5)
    with torch.no_grad():
        _, reference = scorer(*collate([cand], [q]))
    np.testing.assert_allclose(reference[0].numpy(), parts, atol=1e-5)


def test_without_the_splits_a_link_weighs_the_same_whoever_wrote_it_and_whether_or_not_it_asks():
    """Without either split the links have one weight per (direction, same speaker or another):
    γ (2, 2, 1), so flipping which memories ask, or which a machine wrote, moves no score, in either
    path, and the read modes carry one column per link weight."""
    rng = np.random.default_rng(12)
    scorer = Scorer(ScoringConfig(link_machines=False, read_modes=True))
    assert scorer.link_weight.shape == (2, 2, 1)
    assert scorer.read_modes.shape == (len(QUERY_FEATURES), 1 + len(SIGNALS) + 4 + 1)
    with torch.no_grad():
        for p in scorer.parameters():
            p.normal_(0, 0.5)
    cand = _random_candidates(rng)
    q = rng.standard_normal(16).astype(np.float32)
    before = scorer.score_numpy(cand, q)[0]
    with torch.no_grad():
        reference = scorer(*collate([cand], [q]))[0][0].numpy()
    cand.asks[:] = ~cand.asks
    cand.machine[:] = ~cand.machine
    np.testing.assert_allclose(scorer.score_numpy(cand, q)[0], before, rtol=1e-6)
    np.testing.assert_allclose(reference, before, atol=1e-5)
    with torch.no_grad():
        np.testing.assert_allclose(scorer(*collate([cand], [q]))[0][0].numpy(), before, atol=1e-5)


def test_links_weigh_a_machines_reply_to_a_person_apart_from_other_replies():
    """With `link_machines`, γ[direction, who spoke, ·] by hand over user (5), assistant (6), user, tool
    (7), assistant: a machine's memory after a person's is a machine reply (index 2), a person's after a
    machine's and a machine's after another machine's are other replies (index 1); the torch reference
    agrees."""
    rng = np.random.default_rng(11)
    cand = _random_candidates(rng, c=5)
    cand.speakers[:] = [5, 6, 5, 7, 6]
    cand.machine[:] = [False, True, False, True, True]
    cand.asks[:] = False
    cand.prev[:], cand.next[:] = [-1, 0, 1, 2, 3], [1, 2, 3, 4, -1]
    scorer = Scorer(ScoringConfig(link_coherence=None, link_machines=True))
    with torch.no_grad():
        scorer.link_weight[0, 1], scorer.link_weight[0, 2] = 1.0, 3.0  # whether or not it asks
        scorer.link_weight[1, 1], scorer.link_weight[1, 2] = -0.5, 0.75
    q = rng.standard_normal(16).astype(np.float32)
    _, parts = scorer.score_numpy(cand, q)
    match = parts[:, 0] + parts[:, 1 + SIGNALS.index("lexical")]
    c = match - match.mean()
    fwd, bwd = (parts[:, PARTS.index(p)] for p in ("link_forward", "link_backward"))
    np.testing.assert_allclose(fwd, [0.0, 3.0 * c[0], 1.0 * c[1], 3.0 * c[2], 1.0 * c[3]], atol=1e-5)
    np.testing.assert_allclose(bwd, [0.75 * c[1], -0.5 * c[2], 0.75 * c[3], -0.5 * c[4], 0.0], atol=1e-5)
    with torch.no_grad():
        _, reference = scorer(*collate([cand], [q]))
    np.testing.assert_allclose(reference[0].numpy(), parts, atol=1e-5)


def test_a_candidate_pools_the_best_matches_of_the_other_candidates_of_its_session():
    """session_i = γ_s Σ_{j in S(i), j ≠ i} softmax_j(m̃_j) m̃_j, by hand; a lone candidate gets 0."""
    rng = np.random.default_rng(8)
    cand = _random_candidates(rng, c=5)
    cand.sessions[:] = [0, 0, 0, 1, 2]
    cand.prev[:] = cand.next[:] = -1
    scorer = Scorer()
    with torch.no_grad():
        scorer.session_weight.fill_(0.5)
    _, parts = scorer.score_numpy(cand, rng.standard_normal(16).astype(np.float32))
    m = parts[:, 0] + parts[:, 1 + SIGNALS.index("lexical")]
    m = m - m.mean()
    want = []
    for i in range(5):
        others = [j for j in range(5) if j != i and cand.sessions[j] == cand.sessions[i]]
        w = np.exp(m[others]) / np.exp(m[others]).sum() if others else np.zeros(0)
        want.append(0.5 * float(w @ m[others]) if others else 0.0)
    np.testing.assert_allclose(parts[:, PARTS.index("session")], want, atol=1e-5)


def test_read_modes_move_each_coefficient_by_the_query_features():
    """(b, θ, γ, γ_s)(q) = base + q Π: a "when" question given weight on the `when` signal scores it,
    another question does not."""
    rng = np.random.default_rng(9)
    cand = _random_candidates(rng)
    scorer = Scorer(ScoringConfig(read_modes=True))
    with torch.no_grad():
        scorer.read_modes[QUERY_FEATURES.index("when"), 1 + SIGNALS.index("when")] = 2.0
    q = rng.standard_normal(16).astype(np.float32)
    column = PARTS.index("when")
    for asked, weight in (("when", 2.0), ("what", 0.0)):
        cand.query = _query(**{asked: 1.0})
        _, parts = scorer.score_numpy(cand, q)
        np.testing.assert_allclose(parts[:, column], weight * cand.features[:, SIGNALS.index("when")], atol=1e-6)


def test_the_selection_passes_over_a_near_duplicate_for_a_hit_that_adds_something():
    """Scores A 5.0, A' 4.9 (key cosine 0.99 with A), B 4.5 (orthogonal to both), C 1.0 (cosines -0.5
    with A, -0.37 with A', 0 with B: nothing positive, so no penalty). λ = 1.5: A, then B (4.5 against
    A' at 4.9 - 1.5 x 0.99 = 3.415), then A' with its penalty, then C; λ = 0 is the order of the scores."""
    keys = np.array(
        [[1.0, 0.0, 0.0], [0.99, np.sqrt(1 - 0.99**2), 0.0], [0.0, 0.0, 2.0], [-0.5, np.sqrt(0.75), 0.0]]
    )  # B's key is not of unit length: the selection takes cosines
    scores = np.array([5.0, 4.9, 4.5, 1.0])
    order, penalty = select(scores, keys, None, 1.5)
    assert order.tolist() == [0, 2, 1, 3]
    np.testing.assert_allclose(penalty, [0.0, 0.0, 1.5 * 0.99, 0.0], atol=1e-12)
    top2, pen2 = select(scores, keys, 2, 1.5)
    assert top2.tolist() == [0, 2] and pen2.tolist() == [0.0, 0.0]
    plain, none = select(scores, keys, None, 0.0)
    assert plain.tolist() == [0, 1, 2, 3] and not none.any()


@pytest.mark.parametrize("seed", range(20))
def test_selected_scores_never_increase_and_every_candidate_is_taken_once(seed):
    rng = np.random.default_rng(seed)
    c = int(rng.integers(1, 40))
    scores = rng.normal(size=c) * 3
    keys = rng.normal(size=(c, 8))
    lam = float(rng.uniform(0, 4))
    order, penalty = select(scores, keys, None, lam)
    assert sorted(order.tolist()) == list(range(c))
    final = scores[order] - penalty
    assert np.all(np.diff(final) <= 1e-12) and np.all(penalty >= 0)
    k = int(rng.integers(1, c + 1))
    assert select(scores, keys, k, lam)[0].tolist() == order[:k].tolist()
