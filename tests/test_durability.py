"""Persistence across processes, and `kill -9` right after `remember` returns."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

from agentmem import Memory

ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}


def _python(code: str, *args: str, **kw) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code), *args], env=ENV, text=True, stdout=subprocess.PIPE, **kw
    )


def test_id_survives_kill_9_immediately_after_remember(tmp_path, encoder):
    store = tmp_path / "s"
    child = _python(
        """
        import os, signal, sys
        from agentmem import Memory
        m = Memory(sys.argv[1])
        (i,) = m.remember("The launch code is tangerine-42.", namespace=("ops",))
        print(i, flush=True)
        os.kill(os.getpid(), signal.SIGKILL)  # no close(), no index save, no atexit
        """,
        str(store),
    )
    out, _ = child.communicate(timeout=120)
    assert child.returncode == -signal.SIGKILL
    (returned_id,) = out.split()
    with Memory(store, encoder=encoder) as m:
        assert m.get(returned_id).text == "The launch code is tangerine-42."
        assert m.recall("what is the launch code?", k=1)[0].id == returned_id  # index replayed the log


def test_second_process_sees_committed_writes_while_first_stays_open(tmp_path, encoder):
    store = tmp_path / "s"
    with Memory(store, encoder=encoder) as m:
        m.remember("Seen before the reader started.")
        reader = _python(
            """
            import sys
            from agentmem import Memory
            m = Memory(sys.argv[1])
            print(len(m), flush=True)
            sys.stdin.readline()  # wait for the parent to write more
            print(len(m), m.recall("pelican", k=1)[0].text, flush=True)
            """,
            str(store),
            stdin=subprocess.PIPE,
        )
        assert reader.stdout.readline().strip() == "1"
        m.remember("A pelican landed on the roof at dawn.")
        out, _ = reader.communicate("go\n", timeout=120)
        assert out.strip() == "2 A pelican landed on the roof at dawn."
        # And the other way round: a write made by another process is visible here.
        writer = _python(
            "import sys; from agentmem import Memory; Memory(sys.argv[1]).remember('Written by a sibling process.')",
            str(store),
        )
        writer.communicate(timeout=120)
        assert writer.returncode == 0
        assert m.recall("sibling process", k=1)[0].text == "Written by a sibling process."
        assert len(m) == 3
