"""How often a question shares a content word with its evidence: LoCoMo-format data against each
generated shape, with and without the shapes' echo (`episodes.shapes.ShapesConfig.echo`).

A read learns how far to trust a word match from its training questions; this measures whether the
generated questions share words with their evidence as often as real ones do.

    .venv/bin/python benchmarks/question_overlap.py --locomo ../shared/datasets/locomo-dev \
        --out eval/results/controller/question-overlap.json

A content word is one of `text.substance` (no stop words, small talk or one- and two-letter pieces),
compared on its first five letters so "moved" meets "moving"; the speaker's names are left out of both
sides (a chat's question names the person whose turn holds the answer).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path

from results_file import save

from agentmem.episodes import SHAPES, Episode, ShapesConfig, generate_shapes, load_locomo
from agentmem.text import WORD, substance


def stems(text: str, names: set[str]) -> set[str]:
    return {w[:5] for w in substance(text)} - names


def overlap(episodes: Sequence[Episode]) -> dict[str, float]:
    """share: questions with a content word of their evidence; words: the mean share of a question's
    content words found in its evidence."""
    shared, fractions = [], []
    for ep in episodes:
        text = {t.id: t.text for t in ep.turns}
        names = {w.lower()[:5] for t in ep.turns if t.speaker for w in WORD.findall(t.speaker)}
        for item in ep.items:
            asked = stems(item.question, names)
            if not asked:
                continue
            said = set().union(*(stems(text[e], names) for e in item.evidence if e in text))
            shared.append(bool(asked & said))
            fractions.append(len(asked & said) / len(asked))
    return {"questions": len(shared), "share": round(sum(shared) / len(shared), 3),
            "words": round(sum(fractions) / len(fractions), 3)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--locomo", help="a LoCoMo-format file or directory to compare with")
    ap.add_argument("--episodes", type=int, default=10, help="generated episodes per shape")
    ap.add_argument("--seed", type=int, default=5)
    ap.add_argument("--out", type=Path, help="also write the figures to this JSON file")
    args = ap.parse_args()
    out: dict[str, object] = {}
    if args.locomo:
        out["locomo"] = overlap(load_locomo(args.locomo).episodes)
    for echo in (0.0, ShapesConfig().echo):
        data = generate_shapes(ShapesConfig(episodes=args.episodes, seed=args.seed, echo=echo))
        out[f"shapes, echo {echo}"] = {
            shape: overlap([e for e in data.episodes if e.id.startswith(f"{shape}-")]) for shape in SHAPES
        }
    print(json.dumps(out, indent=1))
    if args.out:
        save(out, args.out)


if __name__ == "__main__":
    main()
