"""Tiny fixtures in each dataset's format, written by the tests (no benchmark data in the repository),
and a fake encoder so most tests never load a model."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

LOCOMO = [
    {
        "sample_id": "conv-a",
        "conversation": {
            "speaker_a": "Ann",
            "speaker_b": "Bo",
            "session_1_date_time": "1:56 pm on 8 May, 2023",
            "session_1": [
                {"speaker": "Ann", "dia_id": "D1:1", "text": "I adopted a puppy named Rex."},
                {"speaker": "Bo", "dia_id": "D1:2", "text": "Lovely! I started learning the violin."},
                {"speaker": "Ann", "dia_id": "D1:3", "text": "My sister lives in Porto.",
                 "img_url": ["http://x"], "blip_caption": "a photo of a bridge"},
            ],
            "session_2_date_time": "10:00 am on 20 June, 2023",
            "session_2": [
                {"speaker": "Bo", "dia_id": "D2:1", "text": "The violin recital went well."},
                {"speaker": "Ann", "dia_id": "D2:2", "text": "Rex chewed my shoes again."},
            ],
            # a date without a session: a known fault of the released file
            "session_3_date_time": "9:00 am on 1 July, 2023",
        },
        "qa": [
            {"question": "What is the name of Ann's puppy?", "answer": "Rex", "evidence": ["D1:1"], "category": 4},
            {"question": "What instrument does Bo play?", "answer": "violin",
             "evidence": ["D1:2; D2:1"], "category": 1},                        # two ids in one string
            {"question": "Where does Ann's sister live?", "answer": "Porto", "evidence": ["D:1:3"], "category": 2},
            {"question": "When did Bo start the violin?", "answer": "May 2023", "evidence": ["D01:02"],
             "category": 3},                                                     # leading zeros
            {"question": "What did Rex chew?", "answer": "shoes", "evidence": ["D2:2", "D9:9"], "category": 4},
            {"question": "Broken", "answer": "x", "evidence": ["D"], "category": 4},  # unresolvable
            {"question": "Empty", "answer": "x", "evidence": [], "category": 3},
            {"question": "Adversarial?", "adversarial_answer": "no", "evidence": ["D1:1"], "category": 5},
        ],
    }
]

LONGMEMEVAL = [
    {
        "question_id": "q1",
        "question_type": "knowledge-update",
        "question": "What is my personal best in the 5K?",
        "answer": "25:50",
        "question_date": "2023/06/01 (Thu) 00:58",
        "haystack_dates": ["2023/05/25 (Thu) 20:21", "2023/05/27 (Sat) 10:20"],
        "haystack_session_ids": ["s_a", "answer_1"],
        "haystack_sessions": [
            [{"role": "user", "content": "Plan my week of training."},
             {"role": "assistant", "content": "Sure, here is a plan."}],
            [{"role": "user", "content": "I ran the charity 5K in 25:50, a personal best!", "has_answer": True},
             {"role": "assistant", "content": "Congratulations on the new personal best."}],
        ],
        "answer_session_ids": ["answer_1"],
    },
    {
        "question_id": "q2_abs",
        "question_type": "temporal-reasoning",
        "question": "Which came first?",
        "answer": "not enough information",
        "question_date": "2023/06/01 (Thu) 00:58",
        "haystack_dates": ["2023/05/25 (Thu) 20:21"],
        "haystack_session_ids": ["answer_2"],
        "haystack_sessions": [[{"role": "user", "content": "I fixed the fence.", "has_answer": True}]],
        "answer_session_ids": ["answer_2"],
    },
]

BABI = """1 Mary moved to the bathroom.
2 John went to the hallway.
3 Where is Mary? \tbathroom\t1
4 Daniel went back to the hallway.
5 Sandra moved to the garden.
6 Where is Daniel? \thallway\t4
7 Where is John? \thallway\t99
1 Sandra travelled to the office.
2 Where is Sandra? \toffice\t1
"""


@pytest.fixture
def locomo_file(tmp_path: Path) -> Path:
    path = tmp_path / "locomo10.json"
    path.write_text(json.dumps(LOCOMO))
    return path


@pytest.fixture
def longmemeval_file(tmp_path: Path) -> Path:
    path = tmp_path / "longmemeval_s.json"
    path.write_text(json.dumps(LONGMEMEVAL))
    return path


@pytest.fixture
def babi_dir(tmp_path: Path) -> Path:
    (tmp_path / "babi").mkdir()
    (tmp_path / "babi" / "qa1_single-supporting-fact_test.txt").write_text(BABI)
    (tmp_path / "babi" / "qa1_single-supporting-fact_train.txt").write_text(BABI.split("1 Sandra")[0])
    return tmp_path / "babi"


def hashed_bag_of_words(texts: list[str]) -> np.ndarray:
    """A deterministic stand-in encoder: 64-d hashed bag of lower-cased words."""
    out = np.zeros((len(texts), 64), dtype=np.float32)
    for i, text in enumerate(texts):
        for word in text.lower().replace("?", " ").replace(".", " ").replace(":", " ").split():
            out[i, int(hashlib.md5(word.encode()).hexdigest(), 16) % 64] += 1.0
    return out


@pytest.fixture(scope="session")
def fake_encoder():
    from agentmem.encoder import FunctionEncoder

    return FunctionEncoder(hashed_bag_of_words, name="test-hashed-bow", dim=64)


@pytest.fixture(scope="session")
def minilm():
    """The real default encoder, loaded at most once per test session."""
    from agentmem.encoder import resolve_encoder

    encoder = resolve_encoder()
    encoder.encode(["warm up"])
    return encoder
