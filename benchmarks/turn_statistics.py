"""What the turns around the evidence look like: LoCoMo-format data against each generated shape.

A read learns what a distractor looks like from its training chats. If the generated chats' other
turns are shorter or more repetitive than real ones, a signal that describes a turn's form (its
length, how many near-copies it has) is learned from the generator rather than from conversations;
this measures how far the two differ.

    .venv/bin/python benchmarks/turn_statistics.py --locomo ../shared/datasets/locomo-dev \
        --out eval/results/controller/turn-statistics.json

For gold turns (the evidence of some question) and the other turns of each set: the median count of
content words (`text.substance`: no stop words, small talk or glue, so "haha same" has none), the share
of turns with at most two, and the share whose text, without its speaker, occurs more than once in
its episode (a templated reply).
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Sequence

from shape_comparison import compare_with_shapes

from agentmem.episodes import Episode
from agentmem.text import substance

SHORT = 2  # content words at or under which a turn says next to nothing


def body(text: str, speaker: str | None) -> str:
    """The turn's text without its "Speaker: " prefix, lower-cased."""
    if speaker and text.startswith(f"{speaker}:"):
        text = text[len(speaker) + 1 :]
    return text.strip().lower()


def statistics_of(episodes: Sequence[Episode]) -> dict[str, dict[str, float]]:
    """{"gold": ..., "other": ...}: turns, median content words, share with at most SHORT of them,
    share repeated word for word within the episode."""
    groups: dict[str, list[tuple[int, bool]]] = {"gold": [], "other": []}
    for ep in episodes:
        gold = {e for item in ep.items for e in item.evidence}
        bodies = [body(t.text, t.speaker) for t in ep.turns]
        copies = Counter(bodies)
        for t, said in zip(ep.turns, bodies, strict=True):
            groups["gold" if t.id in gold else "other"].append((len(substance(t.text)), copies[said] > 1))
    out = {}
    for name, rows in groups.items():
        if not rows:
            continue
        counts = [w for w, _ in rows]
        out[name] = {
            "turns": len(rows),
            "median_content_words": statistics.median(counts),
            "share_at_most_2": round(sum(w <= SHORT for w in counts) / len(rows), 3),
            "share_repeated": round(sum(r for _, r in rows) / len(rows), 3),
        }
    return out


def main() -> None:
    compare_with_shapes(statistics_of, __doc__.split("\n\n")[0])


if __name__ == "__main__":
    main()
