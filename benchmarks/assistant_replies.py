"""Questions about what an assistant said, in user-assistant chats (LongMemEval's single-session-assistant
questions): the evidence is the assistant's reply, not the user's turn before it.

    .venv/bin/python benchmarks/assistant_replies.py --out eval/results/controller/assistant-replies.json

Episodes of the generated assistant shape (`agentmem.episodes.shapes`, from a seed apart from training's
and evaluation's) hold help sessions: a user's request, then a page of advice. Each page of advice gets a
question in one of three wordings:

- `request`: "What did you suggest when I asked: <the request>?", in the request's own words, which the
  user's turn holds and the reply does not;
- `tip`: "You gave me a tip about <a word of one tip>. What was it?", a word the reply holds;
- `advice`: "What were the tips for this: <the request>?", which asks for advice without saying who
  gave it;
- `unaddressed`: "Remind me what came of this: <the request>", which says neither.

The first three ask what the assistant said (`agentmem.text.asks_for_reply`); the fourth does not. Each
episode is written once and each question gathered once, as training does (`controller.train.replay`,
each turn its own memory), with the packaged checkpoint as shipped (its hits in the order a read returns
them, `scoring.select`) and with `CandidateConfig.replies` off (a machine's reply to a person weighed apart from any reply for every query); `zsum` (an untrained
z(cos) + z(BM25) over the same candidates) is the untrained baseline. The episodes' own questions, about
the user's facts, are measured alongside: no wording of theirs asks for a reply, so the two reads agree
on them. Printed and saved: recall_any@1, @5, @10 and MRR of each system for each wording; and how many
questions of the other evaluation sets ask for a reply (the read differs from the "replies off" one on
those only): training's shapes and the held-out shapes (as `agentmem train controller` and `agentmem
eval shapes` generate them), the synthetic suite, and with `--locomo` / `--longmemeval` those files.
"""

from __future__ import annotations

import argparse
import copy
import os
import random
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from results_file import save

if TYPE_CHECKING:
    from agentmem.controller.scoring import Scorer
    from agentmem.controller.train import Example
    from agentmem.episodes.episode import Episode

os.environ.setdefault("HF_HUB_OFFLINE", "1")

WORDINGS = {
    "request": (
        "What did you suggest when I asked: {r}",
        "Can you remind me what you recommended when I asked: {r}",
        'I asked you "{r}" a while ago. What did you tell me?',
    ),
    "tip": (
        "You gave me a tip about {w}. What was it?",
        "What did you say about {w} when I asked for advice?",
        "You mentioned something about {w}; can you remind me?",
    ),
    "advice": ("What were the tips for this: {r}", "Remind me of the advice on this one: {r}"),
    "unaddressed": ("Remind me what came of this: {r}", "What was the outcome of this one: {r}"),
}


def questions(episode: Episode, rng: random.Random) -> Episode:
    """The episode with one question about each of its pages of advice, in a wording drawn at random."""
    from agentmem.episodes.episode import Episode, Item
    from agentmem.episodes.shapes import DOMAINS, INTROS
    from agentmem.text import substance

    requests = sorted({a for d in DOMAINS for a in d.asks + d.follows}, key=len, reverse=True)
    spread: dict[str, int] = {}
    for t in episode.turns:
        for w in set(substance(t.text)):
            spread[w] = spread.get(w, 0) + 1
    items = []
    for before, reply in zip(episode.turns, episode.turns[1:], strict=False):
        text = reply.text.split(": ", 1)[-1]
        if reply.speaker != "assistant" or not text.startswith(INTROS):
            continue
        request = next((r for r in requests if r in before.text), None)
        if request is None:
            continue
        kind = rng.choice(sorted(WORDINGS))
        tips = [p.split(" ", 1)[1] for p in _numbered(text)]
        if not tips:
            continue
        tip = rng.choice(tips)
        words = [w for w in substance(tip) if w.isalpha() and w not in substance(before.text)]
        if kind == "tip" and not words:
            continue
        word = min(words, key=lambda w: (spread.get(w, 0), w)) if words else ""
        question = rng.choice(WORDINGS[kind]).format(r=request.rstrip("?"), w=word)
        items.append(Item(f"{episode.id}:r{len(items)}", question, "", kind, (reply.id,), (reply.session,)))
    return Episode(episode.id, episode.turns, items)


def _numbered(text: str) -> list[str]:
    """The numbered points ("1. ...", "2. ...") of a page of advice."""
    return [m.group(0).strip() for m in re.finditer(r"\d+\. .*?(?= \d+\. |$)", text)]


