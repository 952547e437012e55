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
            "session_1_date_time": "3:14 pm on 9 March, 2024",
            "session_1": [
                {"speaker": "Ann", "dia_id": "D1:1", "text": "I adopted a puppy named Rex."},
                {"speaker": "Bo", "dia_id": "D1:2", "text": "Lovely! I started learning the violin."},
                {"speaker": "Ann", "dia_id": "D1:3", "text": "My sister lives in Porto.",
                 "img_url": ["http://x"], "blip_caption": "a photo of a bridge"},
            ],
            "session_2_date_time": "10:05 am on 21 April, 2024",
            "session_2": [
                {"speaker": "Bo", "dia_id": "D2:1", "text": "The violin recital went well."},
                {"speaker": "Ann", "dia_id": "D2:2", "text": "Rex chewed my shoes again."},
            ],
            # a date without a session: a known fault of the released file
            "session_3_date_time": "9:30 am on 2 May, 2024",
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
        "question": "What was my time in the harbour 10K?",
        "answer": "48:12",
        "question_date": "2024/03/01 (Fri) 08:15",
        "haystack_dates": ["2024/02/06 (Tue) 19:05", "2024/02/10 (Sat) 11:40"],
        "haystack_session_ids": ["s_a", "answer_1"],
        "haystack_sessions": [
            [{"role": "user", "content": "Suggest a stretching routine."},
             {"role": "assistant", "content": "Here are five stretches."}],
            [{"role": "user", "content": "I finished the harbour 10K in 48:12, my fastest yet!", "has_answer": True},
             {"role": "assistant", "content": "Well done on the harbour race."}],
        ],
        "answer_session_ids": ["answer_1"],
    },
    {
        "question_id": "q2_abs",
        "question_type": "temporal-reasoning",
        "question": "Which did I do first?",
        "answer": "not enough information",
        "question_date": "2024/03/01 (Fri) 08:15",
        "haystack_dates": ["2024/02/06 (Tue) 19:05"],
        "haystack_session_ids": ["answer_2"],
        "haystack_sessions": [[{"role": "user", "content": "I repainted the shed.", "has_answer": True}]],
        "answer_session_ids": ["answer_2"],
    },
]

BABI = """1 Zara walked to the pantry.
2 Omar ran to the cellar.
3 Where is Zara? \tpantry\t1
4 Lio hopped to the cellar.
5 Pim strolled to the attic.
6 Where is Lio? \tcellar\t4
7 Where is Omar? \tcellar\t99
1 Pim drove to the studio.
2 Where is Pim? \tstudio\t1
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
    (tmp_path / "babi" / "qa1_single-supporting-fact_train.txt").write_text(BABI.split("1 Pim drove")[0])
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
