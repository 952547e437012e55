"""An agent that learns a user's facts in one process and uses them in another.

    python examples/agent_memory.py learn --store ./ada-memory     # process 1: tell it about yourself
    python examples/agent_memory.py ask --store ./ada-memory       # process 2: it remembers
    python examples/agent_memory.py                                # both, as two child processes

The agent is a plain LangChain 1.x `create_agent` with agentmem as its store and
`AgentMemMiddleware`, which recalls relevant memories before each model call and remembers each
turn afterwards. Nothing is kept in the process: the second run finds the facts on disk, in the
agentmem store (see them with `agentmem --store ./ada-memory inspect`).

Offline by default (a scripted stand-in for the LLM, see offline_chat_model.py); set
AGENTMEM_CHAT_MODEL=openai:gpt-4o-mini (or any init_chat_model spec) to use a real provider.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass

from langchain.agents import create_agent
from langchain_agentmem import AgentMemMiddleware, AgentMemStore
from offline_chat_model import chat_model

FACTS = [
    "Hi! I'm Ada and I live in Lisbon.",
    "I'm allergic to peanuts, please keep that in mind when suggesting recipes.",
    "My dog is called Biscuit.",
]
QUESTIONS = ["Where do I live?", "What should a dessert recipe for me leave out?", "What's my dog's name?"]


@dataclass
class UserContext:
    user_id: str


def make_agent(store: AgentMemStore):
    return create_agent(
        chat_model(),
        system_prompt="You are a helpful personal assistant. Keep answers short.",
        middleware=[AgentMemMiddleware(k=3)],
        store=store,
        context_schema=UserContext,
    )


def chat(store_path: str, user: str, messages: list[str]) -> None:
    print(f"-- process {os.getpid()}, store {store_path}, user {user} --", flush=True)
    with AgentMemStore(store_path, index={"fields": ["text"]}) as store:
        agent = make_agent(store)
        for text in messages:  # each message its own conversation: only long-term memory links them
            result = agent.invoke(
                {"messages": [{"role": "user", "content": text}]}, context=UserContext(user)
            )
            print(f"user:  {text}\nagent: {result['messages'][-1].text}\n", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "phase", nargs="?", choices=["learn", "ask"], help="omit to run both in two processes"
    )
    parser.add_argument("--store", help="agentmem store directory (default: a temporary one)")
    parser.add_argument("--user", default="ada")
    parser.add_argument("messages", nargs="*", help="what to say instead of the built-in script")
    args = parser.parse_args()

    if args.phase is None:
        store = args.store or tempfile.mkdtemp(prefix="agentmem-example-")
        for phase in ("learn", "ask"):
            subprocess.run(
                [sys.executable, __file__, phase, "--store", store, "--user", args.user], check=True
            )
        return
    if not args.store:
        parser.error(f"{args.phase} needs --store, so the other process can find the memories")
    chat(args.store, args.user, args.messages or (FACTS if args.phase == "learn" else QUESTIONS))


if __name__ == "__main__":
    main()
