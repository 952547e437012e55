"""The MCP server and the warm CLI, as real processes: `agentmem serve` / `agentmem mcp` subprocesses
driven by the MCP SDK's own client (streamable HTTP and stdio), and the `agentmem` CLI going through a
running server. Two server processes share one store throughout.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import anyio
import pytest

pytest.importorskip("mcp")

from mcp import Client  # noqa: E402
from mcp.client.stdio import StdioServerParameters  # noqa: E402

AGENTMEM = [sys.executable, "-m", "agentmem"]
ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "PYTHONIOENCODING": "utf-8"}
for var in ("AGENTMEM_SERVER", "AGENTMEM_STORE", "AGENTMEM_SERVER_TOKEN"):
    ENV.pop(var, None)


@contextmanager
def server(store: Path, *args: str, env: dict[str, str] | None = None) -> Iterator[str]:
    """`agentmem --store STORE serve --port 0 ARGS`; yields its URL once it listens; stops it after."""
    proc = subprocess.Popen(
        [*AGENTMEM, "--store", str(store), "serve", "--port", "0", *args],
        env=env or ENV,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        lines = []
        while time.monotonic() < deadline:
            line = proc.stderr.readline()
            if not line:
                raise AssertionError(f"the server exited ({proc.wait()}): {''.join(lines)}")
            lines.append(line)
            if m := re.match(r"agentmem server at (http://\S+) ", line):
                yield m.group(1)
                break
        else:
            raise AssertionError(f"the server did not start: {''.join(lines)}")
    finally:
        proc.terminate()
        assert proc.wait(timeout=60) == 0, "the server did not stop cleanly on SIGTERM"


@pytest.fixture(scope="module")
def two_servers(tmp_path_factory) -> Iterator[tuple[Path, str, str]]:
    store = tmp_path_factory.mktemp("served") / "store"
    subprocess.run([*AGENTMEM, "--store", str(store), "init"], env=ENV, check=True, capture_output=True)
    with server(store) as a, server(store) as b:
        yield store, a, b


def call(url: str, tool: str, arguments: dict) -> tuple[bool, object]:
    """One MCP tool call through the SDK's client: (is_error, structured result or error text)."""

    async def go():
        async with Client(url + "/mcp") as client:
            result = await client.call_tool(tool, arguments)
            return result.is_error, (result.content[0].text if result.is_error else result.structured_content)

    return anyio.run(go)


def cli(*args: str, server_url: str | None = None, input: str | None = None, **env: str):
    extra = {"AGENTMEM_SERVER": server_url} if server_url else {}
    return subprocess.run(
        [*AGENTMEM, *args], env={**ENV, **extra, **env}, capture_output=True, text=True, input=input, timeout=120
    )


def test_an_mcp_client_remembers_in_one_server_and_recalls_in_another(two_servers):
    _, a, b = two_servers
    failed, written = call(
        a,
        "remember",
        {
            "texts": ["Alice moved to Lisbon in May 2023.", "Alice's dog is called Max.", "Bob plays the cello."],
            "namespace": ["user-42", "memories"],
            "event_time": "2023-05-08T13:56:00Z",
        },
    )
    assert not failed
    failed, found = call(b, "recall", {"query": "Where does Alice live?", "k": 3, "namespace": ["user-42"]})
    assert not failed
    top = found["results"][0]
    assert top["id"] == written["ids"][0] and top["text"] == "Alice moved to Lisbon in May 2023."
    assert top["namespace"] == ["user-42", "memories"] and top["event_time"] == "2023-05-08T13:56:00+00:00"
    assert set(top["why"]) >= {"content"} and top["score"] == pytest.approx(sum(top["why"].values()), abs=1e-4)


