"""bAbI QA tasks v1.2 loader (`qaN_<name>_{train,test}.txt`).

Lines are "ID text"; question lines are "ID question<TAB>answer<TAB>supporting ids". IDs restart at 1 for
each story and supporting ids name lines of the same story. A question is asked mid-story, so it may only
see the statements before it (`Item.at`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from agentmem.episodes.episode import Dataset, Episode, Item, Turn
from agentmem.episodes.files import Source, quoted

_FILE = re.compile(r"qa(\d+)_(.+)_(train|test)\.txt")


@dataclass
class BabiConfig:
    """split: "test" or "train"; tasks: task numbers to load (all by default)."""

    split: str = "test"
    tasks: tuple[int, ...] = ()


FIX = ('give bAbI v1.2 text: "ID sentence" lines and "ID question<TAB>answer<TAB>supporting ids" lines, '
       "in qaN_<name>_{train,test}.txt files")


def _parse(lines: list[str], task: str, src: Source, ds: Dataset) -> list[Episode]:
    episodes: list[Episode] = []
    turns: list[Turn] = []
    items: list[Item] = []
    story = 0

    def close() -> None:
        if turns or items:
            episodes.append(Episode(id=f"{task}:{story}", turns=list(turns), items=list(items)))

    for line_no, raw in enumerate(lines, 1):
        if not raw.strip():
            continue
        num, _, rest = raw.strip("\n").partition(" ")
        if not (num.isascii() and num.isdigit()):
            raise src.error(f"does not start with a line number ID ({quoted(raw)})", f"line {line_no}")
        if int(num) == 1:
            close()
            story += 1
            turns, items = [], []
        session = f"{task}:{story}"
        if "\t" not in rest:
            turns.append(Turn(id=num, session=session, text=rest.strip()))
            continue
        question, answer, support = (rest.split("\t") + ["", ""])[:3]
        known = {t.id for t in turns}
        evidence = tuple(dict.fromkeys(s for s in support.split() if s in known))
        if not evidence or len(evidence) < len(support.split()):
            ds.skipped["unresolvable_evidence"] += 1
            continue
        items.append(Item(id=f"{session}:{num}", question=question.strip(), answer=answer.strip(),
                          category=task, evidence=evidence, sessions=(session,), at=len(turns)))
    close()
    return episodes


def load_babi(path: str | Path, config: BabiConfig | None = None) -> Dataset:
    """Load one bAbI file, or every task file of `config.split` in a directory.

    Raises `InvalidInputError` naming the file and the line when the input is not bAbI text.
    """
    config = config or BabiConfig()
    src = Source("bAbI", Path(path), FIX)
    src.check_exists()
    if src.path.is_dir():
        files = [f for f in sorted(src.path.glob("qa*_*.txt")) if (m := _FILE.fullmatch(f.name))
                 and m[3] == config.split and (not config.tasks or int(m[1]) in config.tasks)]
        files.sort(key=lambda f: int(_FILE.fullmatch(f.name)[1]))
        if not files:
            tasks = f" of tasks {', '.join(map(str, config.tasks))}" if config.tasks else ""
            raise src.error(f"holds no {config.split} files{tasks} (qaN_<name>_{config.split}.txt)",
                            fix="give the directory of the bAbI v1.2 task files (tasks_1-20_v1-2/en) or one "
                                "of its files")
    else:
        files = [src.path]
    ds = Dataset(name="babi", episodes=[])
    for f in files:
        m = _FILE.fullmatch(f.name)
        task = f"qa{m[1]}_{m[2]}" if m else f.stem
        file_src = src.within(f)
        ds.episodes.extend(_parse(file_src.text().splitlines(), task, file_src, ds))
    return ds
