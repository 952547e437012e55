"""`python -m agentmem ...` runs the `agentmem` command (the demo uses it to start a fresh process)."""

from agentmem.cli import main

if __name__ == "__main__":
    main()