def test_every_tool_round_trips_and_bad_input_is_a_tool_error(two_servers):
    _, a, b = two_servers
    (note,) = call(a, "remember", {"texts": "Carol bakes bread.", "namespace": "user-9", "ids": ["carol-1"]})[1]["ids"]
    assert note == "carol-1"
    assert call(b, "get", {"id": "carol-1"})[1]["record"]["text"] == "Carol bakes bread."
    updated = call(b, "update", {"id": "carol-1", "text": "Carol bakes rye bread."})[1]["record"]
    assert updated["version"] == 2
    history = call(a, "get", {"id": "carol-1", "history": True})[1]["history"]
    assert [v["text"] for v in history] == ["Carol bakes bread.", "Carol bakes rye bread."]
    assert {"namespace": ["user-9"], "memories": 1} in call(a, "namespaces", {})[1]["namespaces"]
    listed = call(a, "list", {"namespace": "user-9"})[1]
    assert listed["total"] == 1 and listed["items"][0]["id"] == "carol-1"
    explained = call(a, "explain", {"query": "Who bakes?", "ids": ["carol-1"]})[1]["explanations"]["carol-1"]
    assert explained["rank"] == 1

    bad = [
        ("recall", {"query": "x", "k": 0}, "k must be"),
        ("recall", {"query": "x", "filter": {"a": {"$near": 1}}}, "unknown operator '$near'"),
        ("recall", {"query": "  "}, "query is empty"),
        ("remember", {"texts": ["ok"], "namespace": ["a", ""]}, "empty segment"),
        ("remember", {"texts": ["ok"], "event_time": "yesterday"}, "cannot read 'yesterday' as a time"),
        ("forget", {}, "forget needs ids, a namespace or a non-empty filter"),
        ("get", {"id": "nope"}, "no memory with id 'nope'"),
        ("update", {"id": "carol-1"}, "update needs a new text"),
        # the SDK's schemas are strict and its errors one line; a misspelt argument is refused
        ("recall", {"query": "x", "k": 2.5}, "recall: argument 'k' is 2.5; pass an integer"),
        ("recall", {"query": "x", "k": "3"}, "recall: argument 'k' is \"3\"; pass an integer"),
        ("remember", {"texts": "t", "event_time": True}, "argument 'event_time' is true; pass a string or an integer"),
        ("remember", {"texts": "t", "event_time": 10**400}, "is outside years 1-9999 UTC"),
        ("remember", {"texts": "t", "namespaces": ["user-9"]}, "remember has no argument 'namespaces'; its arguments"),
    ]
    for tool, arguments, message in bad:
        failed, text = call(a, tool, arguments)
        assert failed and message in text, (tool, arguments, text)
        assert "\n" not in text.strip() and "Traceback" not in text
    # Still serving, nothing half-written.
    assert call(a, "list", {"namespace": "user-9"})[1]["total"] == 1
    assert call(a, "forget", {"ids": ["carol-1", "nope"]})[1] == {"forgotten": 1, "not_found": ["nope"]}
    # MCP takes what the HTTP API takes: a ttl on remember, a filter on explain
    (short,) = call(a, "remember", {"texts": "A short-lived note.", "namespace": "user-ttl", "ttl": 3600})[1]["ids"]
    assert call(a, "get", {"id": short})[1]["record"]["expires_at"] is not None
    failed, text = call(a, "explain", {"query": "note", "ids": [short], "filter": {"speaker": "nobody"}})
    assert failed and f"no memory with id {short!r} matching that filter" in text
    assert call(a, "forget", {"namespace": "user-ttl"})[1]["forgotten"] == 1


def test_resources_address_a_memory_and_a_namespace(two_servers):
    _, a, _ = two_servers
    (i,) = call(a, "remember", {"texts": "Dana runs marathons.", "namespace": ["team", "a/b"]})[1]["ids"]

    async def go():
        async with Client(a + "/mcp") as client:
            templates = {t.uri_template for t in (await client.list_resource_templates()).resource_templates}
            memory = json.loads((await client.read_resource(f"agentmem://memory/{i}")).contents[0].text)
            space = json.loads((await client.read_resource("agentmem://namespace/team")).contents[0].text)
            spaces = json.loads((await client.read_resource("agentmem://namespaces")).contents[0].text)
            return templates, memory, space, spaces

    templates, memory, space, spaces = anyio.run(go)
    assert templates == {"agentmem://memory/{id}", "agentmem://namespace/{+namespace}"}
    assert memory["record"]["text"] == "Dana runs marathons." and len(memory["history"]) == 1
    assert [r["id"] for r in space["items"]] == [i]
    assert {"namespace": ["team", "a/b"], "memories": 1} in spaces["namespaces"]


