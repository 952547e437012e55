"""agentmem-eval: the offline evaluation harness for long-horizon recall (`agentmem eval`)."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("agentmem-eval")
except PackageNotFoundError:  # imported from a source tree that was never installed
    __version__ = "0+unknown"
