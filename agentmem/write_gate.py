"""The write gate's view of one incoming observation against one stored memory it may supersede.

At write time the learned controller looks at the few stored memories closest to the new observation
(its index top-G in the same namespace, plus earlier observations of the same batch) and asks, for each
pair, whether the new one *supersedes* the old one ("We moved to Denver" after "I live in Austin"). If
so, the old slot is updated in place (its previous version kept in history) instead of a conflicting
copy being appended. The decision is a small network over the pair's features,

    p(update | new, old) = σ(w · h + b),    h = tanh(φ(new, old) U + c)    (U: F x H)

Which features say "same fact" depends on who is talking: in a chat, one speaker's first-person
statements; in an agent's log, one "user" reporting on many named people. That interaction is what
the hidden layer is for; a logistic gate (h = φ: `MemoryControllerConfig.gate_hidden` 0, as in
checkpoints before it) cannot express it. The gate is trained from generators that know which
statement replaces which (`TrainingTurn.supersedes`). The features, all in 0..1:

    cosine    key similarity of the two
    closest   1 when the old memory is the new observation's nearest one among the G weighed
    overlap   Jaccard overlap of their content words (stop words dropped)
    entities  share of the old memory's capitalised words (names, places) that the new one repeats
    speaker   1 when both have the same known speaker
    cue       1 when the new text says something changed ("moved", "now", "anymore", "left", ...)
    subject   share of the old memory's full names ("Ana Silva": lexical.name_phrases) that the new one
              repeats: the same template about someone else shares every other word
    named     1 when the old memory names someone by full name. With `subject` it tells "names no one"
              (a chat's "I live in Austin", where 0 shared names says nothing) from "names someone
              else" ("Nikhil Kim lives in Cusco" is not replaced by "Viktor Kim has moved to Cusco")

Besides its G closest memories, a write is weighed against the G closest of those naming someone it
names: in an agent's log, a person's old statement is often farther by key than the same template
about other people ("X has moved from Oslo to Lima" is closer to "Y lives in Lima" than to "X lives in
Oslo").
"""

from __future__ import annotations

import numpy as np

from agentmem.text import capitalised, content_words, name_phrases, says_changed, without_speaker

# Appended in the order they were introduced: an older checkpoint's gate weighs the first few.
GATE_FEATURES = ("cosine", "closest", "overlap", "entities", "speaker", "cue", "subject", "named")


def pair_features(
    new_text: str, new_speaker: str, old_text: str, old_speaker: str, cosine: float, best_cosine: float
) -> np.ndarray:
    """φ(new, old) in GATE_FEATURES order, float32 `(F,)`; `best_cosine`: the nearest memory's cosine."""
    new_body, old_body = without_speaker(new_text, new_speaker), without_speaker(old_text, old_speaker)
    a, b = set(content_words(new_body)), set(content_words(old_body))
    overlap = len(a & b) / len(a | b) if a | b else 0.0
    old_ents, new_ents = capitalised(old_body), capitalised(new_body)
    entities = len(old_ents & new_ents) / len(old_ents) if old_ents else 0.0
    same = float(bool(new_speaker) and new_speaker == old_speaker)
    cue = float(says_changed(new_body))
    closest = float(cosine >= best_cosine - 1e-6)
    old_names = set(name_phrases(old_body))
    subject = len(old_names.intersection(name_phrases(new_body))) / len(old_names) if old_names else 0.0
    named = float(bool(old_names))
    return np.array(
        [max(cosine, 0.0), closest, overlap, entities, same, cue, subject, named], dtype=np.float32
    )