def test_a_stdio_server_on_the_same_store_sees_what_the_http_servers_wrote(two_servers):
    store, a, _ = two_servers
    (i,) = call(a, "remember", {"texts": "Erin collects stamps from Chile.", "namespace": "user-5"})[1]["ids"]
    params = StdioServerParameters(command=sys.executable, args=["-m", "agentmem", "--store", str(store), "mcp"], env=ENV)

    async def go():
        async with Client(params) as client:
            names = {t.name for t in (await client.list_tools()).tools}
            found = await client.call_tool("recall", {"query": "What does Erin collect?", "k": 1, "namespace": "user-5"})
            return names, found.structured_content

    names, found = anyio.run(go)
    assert names == {"remember", "recall", "get", "update", "forget", "list", "namespaces", "explain"}
    assert found["results"][0]["id"] == i


def test_the_cli_goes_through_a_running_server(two_servers):
    store, a, b = two_servers
    added = cli("add", "Frank sails a blue boat.", "-n", "user-11", server_url=a)
    assert added.returncode == 0, added.stderr
    (i,) = added.stdout.split()
    got = cli("recall", "Who sails?", "-k", "1", "-n", "user-11", "--json", server_url=b)
    assert got.returncode == 0, got.stderr
    assert json.loads(got.stdout)["results"][0]["id"] == i
    shown = cli("show", i[:8], "--json", server_url=a)
    assert json.loads(shown.stdout)["record"]["id"] == i
    assert cli("update", i[:10], "Frank sails a red boat.", server_url=b).returncode == 0
    assert json.loads(cli("show", i, "--json", server_url=a).stdout)["record"]["version"] == 2
    # The same store named explicitly is fine; another one is refused.
    assert cli("--store", str(store), "stats", "--json", server_url=a).returncode == 0
    other = cli("--store", str(store.parent / "elsewhere"), "stats", server_url=a)
    assert other.returncode == 1 and "holds the store" in other.stderr
    # Bad input fails with the library's one line; a namespace that holds nothing warns.
    bad = cli("recall", "x", "--filter", '{"a": {"$bad": 1}}', server_url=a)
    assert bad.returncode == 1 and bad.stderr.count("\n") == 1 and "unknown operator" in bad.stderr
    missing = cli("recall", "sails", "-n", "user-12", server_url=a)
    assert missing.returncode == 0 and "namespace user-12 holds no memories; did you mean user-11" in missing.stderr
    assert cli("forget", i[:8], "--json", server_url=b).stdout.count('"forgotten": 1') == 1
    gone = cli("recall", "x", server_url="http://127.0.0.1:9")
    assert gone.returncode == 1 and "no agentmem server answers at http://127.0.0.1:9" in gone.stderr


