"""Malformed benchmark input: every loader raises InvalidInputError with one line that names the file,
the place in it, the field, and the fix; `agentmem eval` prints that line and no traceback."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from agentmem.episodes import (
    BabiConfig,
    DialogueConfig,
    SyntheticConfig,
    generate,
    generate_dialogue,
    load_babi,
    load_locomo,
    load_longmemeval,
)
from agentmem.errors import InvalidInputError

FIXTURES = Path(__file__).parent / "fixtures"
AGENTMEM = str(Path(sys.executable).with_name("agentmem"))


def raised(load: Callable[[Path], Any], path: Path) -> str:
    """The message `load(path)` fails with, checked to be one line naming the file."""
    with pytest.raises(InvalidInputError) as info:
        load(path)
    message = str(info.value)
    assert "\n" not in message
    assert str(path) in message
    assert "; give " in message  # the fix
    return message


def write_json(path: Path, data: Any) -> Path:
    path.write_text(json.dumps(data))
    return path


# -- file-level faults, the same for the JSON formats ---------------------------------------------------

FILE_FAULTS = {
    "not JSON": (b'[{"sample_id": "conv-a",', "is not valid JSON (line 1, column"),
    "empty": (b"", "is empty"),
    "only whitespace": (b" \n\t\n", "is empty"),
    "bad UTF-8": (b'[{"sample_id": "caf\xe9"}]', "is not UTF-8 text (byte 0xe9 at offset 19)"),
    "an object": (b'{"sample_id": "conv-a"}', "holds an object, expected a list of"),
    "a number": (b"42", "holds a number, expected a list of"),
    "an empty list": (b"[]", "holds an empty list, expected at least one"),
}


@pytest.mark.parametrize("fault", FILE_FAULTS)
@pytest.mark.parametrize(("load", "kind"), [(load_locomo, "LoCoMo"), (load_longmemeval, "LongMemEval")])
def test_json_file_faults(tmp_path, load, kind, fault):
    data, expected = FILE_FAULTS[fault]
    path = tmp_path / "bad.json"
    path.write_bytes(data)
    message = raised(load, path)
    assert message.startswith(f"{kind} file {path}: ")
    assert expected in message


@pytest.mark.parametrize(("load", "kind"), [(load_locomo, "LoCoMo"), (load_longmemeval, "LongMemEval"),
                                            (load_babi, "bAbI")])
def test_a_missing_path(tmp_path, load, kind):
    path = tmp_path / "nowhere.json"
    assert raised(load, path).startswith(f"{kind} file {path}: does not exist; give ")


def test_a_byte_order_mark_is_read(tmp_path, locomo_file):
    path = tmp_path / "bom.json"
    path.write_bytes(b"\xef\xbb\xbf" + locomo_file.read_bytes())
    assert load_locomo(path).n_items == load_locomo(locomo_file).n_items


# -- LoCoMo --------------------------------------------------------------------------------------------

def _locomo() -> list[dict[str, Any]]:
    return json.loads((FIXTURES / "locomo10.json").read_text())


def _del(*keys: Any) -> Callable[[Any], None]:
    def edit(data: Any) -> None:
        for key in keys[:-1]:
            data = data[key]
        del data[keys[-1]]
    return edit


def _set(*keys: Any, value: Any) -> Callable[[Any], None]:
    def edit(data: Any) -> None:
        for key in keys[:-1]:
            data = data[key]
        data[keys[-1]] = value
    return edit


SAMPLE = 'sample 1 ("conv-a")'
LOCOMO_FAULTS = {
    "sample not an object": (_set(0, value=["conv-a"]), 'sample 1: is a list, expected an object'),
    "no sample_id": (_del(0, "sample_id"), 'sample 1: field "sample_id" is missing'),
    "sample_id an object": (_set(0, "sample_id", value={}), 'sample 1: field "sample_id" is an object, expected'),
    "no conversation": (_del(0, "conversation"), f'{SAMPLE}: field "conversation" is missing'),
    "conversation a list": (_set(0, "conversation", value=[]),
                            f'{SAMPLE}: field "conversation" is a list, expected an object'),
    "session not a list": (_set(0, "conversation", "session_2", value="hi"),
                           f'{SAMPLE}, conversation: field "session_2" is a string, expected a list'),
    "date a number": (_set(0, "conversation", "session_1_date_time", value=2024),
                      f'{SAMPLE}, conversation: field "session_1_date_time" is a number, expected a string'),
    "turn not an object": (_set(0, "conversation", "session_1", 1, value="Bo: hi"),
                           f"{SAMPLE}, session_1 turn 2: is a string, expected an object"),
    "turn without dia_id": (_del(0, "conversation", "session_2", 0, "dia_id"),
                            f'{SAMPLE}, session_2 turn 1: field "dia_id" is missing'),
    "speaker null": (_set(0, "conversation", "session_1", 0, "speaker", value=None),
                     f'{SAMPLE}, session_1 turn 1: field "speaker" is null, expected a string'),
    "text a list": (_set(0, "conversation", "session_1", 2, "text", value=["a"]),
                    f'{SAMPLE}, session_1 turn 3: field "text" is a list, expected a string'),
    "qa an object": (_set(0, "qa", value={}), f'{SAMPLE}: field "qa" is an object, expected a list'),
    "qa item a string": (_set(0, "qa", 2, value="Where?"), f"{SAMPLE}, qa item 3: is a string, expected an object"),
    "category a word": (_set(0, "qa", 0, "category", value="single-hop"),
                        f'{SAMPLE}, qa item 1: field "category" is "single-hop", expected a category number'),
    "evidence a string": (_set(0, "qa", 0, "evidence", value="D1:1"),
                          f'{SAMPLE}, qa item 1: field "evidence" is a string, expected a list of dia_ids'),
    "no question": (_del(0, "qa", 4, "question"), f'{SAMPLE}, qa item 5: field "question" is missing'),
}


@pytest.mark.parametrize("fault", LOCOMO_FAULTS)
def test_locomo_field_faults(tmp_path, fault):
    edit, expected = LOCOMO_FAULTS[fault]
    data = _locomo()
    edit(data)
    path = write_json(tmp_path / "bad.json", data)
    message = raised(load_locomo, path)
    assert message.startswith(f"LoCoMo file {path}: {expected}")
    assert message.endswith('; give the LoCoMo JSON (a list of samples with "sample_id", "conversation" and "qa")')


def test_locomo_captions_are_checked_only_when_used(tmp_path):
    from agentmem.episodes import LocomoConfig

    data = _locomo()
    data[0]["conversation"]["session_1"][2]["blip_caption"] = 7
    path = write_json(tmp_path / "caption.json", data)
    assert load_locomo(path).n_items == 5
    assert 'field "blip_caption" is a number' in raised(lambda p: load_locomo(p, LocomoConfig(captions=True)), path)


def test_locomo_directory_needs_exactly_one_json(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    assert raised(load_locomo, empty) == (
        f"LoCoMo directory {empty}: holds 0 .json files, expected one; give the LoCoMo .json file itself, "
        "or a directory holding only it")
    two = tmp_path / "two"
    two.mkdir()
    for name in ("a.json", "b.json"):
        write_json(two / name, _locomo())
    assert "holds 2 .json files, expected one" in raised(load_locomo, two)
    (two / "b.json").unlink()
    (two / "a.json").write_text("[1]")  # the file in the directory is named, not the directory
    assert raised(load_locomo, two).startswith(f"LoCoMo file {two / 'a.json'}: sample 1: is a number")


# -- LongMemEval ---------------------------------------------------------------------------------------

def _longmemeval() -> list[dict[str, Any]]:
    return json.loads((FIXTURES / "longmemeval_s.json").read_text())


ITEM = 'item 1 ("q1")'
LONGMEMEVAL_FAULTS = {
    "item a list": (_set(0, value=[]), "item 1: is a list, expected an object"),
    "no question_id": (_del(0, "question_id"), 'item 1: field "question_id" is missing'),
    "no haystack_sessions": (_del(0, "haystack_sessions"), f'{ITEM}: field "haystack_sessions" is missing'),
    "session ids a string": (_set(0, "haystack_session_ids", value="s_a"),
                             f'{ITEM}: field "haystack_session_ids" is a string, expected a list'),
    "fewer session ids": (_set(0, "haystack_session_ids", value=["s_a"]),
                          f'{ITEM}: field "haystack_session_ids" has 1 entry but "haystack_sessions" has 2'),
    "more dates": (_set(0, "haystack_dates", value=["2024/02/06 (Tue) 19:05"] * 3),
                   f'{ITEM}: field "haystack_dates" has 3 entries but "haystack_sessions" has 2'),
    "date a number": (_set(0, "haystack_dates", 1, value=20240210),
                      f'{ITEM}, haystack session 2: its "haystack_dates" entry is a number, expected a string'),
    "session an object": (_set(0, "haystack_sessions", 0, value={}),
                          f"{ITEM}, haystack session 1: is an object, expected a list of turns"),
    "turn a string": (_set(0, "haystack_sessions", 1, 1, value="hi"),
                      f"{ITEM}, haystack session 2 turn 2: is a string, expected an object"),
    "no role": (_del(0, "haystack_sessions", 0, 0, "role"),
                f'{ITEM}, haystack session 1 turn 1: field "role" is missing'),
    "content a number": (_set(0, "haystack_sessions", 1, 0, "content", value=4812),
                         f'{ITEM}, haystack session 2 turn 1: field "content" is a number, expected a string'),
    "no question": (_del(0, "question"), f'{ITEM}: field "question" is missing'),
    "question_date a list": (_set(0, "question_date", value=[]),
                             f'{ITEM}: field "question_date" is a list, expected a string'),
    "answer_session_ids a string": (_set(0, "answer_session_ids", value="answer_1"),
                                    f'{ITEM}: field "answer_session_ids" is a string, expected a list'),
}


@pytest.mark.parametrize("fault", LONGMEMEVAL_FAULTS)
def test_longmemeval_field_faults(tmp_path, fault):
    edit, expected = LONGMEMEVAL_FAULTS[fault]
    data = _longmemeval()
    edit(data)
    path = write_json(tmp_path / "bad.json", data)
    assert raised(load_longmemeval, path).startswith(f"LongMemEval file {path}: {expected}; give a LongMemEval ")


def test_longmemeval_directory(tmp_path):
    assert "holds no .json files" in raised(load_longmemeval, tmp_path)
    write_json(tmp_path / "a.json", _longmemeval())
    broken = copy.deepcopy(_longmemeval())
    del broken[0]["question"]
    write_json(tmp_path / "b.json", broken)
    assert raised(load_longmemeval, tmp_path).startswith(f"LongMemEval file {tmp_path / 'b.json'}: {ITEM}: ")


# -- bAbI ----------------------------------------------------------------------------------------------

BABI_FIX = '; give bAbI v1.2 text: "ID sentence" lines'


@pytest.mark.parametrize(("text", "expected"), [
    (b"1 Mary went home.\nMary went to the garden.\n", 'line 2: does not start with a line number ID ("Mary'),
    (b"1 Mary went home.\n\n2 Where is Mary?\thome\t1\n-3 x\n", 'line 4: does not start with a line number ID ("-3 x")'),
    (b"\n\n", "is empty"),
    (b"1 Caf\xe9 time.\n", "is not UTF-8 text (byte 0xe9 at offset 5)"),
])
def test_babi_file_faults(tmp_path, text, expected):
    path = tmp_path / "qa1_single-supporting-fact_test.txt"
    path.write_bytes(text)
    message = raised(load_babi, path)
    assert message.startswith(f"bAbI file {path}: {expected}")
    assert BABI_FIX in message


def test_babi_directory_faults(tmp_path, babi_dir):
    empty = tmp_path / "empty"
    empty.mkdir()
    assert raised(load_babi, empty).startswith(f"bAbI directory {empty}: holds no test files (qaN_<name>_test.txt)")
    message = raised(lambda p: load_babi(p, BabiConfig(tasks=(2, 3))), babi_dir)
    assert message.startswith(f"bAbI directory {babi_dir}: holds no test files of tasks 2, 3")
    (babi_dir / "qa1_single-supporting-fact_test.txt").write_text("one Mary went home.\n")
    assert raised(load_babi, babi_dir).startswith(
        f"bAbI file {babi_dir / 'qa1_single-supporting-fact_test.txt'}: line 1: ")


# -- generators ----------------------------------------------------------------------------------------

def test_generator_settings_out_of_range():
    with pytest.raises(InvalidInputError, match=r"synthetic episodes must be from 1 to .* \(100\), got 101"):
        generate(SyntheticConfig(observations=100, episodes=101))
    with pytest.raises(InvalidInputError, match="dialogue needs at least one episode and one session"):
        generate_dialogue(DialogueConfig(sessions=0))


# -- the command line ----------------------------------------------------------------------------------

def test_eval_prints_one_error_line_and_no_traceback(tmp_path):
    data = _locomo()
    del data[0]["conversation"]
    bad = write_json(tmp_path / "bad.json", data)
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONIOENCODING": "utf-8"}
    result = subprocess.run([AGENTMEM, "eval", "locomo", "--data", str(bad), "--quiet", "--out",
                             str(tmp_path / "r.json")], capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert result.stderr.splitlines() == [
        f'error: LoCoMo file {bad}: {SAMPLE}: field "conversation" is missing; give the LoCoMo JSON (a list of '
        'samples with "sample_id", "conversation" and "qa")']
    assert not (tmp_path / "r.json").exists()
