"""Linking turns to the interview guide's questions, by meaning.

Each interviewer turn is compared with every guide question (sentence embeddings, cosine
similarity). It is linked to the closest one only when that link is clear:

- the similarity reaches a floor, so small talk stays unlinked;
- the closest question leads the second closest by a margin, so a follow-up that sits between
  two questions is not given either by a coin flip;
- the closest question stays the closest when the study's topic words (those of the
  codebook's name) are left out of both texts. Every question of a guide on onboarding is
  about onboarding, so a turn such as "What does onboarding look like on your team?" sharing
  that one word with "If you could change one thing about onboarding…" says nothing about
  which question was asked.

A respondent turn answers the nearest preceding interviewer turn; short interviewer turns that
link to nothing ("Yes", "Mm, go on") are passed over, so the answer keeps the question asked
before them.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Callable, Sequence

import numpy as np

BACKCHANNEL_WORDS = 4
TOPIC_WORD_LETTERS = 4  # shorter words of the codebook's name ("of", "in", "B2B") are kept
WORD_RE = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")

Encode = Callable[[Sequence[str]], np.ndarray]


def _stem(word: str) -> str:
    """A word without its inflection, so "onboarded" and "engineers" match "onboarding" and
    "engineer"."""
    word = word.lower()
    for suffix in ("ing", "ed", "es", "s"):
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            return word[:-len(suffix)]
    return word


def topic_words(name: str) -> frozenset[str]:
    """The study's topic words: stems of the words of the codebook's name."""
    return frozenset(_stem(w) for w in WORD_RE.findall(name) if len(w) >= TOPIC_WORD_LETTERS)


def without_topic(text: str, topic: frozenset[str]) -> str:
    """``text`` with the topic words left out (unchanged when nothing else would be left)."""
    rest = WORD_RE.sub(lambda m: "" if _stem(m.group()) in topic else m.group(), text)
    return rest if WORD_RE.search(rest) else text


def link_questions(turns: list, guide: Sequence, encode: Encode, floor: float,
                   margin: float = 0.0, topic: frozenset[str] = frozenset()) -> list:
    """Return ``turns`` with ``question_id`` set from the guide where one fits clearly.

    Args:
        turns: :class:`~qualcx.transcribe.Turn` records of one interview, in order. Turns that
            already carry a ``question_id`` (wide tables link by column) keep it.
        guide: objects with ``id`` and ``text`` (the codebook's guide questions).
        encode: texts to L2-normalised vectors (an :class:`~qualcx.nlp.Embedder`'s ``encode``).
        floor: least cosine similarity for a link.
        margin: least lead of the closest question's similarity over the second closest's.
        topic: :func:`topic_words` that alone must not decide the link.
    """
    if not guide:
        return turns
    asked = [i for i, t in enumerate(turns) if t.role == "interviewer" and t.question_id is None]
    links: dict[int, str | None] = {i: turns[i].question_id for i, t in enumerate(turns)
                                    if t.role == "interviewer"}
    if asked:
        sims = _similarities([turns[i].text for i in asked], [q.text for q in guide], encode)
        if topic:
            rest = _similarities([without_topic(turns[i].text, topic) for i in asked],
                                 [without_topic(q.text, topic) for q in guide], encode)
        for row, i in enumerate(asked):
            order = np.argsort(-sims[row], kind="stable")
            best = int(order[0])
            lead = float(sims[row, best] - sims[row, order[1]]) if len(guide) > 1 else 1.0
            clear = (float(sims[row, best]) >= floor and lead >= margin
                     and (not topic or int(np.argmax(rest[row])) == best))
            links[i] = guide[best].id if clear else None
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


def _similarities(texts: list[str], questions: list[str], encode: Encode) -> np.ndarray:
    """Cosine similarity of each text (rows) with each question (columns)."""
    vectors = encode(texts + questions)
    return vectors[:len(texts)] @ vectors[len(texts):].T
