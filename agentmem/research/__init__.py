"""The research half of agentmem: the memory-augmented networks whose mechanics the agent memory reuses.

- `addressing`: NTM / DNC / SAM addressing as pure, batched, differentiable tensor functions.
- `models`: an LSTM controller wired to an NTM, DNC or SAM memory core, or to none (the LSTM baseline).
- `tasks`: copy, repeat copy, associative recall, priority sort and bAbI QA, with the papers' settings.
- `trainer`: the training loop and curriculum for those tasks (`agentmem train task`).

They prove the memory mechanics right on the papers' own tasks; the agent controller
(`agentmem.controller`) shares `addressing` with them.
"""
