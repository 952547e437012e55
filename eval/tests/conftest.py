"""The harness's tests share the repository's fixtures (../../conftest.py): the benchmark-format files
the project wrote, a model-free encoder, and the real default encoder loaded once."""
