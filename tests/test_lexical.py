"""LexicalIndex: hand-computed BM25, tokens, incremental upkeep against a rebuild, persistence, and the
schema-1 store (FTS5) it replaces."""

from __future__ import annotations

import logging
import sqlite3

import numpy as np
import pytest

from agentmem.storage.base import NewSlot
from agentmem.storage.local.lexical import LEXICAL_FILE, VERSION_SEPARATOR, LexicalConfig, LexicalIndex
from agentmem.storage.local.sqlite import SlotStore
from agentmem.text import name_phrases

DOCS = ["kayak river", "mountain hike", "city walk", "lake swim", "kayak kayak on the lake today"]


def _index(docs=DOCS, config=None) -> LexicalIndex:
    idx = LexicalIndex(config)
    idx.add(list(range(1, len(docs) + 1)), docs)
    return idx


def test_bm25_matches_hand_computed_values():
    # N = 5, n(kayak) = 2: idf = ln((5 - 2 + 0.5) / (2 + 0.5)) = ln 1.4 = 0.336472.
    # |D| counts stop words too: 2, 2, 2, 2, 6 tokens, avgdl = 14 / 5 = 2.8.
    # slot 1: tf 1, |D| 2: 0.336472 * 2.2 / (1 + 1.2 * (0.25 + 0.75 * 2 / 2.8)) = 0.381004
    # slot 5: tf 2, |D| 6: 0.336472 * 2.2 * 2 / (2 + 1.2 * (0.25 + 0.75 * 6 / 2.8)) = 0.350108
    hits = _index().search("kayak", 10)
    assert [s for s, _ in hits] == [1, 5]
    assert [b for _, b in hits] == pytest.approx([0.381004, 0.350108], abs=1e-5)


def test_a_term_in_most_memories_still_counts_a_little():
    # n(kayak) = 2 of N = 3: ln(1.5 / 2.5) < 0 is floored at 1e-6, as FTS5 does, so the match is kept.
    hits = _index(DOCS[:2] + DOCS[4:]).search("kayak", 10)
    assert {s for s, _ in hits} == {1, 3} and all(0 < b < 1e-5 for _, b in hits)


def test_tokens_are_stemmed_folded_and_stop_words_dropped():
    idx = _index(["Ana works at Malmö Hospital", "Ben is working from home"])
    assert [s for s, _ in idx.search("who WORKED in malmo", 10)] == [1, 2]  # work ~ works ~ working
    assert idx.search("malmo", 10)[0][0] == 1
    assert idx.search("the of and", 10) == []  # only stop words
    assert idx.search("zebra", 10) == []


def test_names_are_phrase_terms():
    assert name_phrases("Which city does Yusuf Fischer live in?") == [
        "yusuf fischer"
    ]  # "Which" is a stop word
    assert name_phrases("Élodie Durand met Ana Silva's sister in New York City.") == [
        "elodie durand",
        "ana silva",
        "new york",
        "york city",
    ]
    assert name_phrases("I met Ana. Silva called.") == []  # a full stop ends a name
    idx = _index(
        ["Omar Fischer lives in Cusco.", "Yusuf Fischer has moved to Krakow.", "Yusuf Sato lives in Lima."]
    )
    assert idx.terms("Which city does Yusuf Fischer live in?") == [
        "citi",
        "yusuf",
        "fischer",
        "live",
        "yusuf fischer",
    ]
    # Word for word, Omar Fischer's and Yusuf Sato's "lives in" matches as much as Yusuf Fischer's name;
    # the name phrase (idf ln(2.5 / 1.5)) puts the memory that names him first.
    assert [s for s, _ in idx.search("Which city does Yusuf Fischer live in?", 3)][0] == 2


def test_naming_finds_the_live_memories_that_share_a_full_name_with_the_text():
    idx = _index(
        [
            "Omar Fischer lives in Cusco.",
            "Yusuf Fischer has moved to Krakow.",
            "Call Yusuf Fischer and Ana Silva.",
            "Ana Silva drives a Fiat.",
            "Yusuf lives in Lima.",
        ]
    )
    assert idx.naming(name_phrases("Which city does Yusuf Fischer live in?")).tolist() == [2, 3]  # slots are i + 1
    assert idx.naming(name_phrases("Does Ana Silva know Yusuf Fischer?")).tolist() == [2, 3, 4]
    assert idx.naming(name_phrases("where does yusuf live?")).tolist() == []  # no full name, no one named
    idx.remove([3])
    assert idx.naming(name_phrases("Which city does Yusuf Fischer live in?")).tolist() == [2]  # the live ones only


def test_allowed_restricts_the_search():
    assert [s for s, _ in _index().search("kayak", 10, allowed=[5, 3])] == [5]


def test_incremental_upkeep_matches_a_rebuild_across_merges():
    rng = np.random.default_rng(0)
    words = ["alpha", "beta", "gamma", "delta", "kayak", "river", "lake", "swim", "walk", "city", "hike"]
    live: dict[int, str] = {}
    idx = LexicalIndex(LexicalConfig(merge_min=8, merge_share=0.05))  # merges many times
    for _ in range(300):
        slot = int(rng.integers(1, 60))
        if rng.random() < 0.3 and slot in live:
            idx.remove([slot])
            del live[slot]
        else:
            text = " ".join(rng.choice(words, size=int(rng.integers(1, 8))))
            idx.add([slot], [text])  # a present slot is replaced, as an update does
            live[slot] = text
    fresh = _index(list(live.values()))
    fresh_slot = dict(enumerate(live, start=1))
    for q in ("kayak lake", "alpha", "mountain city walk", "beta beta gamma"):
        got = idx.search(q, 100)
        want = [(fresh_slot[s], b) for s, b in fresh.search(q, 100)]
        assert dict(got) == pytest.approx(dict(want), rel=1e-5)
    assert idx.size == len(live)