def measure(scorer: Scorer, examples: Sequence[Example], redundancy: float = 0.0) -> dict[str, float]:
    """recall_any@1, @5, @10 and MRR of the gold reply among each question's candidates, ranked as a read
    returns them (`scoring.select` with penalty `redundancy`)."""
    from agentmem.controller.scoring import select

    ranks = []
    for e in examples:
        s, _ = scorer.score(e.candidates, e.query)
        order, _ = select(s, e.candidates.keys, None, redundancy)
        at = [int(np.flatnonzero(order == g)[0]) + 1 for g in e.gold]
        ranks.append(min(at) if at else np.inf)
    r = np.asarray(ranks, dtype=float)
    return {
        "questions": len(r),
        "recall_any@1": float((r <= 1).mean()),
        "recall_any@5": float((r <= 5).mean()),
        "recall_any@10": float((r <= 10).mean()),
        "mrr": float((1 / r).mean()),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--episodes", type=int, default=12, help="assistant-shape episodes")
    ap.add_argument("--seed", type=int, default=3000)
    ap.add_argument("--locomo", type=Path, default=None, help="a LoCoMo file or directory to count")
    ap.add_argument("--longmemeval", type=Path, default=None, help="a LongMemEval file or directory to count")
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()

    import torch

    from agentmem.controller import DEFAULT_CHECKPOINT
    from agentmem.controller.learned import LearnedController
    from agentmem.controller.scoring import Scorer
    from agentmem.controller.train import replay
    from agentmem.encoder import resolve_encoder
    from agentmem.episodes import ShapesConfig, generate_shapes
    from agentmem.text import asks_for_reply

    torch.set_num_threads(1)
    encoder = resolve_encoder()
    rng = random.Random(args.seed)
    episodes = generate_shapes(ShapesConfig(shapes=("assistant",), episodes=args.episodes, seed=args.seed)).episodes
    asked = [questions(ep, rng) for ep in episodes]
    packaged = LearnedController.load(DEFAULT_CHECKPOINT)
    without = copy.deepcopy(packaged)
    without.config.candidates.replies = False
    zsum = Scorer(packaged.config.scoring)
    zsum.eval()
    result: dict = {"episodes": args.episodes, "seed": args.seed, "by_wording": {}}
    sets = {"own questions (the user's facts)": episodes}
    for kind in WORDINGS:
        sets[kind] = [type(ep)(ep.id, ep.turns, [i for i in ep.items if i.category == kind]) for ep in asked]
    for name, eps in sets.items():
        fires = sorted({asks_for_reply(i.question) for ep in eps for i in ep.items})
        on = replay(packaged, eps, encoder, add_gold=False)
        off = replay(without, eps, encoder, add_gold=False)
        lam = packaged.config.scoring.redundancy
        systems = {
            "agentmem": measure(packaged.scorer, on, lam),
            "agentmem, replies off": measure(packaged.scorer, off, lam),
            "zsum": measure(zsum, on),
        }
        result["by_wording"][name] = {"asks_for_reply": fires, **systems}
        print(f"{name} (asks for the reply: {'/'.join(map(str, fires))})")
        for system, m in systems.items():
            print(
                f"  {system:<22} n={m['questions']:<4} any@1 {m['recall_any@1']:.3f}  any@5 {m['recall_any@5']:.3f}"
                f"  any@10 {m['recall_any@10']:.3f}  MRR {m['mrr']:.3f}"
            )
    result["other_sets_asking_for_a_reply"] = counts = count_elsewhere(args.locomo, args.longmemeval)
    for name, (asking, total) in counts.items():
        print(f"{name}: {asking} of {total} questions ask for a reply")
    if args.out:
        save(result, args.out)


def count_elsewhere(locomo: Path | None, longmemeval: Path | None) -> dict[str, tuple[int, int]]:
    """(questions asking for a reply, questions) of each other evaluation set."""
    from agentmem.controller.train import training_episodes
    from agentmem.episodes import HELD_OUT, ShapesConfig, SyntheticConfig, generate, generate_shapes
    from agentmem.text import asks_for_reply

    sets = {
        "training shapes": training_episodes("shapes", episodes=30),  # the recipe's
        "held-out shapes (seed 2000)": generate_shapes(ShapesConfig(shapes=HELD_OUT, episodes=10, seed=2000)).episodes,
        "synthetic-10k": generate(SyntheticConfig(observations=10_000)).episodes,
    }
    if locomo is not None:
        from agentmem.episodes import load_locomo

        sets["locomo"] = load_locomo(locomo).episodes
    if longmemeval is not None:
        from agentmem.episodes import load_longmemeval

        sets["longmemeval"] = load_longmemeval(longmemeval).episodes
    return {
        name: (sum(asks_for_reply(i.question) for ep in eps for i in ep.items), sum(len(ep.items) for ep in eps))
        for name, eps in sets.items()
    }


if __name__ == "__main__":
    main()
