"""The examples run as a user runs them: separate Python processes, offline (scripted chat model)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"


def run(*args: str, **kwargs) -> subprocess.Popen:
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    env.pop("AGENTMEM_CHAT_MODEL", None)  # offline: the scripted stand-in, never a provider
    return subprocess.Popen(
        [sys.executable, *args],
        cwd=EXAMPLES,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def output(process: subprocess.Popen) -> str:
    out, err = process.communicate(timeout=300)
    assert process.returncode == 0, err[-3000:]
    return out


def test_agent_learns_in_one_process_and_answers_in_another(tmp_path):
    store = str(tmp_path / "ada")
    graph = run("langgraph_store_graph.py", "--store", str(tmp_path / "notes"))  # independent: run alongside
    learned = output(run("agent_memory.py", "learn", "--store", store))
    answered = output(run("agent_memory.py", "ask", "--store", store))

    assert learned.count("agent: Thanks, I'll remember that.") == 3
    pids = [re.search(r"-- process (\d+)", text).group(1) for text in (learned, answered)]
    assert pids[0] != pids[1]
    answers = dict(re.findall(r"user:  (.+)\nagent: (.+)", answered))
    assert "Lisbon" in answers["Where do I live?"]
    assert "peanuts" in answers["What should a dessert recipe for me leave out?"]
    assert "Biscuit" in answers["What's my dog's name?"]

    notes = output(graph)
    first_answer = notes.split("Q: ")[1].splitlines()[1]
    assert "quarterly report is due" in first_answer
    assert "Mum's birthday dinner" in notes.split("Q: ")[2].splitlines()[1]
    assert all("[work," in line for line in notes.split("Q: ")[3].splitlines()[1:3])  # filter held
    assert "namespaces: [('notes', 'sam')]" in notes
