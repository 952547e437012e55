"""Tests of langchain-agentmem (a package, so this conftest does not shadow other suites' `conftest`)."""