def test_the_http_api_answers_json_errors(two_servers):
    _, a, _ = two_servers
    info = json.loads(urllib.request.urlopen(a + "/v1").read())["result"]
    assert info["scope"] == [] and "recall" in info["operations"]
    request = urllib.request.Request(a + "/v1/recall", data=b'{"query": "x", "bogus": 1}', method="POST")
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(request)
    assert e.value.code == 400
    assert json.loads(e.value.read())["error"] == {
        "type": "InvalidInputError",
        "message": "recall has no argument 'bogus'; its arguments are query, k, namespace, filter",
    }
    for body, status, kind in [
        (b"{not json", 400, "InvalidInputError"),
        (b'{"texts": ["' + b"x" * (65 << 20) + b'"]}', 400, "InputTooLargeError"),
        (json.dumps({"texts": ["tea"] * 1_001}).encode(), 400, "InputTooLargeError"),
        (b"{}", 404, "NotFoundError"),
    ]:
        operation = "drop" if status == 404 else "remember"
        request = urllib.request.Request(f"{a}/v1/{operation}", data=body, method="POST")
        with pytest.raises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(request)
        assert e.value.code == status and json.loads(e.value.read())["error"]["type"] == kind
    # a request no route takes gets the same one-line JSON error
    for path, method, status, words in [
        ("/v1/recall", "GET", 405, "/v1/recall does not take GET; use POST /v1/<operation>"),
        ("/v1/recall/extra", "POST", 404, "no route POST /v1/recall/extra; use POST /v1/<operation>"),
        ("/", "GET", 404, "no route GET /; use"),
        # a trailing slash is answered, not redirected: a redirect has no JSON body
        ("/v1/", "POST", 404, "no route POST /v1/; paths take no trailing slash: /v1"),
        ("/v1/", "GET", 404, "no route GET /v1/; paths take no trailing slash: /v1"),
        ("/v1/recall/", "POST", 404, "no route POST /v1/recall/; paths take no trailing slash: /v1/recall"),
        ("/mcp/", "POST", 404, "no route POST /mcp/; paths take no trailing slash: /mcp"),
        ("/nowhere/", "POST", 404, "no route POST /nowhere/; use POST /v1/<operation>"),
    ]:
        with pytest.raises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(urllib.request.Request(a + path, data=b"{}" if method == "POST" else None, method=method))
        assert e.value.code == status and words in json.loads(e.value.read())["error"]["message"]


def test_a_token_guards_the_server_and_scope_confines_it(tmp_path):
    store = tmp_path / "store"
    with server(store, "--token", "s3cret", "--scope", "user-1") as url:
        refused = cli("recall", "x", server_url=url)
        assert refused.returncode == 1 and "needs its token" in refused.stderr
        ok = cli("add", "Gina knits.", "-n", "notes", server_url=url, AGENTMEM_SERVER_TOKEN="s3cret")
        assert ok.returncode == 0, ok.stderr
        stats = json.loads(cli("stats", "--json", server_url=url, AGENTMEM_SERVER_TOKEN="s3cret").stdout)
        assert stats["namespaces"] == [{"namespace": ["notes"], "memories": 1}] and "path" not in stats
        # an id held outside the scope is refused without naming where it is held
        row = json.dumps({"text": "Hal's secret.", "namespace": "user-2/private", "id": "secret-1"})
        assert cli("--store", str(store), "add", "--jsonl", "-", input=row + "\n").returncode == 0
        body = json.dumps({"texts": ["Gina purls."], "ids": ["secret-1"]}).encode()
        request = urllib.request.Request(
            url + "/v1/remember", data=body, method="POST", headers={"Authorization": "Bearer s3cret"}
        )
        with pytest.raises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(request)
        assert e.value.code == 400 and json.loads(e.value.read())["error"] == {
            "type": "IdInUseError",
            "message": "id 'secret-1' is taken by a memory in another namespace; choose another id",
        }
    local = json.loads(cli("--store", str(store), "stats", "--json").stdout)
    assert local["namespaces"] == [
        {"namespace": ["user-1", "notes"], "memories": 1},
        {"namespace": ["user-2", "private"], "memories": 1},
    ]


def test_serving_beyond_loopback_without_a_token_is_refused_before_anything_loads(tmp_path):
    start = time.monotonic()
    out = cli("--store", str(tmp_path / "s"), "serve", "--host", "0.0.0.0")
    assert out.returncode == 1 and "opens the memory to the network; give a token" in out.stderr
    assert out.stderr.count("\n") == 1 and not (tmp_path / "s").exists()
    assert time.monotonic() - start < 30  # no model was loaded (a load alone takes longer on a busy machine)
