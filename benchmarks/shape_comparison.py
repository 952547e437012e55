"""The command line both comparisons of the generator with real data share (question_overlap.py,
turn_statistics.py): one figure per shape of the generated episodes, beside the same figure of a
LoCoMo-format dataset."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from results_file import save

from agentmem.episodes import SHAPES, Episode, ShapesConfig, generate_shapes, load_locomo


def compare_with_shapes(
    measure: Callable[[Sequence[Episode]], Any], description: str, echoes: Sequence[float] = (ShapesConfig().echo,)
) -> None:
    """Parse --locomo / --episodes / --seed / --out, then print (and write) `measure` of the LoCoMo data
    and of each shape's episodes, generated once per value of the shapes' `echo`."""
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--locomo", help="a LoCoMo-format file or directory to compare with")
    ap.add_argument("--episodes", type=int, default=10, help="generated episodes per shape")
    ap.add_argument("--seed", type=int, default=5)
    ap.add_argument("--out", type=Path, help="also write the figures to this JSON file")
    args = ap.parse_args()
    out: dict[str, object] = {}
    if args.locomo:
        out["locomo"] = measure(load_locomo(args.locomo).episodes)
    for echo in echoes:
        data = generate_shapes(ShapesConfig(episodes=args.episodes, seed=args.seed, echo=echo))
        out[f"shapes, echo {echo}"] = {
            shape: measure([e for e in data.episodes if e.id.startswith(f"{shape}-")]) for shape in SHAPES
        }
    print(json.dumps(out, indent=1))
    if args.out:
        save(out, args.out)
