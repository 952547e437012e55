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

from collections.abc import Sequence

from shape_comparison import compare_with_shapes

from agentmem.episodes import Episode, ShapesConfig
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
    compare_with_shapes(overlap, __doc__.split("\n\n")[0], (0.0, ShapesConfig().echo))


if __name__ == "__main__":
    main()