def _store(tmp_path, texts):
    store = SlotStore(tmp_path / "s")
    with store.transaction():
        slots = store.insert(
            [
                NewSlot(f"i{i}", ("n",), t, {}, None, np.eye(4, dtype=np.float32)[0])
                for i, t in enumerate(texts)
            ],
            now=1.0,
        )
    return store, slots


def test_saved_index_catches_up_by_replay_and_a_bad_file_is_rebuilt(tmp_path, caplog):
    store, slots = _store(tmp_path, DOCS)
    LexicalIndex.open(tmp_path / "s", store).save(tmp_path / "s", store.get_meta("store_id"))
    with store.transaction():  # after the save: the file is stale and must be caught up
        store.update(slots[1], text="kayak again", metadata={}, speaker="", event_time=None, vector=np.ones(4), now=2.0)
        store.delete([slots[0]])
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="agentmem"):
        idx = LexicalIndex.open(tmp_path / "s", store)
    assert not caplog.records  # replayed, not rebuilt
    assert {s for s, _ in idx.search("kayak", 10)} == {slots[1], slots[4]}
    (tmp_path / "s" / LEXICAL_FILE).write_bytes(b"garbage")
    with caplog.at_level(logging.WARNING, logger="agentmem"):
        again = LexicalIndex.open(tmp_path / "s", store)
    assert any("rebuilding" in r.getMessage() for r in caplog.records)
    assert dict(again.search("kayak", 10)) == pytest.approx(dict(idx.search("kayak", 10)))
    store.close()


def test_an_updated_memory_is_found_by_the_words_of_the_versions_it_superseded(tmp_path):
    store, slots = _store(tmp_path, ["Ana Silva drives a Fiat", "Ana Silva passed her test"])
    idx = LexicalIndex.open(tmp_path / "s", store)

    def update(text):
        with store.transaction():
            store.update(slots[0], text=text, metadata={}, speaker="", event_time=None, vector=np.ones(4), now=2.0)

    update("Ana Silva sold the Fiat and bought a Dacia")
    update("Ana Silva sold the Fiat and bought a Dacia")  # a metadata edit: the text is not doubled
    _, docs, _ = store.present_documents([slots[0]], VERSION_SEPARATOR)
    assert docs == ["Ana Silva sold the Fiat and bought a Dacia ¶ Ana Silva drives a Fiat"]
    idx.sync(store)
    assert [s for s, _ in idx.search("Who drives?", 10)] == [slots[0]]  # only its first version says so
    assert "dacia ana" not in idx.vocab  # no name phrase across two versions
    fresh = LexicalIndex(LexicalConfig())
    fresh.rebuild(store)
    want = dict(idx.search("Fiat Dacia drives", 10))
    assert dict(fresh.search("Fiat Dacia drives", 10)) == pytest.approx(want)
    store.close()


def test_memory_keeps_its_lexical_index_in_step_with_another_process(tmp_path, encoder):
    from agentmem import Memory

    with Memory(tmp_path / "m", encoder=encoder) as a, Memory(tmp_path / "m", encoder=encoder) as b:
        a.remember("We paddled the kayak down the river.")
        assert [r.text for r in b.recall("kayak", k=1)] == ["We paddled the kayak down the river."]
        b.remember("The blue kayak has a leak.")
        assert {s for s, _ in a.backend.reader().lexical("leak kayak", 5)} == a.backend.lexical.slots()
    assert (tmp_path / "m" / LEXICAL_FILE).exists()  # saved on close, loaded next time
    with Memory(tmp_path / "m", encoder=encoder) as c:
        assert c.backend.lexical.size == 2 and c.backend.reader().lexical("leak", 1)


def test_a_rare_namespace_is_found_past_the_overfetch(tmp_path, encoder):
    from agentmem import Memory

    with Memory(tmp_path / "m", encoder=encoder, controller="cosine") as mem:
        vec = np.eye(encoder.dim, dtype=np.float32)[:1]
        many = 5000
        mem.remember(["kayak trip"] * many, namespace=("crowd",), embeddings=np.repeat(vec, many, 0))
        mem.remember(["kayak lesson"], namespace=("rare",), embeddings=vec)
        hits = mem.backend.reader().lexical("kayak", 1, namespace=("rare",))
        assert len(hits) == 1
        assert mem.backend.store.by_slots([hits[0][0]])[hits[0][0]].text == "kayak lesson"


def test_a_schema_1_store_loses_its_fts5_index_on_open(tmp_path):
    store, _ = _store(tmp_path, ["kayak"])
    store.close()
    conn = sqlite3.connect(tmp_path / "s" / "memory.db")  # what agentmem 0.1 created
    conn.executescript(
        """
        CREATE VIRTUAL TABLE slots_fts USING fts5(text, content='slots', content_rowid='slot');
        CREATE TRIGGER slots_fts_insert AFTER INSERT ON slots BEGIN
            INSERT INTO slots_fts(rowid, text) VALUES (new.slot, new.text);
        END;
        UPDATE meta SET value = '1' WHERE key = 'schema_version';
        """
    )
    conn.close()
    store = SlotStore(tmp_path / "s")
    names = {r[0] for r in store.conn.execute("SELECT name FROM sqlite_master")}
    assert "slots_fts" not in names and "slots_fts_insert" not in names
    assert store.get_meta("schema_version") == "5"
    with store.transaction():  # writes no longer go through the dropped triggers
        store.insert([NewSlot("x", ("n",), "canoe", {}, None, np.ones(4, dtype=np.float32))], now=2.0)
    assert store.count() == 2
    store.close()
