"""Representative quotes for a theme or a code.

A good set of quotes is central to what it illustrates, says different things, comes from
different interviewees and reads as whole sentences. :func:`select_quotes` balances these
with maximal marginal relevance (MMR): each pick maximises

    (1 - diversity) * centrality - diversity * (similarity to the quotes already picked)

among candidates from interviewees not yet quoted; only when every interviewee among the
candidates has been quoted may one be quoted again. Long segments are trimmed by
:func:`trim` to their most central run of whole sentences. Everything is deterministic: ties
go to the earlier candidate.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

MIN_WORDS = 12  # shorter excerpts ("Yes, exactly.") read as fragments
MAX_WORDS = 60  # longer excerpts are trimmed to their most central sentences
FILL_REWARD = 0.15  # ... of the runs of about equal centrality, the one filling the room: one
# sentence cut from its neighbours loses what the speaker goes on to say ("I think people talk
# about customer experience like it's a communication thing." without the "But a lot of it is
# decided in very boring places" that follows)
DIVERSITY = 0.3
SENTENCE_END = re.compile(r"(?<=[.!?…])[\"')\]]*\s+(?=[\"'(\[]?[A-Z0-9])|\n+")


@dataclass(frozen=True)
class Candidate:
    """A segment that may be quoted.

    Attributes:
        key: the caller's id for the segment (e.g. the segment id).
        text: the segment's text.
        interview: the interview it comes from (quotes are spread across these).
        role: the speaker's role, for attribution.
        centrality: how central it is to the theme or code (e.g. cosine to the centroid or
            the code's score); higher is better.
    """

    key: object
    text: str
    interview: str
    role: str
    centrality: float


@dataclass(frozen=True)
class Excerpt:
    """A chosen quote: the candidate, the quoted text and its offsets in the candidate's text."""

    candidate: Candidate
    text: str
    start: int
    end: int
    score: float


def sentences(text: str) -> list[tuple[int, int]]:
    """(start, end) character spans of the sentences of ``text``, whitespace trimmed."""
    spans, start = [], 0
    for match in SENTENCE_END.finditer(text):
        spans.append((start, match.start()))
        start = match.end()
    spans.append((start, len(text)))
    out = []
    for a, b in spans:
        piece = text[a:b]
        a2 = a + len(piece) - len(piece.lstrip())
        b2 = b - (len(piece) - len(piece.rstrip()))
        if b2 > a2:
            out.append((a2, b2))
    return out


def _words(text: str) -> int:
    return len(text.split())


def trim(text: str, max_words: int = MAX_WORDS, sentence_scores: Sequence[float] | None = None
         ) -> tuple[int, int]:
    """The span of the most central run of whole sentences that fits in ``max_words``.

    Args:
        text: the segment's text.
        max_words: the longest excerpt wanted; a single sentence longer than this is kept whole
            rather than cut.
        sentence_scores: one centrality per sentence of :func:`sentences`; without them, the
            opening of the segment is preferred.

    Returns:
        (start, end) character offsets into ``text``.
    """
    spans = sentences(text)
    if not spans:
        return 0, len(text)
    if _words(text) <= max_words or len(spans) == 1:
        return spans[0][0], spans[-1][1]
    scores = list(sentence_scores) if sentence_scores is not None else \
        [-i * 1e-3 for i in range(len(spans))]
    lengths = [_words(text[a:b]) for a, b in spans]
    best, best_span = None, (spans[0][0], spans[0][1])
    for i in range(len(spans)):
        words, total = 0, 0.0
        for j in range(i, len(spans)):
            words += lengths[j]
            if words > max_words and j > i:
                break
            total += scores[j]
            # mean centrality, with a reward for using the room (fuller context)
            value = total / (j - i + 1) + FILL_REWARD * min(words, max_words) / max_words
            if best is None or value > best + 1e-12:
                best, best_span = value, (spans[i][0], spans[j][1])
            if words > max_words:
                break
    return best_span


def lexical_vectors(texts: Sequence[str]) -> np.ndarray:
    """Normalised TF-IDF rows: a similarity space when no embeddings are at hand."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    if not any(t.strip() for t in texts):
        return np.zeros((len(texts), 1))
    try:
        matrix = TfidfVectorizer(stop_words="english", sublinear_tf=True).fit_transform(texts)
    except ValueError:  # only stop words
        return np.zeros((len(texts), 1))
    return matrix.toarray()


def select_quotes(candidates: Sequence[Candidate], n: int, vectors: np.ndarray | None = None,
                  diversity: float = DIVERSITY, min_words: int = MIN_WORDS,
                  max_words: int = MAX_WORDS,
                  embed: Callable[[list[str]], np.ndarray] | None = None) -> list[Excerpt]:
    """Choose up to ``n`` representative, varied quotes spread across interviewees.

    Args:
        candidates: the segments to choose from, any order.
        n: how many quotes.
        vectors: one normalised row per candidate (e.g. sentence embeddings) for the
            similarity between quotes; default: TF-IDF of the texts.
        diversity: weight of being different from the quotes already chosen (0 to 1).
        min_words: candidates shorter than this are used only when nothing else is left.
        max_words: longer candidates are trimmed to their most central whole sentences.
        embed: embeds texts into the space of ``vectors``; when given, long candidates are
            trimmed by their sentences' similarity to the centre of all candidates (otherwise
            by TF-IDF similarity).

    Returns:
        The chosen excerpts, best first.
    """
    if n <= 0 or not candidates:
        return []
    order = sorted(range(len(candidates)), key=lambda i: (-candidates[i].centrality, i))
    vecs = np.asarray(vectors, dtype=float) if vectors is not None else \
        lexical_vectors([c.text for c in candidates])
    chosen: list[int] = []
    used: set[str] = set()
    readable = [_words(c.text) >= min_words for c in candidates]
    while len(chosen) < min(n, len(candidates)):
        pool = [i for i in order if i not in chosen]
        for rule in (lambda i: readable[i] and candidates[i].interview not in used,
                     lambda i: candidates[i].interview not in used,
                     lambda i: readable[i], lambda i: True):
            if any(rule(i) for i in pool):
                pool = [i for i in pool if rule(i)]
                break
        best = max(pool, key=lambda i: (_mmr(i, chosen, candidates, vecs, diversity), -i))
        chosen.append(best)
        used.add(candidates[best].interview)
    return [_excerpt(candidates, i, vecs, max_words, embed) for i in chosen]


def _mmr(i: int, chosen: list[int], candidates, vecs: np.ndarray, diversity: float) -> float:
    redundancy = max((float(vecs[i] @ vecs[j]) for j in chosen), default=0.0)
    return (1 - diversity) * candidates[i].centrality - diversity * redundancy


def _excerpt(candidates, i: int, vecs: np.ndarray, max_words: int, embed) -> Excerpt:
    cand = candidates[i]
    scores = None
    spans = sentences(cand.text)
    if _words(cand.text) > max_words and len(spans) > 1:
        texts = [cand.text[a:b] for a, b in spans]
        if embed is not None:
            centre = vecs.mean(axis=0)
            scores = list(np.asarray(embed(texts)) @ centre)
        else:
            all_texts = [c.text for c in candidates]
            lex = lexical_vectors(all_texts + texts)
            centre = lex[: len(all_texts)].mean(axis=0)
            scores = list(lex[len(all_texts):] @ centre)
    start, end = trim(cand.text, max_words, scores)
    text = re.sub(r"\s+", " ", cand.text[start:end]).strip()
    return Excerpt(cand, text, start, end, round(float(cand.centrality), 3))
