"""Linking turns to the interview guide's questions, by meaning.

Each interviewer turn is compared with every guide question (sentence embeddings, cosine
similarity); it is linked to the closest one when the similarity reaches a floor, so small
talk stays unlinked. A respondent turn answers the nearest preceding interviewer turn; short
interviewer turns that link to nothing ("Yes", "Mm, go on") are passed over, so the answer
keeps the question asked before them.
"""

from __future__ import annotations

import dataclasses
from typing import Callable, Sequence

import numpy as np

BACKCHANNEL_WORDS = 4

Encode = Callable[[Sequence[str]], np.ndarray]


def link_questions(turns: list, guide: Sequence, encode: Encode, floor: float) -> list:
    """Return ``turns`` with ``question_id`` set from the guide where one fits.

    Args:
        turns: :class:`~qualcx.transcribe.Turn` records of one interview, in order. Turns that
            already carry a ``question_id`` (wide tables link by column) keep it.
        guide: objects with ``id`` and ``text`` (the codebook's guide questions).
        encode: texts to L2-normalised vectors (an :class:`~qualcx.nlp.Embedder`'s ``encode``).
        floor: least cosine similarity for a link.
    """
    if not guide:
        return turns
    asked = [i for i, t in enumerate(turns) if t.role == "interviewer" and t.question_id is None]
    links: dict[int, str | None] = {i: turns[i].question_id for i, t in enumerate(turns)
                                    if t.role == "interviewer"}
    if asked:
        vectors = encode([turns[i].text for i in asked] + [q.text for q in guide])
        sims = vectors[:len(asked)] @ vectors[len(asked):].T
        for row, i in enumerate(asked):
            best = int(np.argmax(sims[row]))
            links[i] = guide[best].id if float(sims[row, best]) >= floor else None
    out = []
    current: str | None = None
    for i, turn in enumerate(turns):
        if turn.role == "interviewer":
            if links.get(i) is not None or len(turn.text.split()) > BACKCHANNEL_WORDS:
                current = links.get(i)
            out.append(dataclasses.replace(turn, question_id=links.get(i)))
        elif turn.question_id is None:
            out.append(dataclasses.replace(turn, question_id=current))
        else:
            out.append(turn)
    return out
