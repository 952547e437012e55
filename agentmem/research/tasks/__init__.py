"""The classic memory tasks: copy, repeat copy, associative recall, priority sort, bAbI QA.

`build_task("copy")` returns a task with the papers' standard settings; `build_task("babi", data=PATH,
babi_task=1)` needs the bAbI directory (the data is not redistributed with agentmem).
"""

from __future__ import annotations

from pathlib import Path

from agentmem.research.tasks.associative_recall import AssociativeRecallConfig, AssociativeRecallTask
from agentmem.research.tasks.babi import BabiConfig, BabiExample, BabiTask, find_babi_files, load_babi
from agentmem.research.tasks.base import Batch, Task, loss, metric
from agentmem.research.tasks.copy import CopyConfig, CopyTask
from agentmem.research.tasks.priority_sort import PrioritySortConfig, PrioritySortTask
from agentmem.research.tasks.repeat_copy import RepeatCopyConfig, RepeatCopyTask

TASKS = ("copy", "repeat_copy", "associative_recall", "priority_sort", "babi")


def build_task(name: str, *, data: str | Path | None = None, babi_task: int = 1) -> Task:
    if name == "copy":
        return CopyTask()
    if name == "repeat_copy":
        return RepeatCopyTask()
    if name == "associative_recall":
        return AssociativeRecallTask()
    if name == "priority_sort":
        return PrioritySortTask()
    if name == "babi":
        if data is None:
            raise ValueError("the babi task needs --data PATH (the directory with qaN_*_train.txt)")
        return BabiTask(data, BabiConfig(task=babi_task))
    raise ValueError(f"unknown task {name!r}; choose from {', '.join(TASKS)}")


__all__ = [
    "TASKS",
    "AssociativeRecallConfig",
    "AssociativeRecallTask",
    "BabiConfig",
    "BabiExample",
    "BabiTask",
    "Batch",
    "CopyConfig",
    "CopyTask",
    "PrioritySortConfig",
    "PrioritySortTask",
    "RepeatCopyConfig",
    "RepeatCopyTask",
    "Task",
    "build_task",
    "find_babi_files",
    "load_babi",
    "loss",
    "metric",
]
