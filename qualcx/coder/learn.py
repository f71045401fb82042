"""Learning from the researcher: human codes as labelled examples for the coder.

See :mod:`qualcx.code` for how the learned score is blended with the codebook's.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..codebook import Codebook

# Learned evidence: a code is supported when at least this share of the similar
# human-coded segments carry it.
NEIGHBOUR_SHARE = 1 / 3
SHARE_SLOPE = 12.0


@dataclass
class Labels:
    """Human codes as training data: rows of segments a person coded, and their codes.

    A segment a person coded is a positive for its codes and a negative for every other code;
    a segment where a person only rejected codes is a negative for those codes alone
    (``known`` says which decisions a row holds); when the human codes are complete, a segment
    nobody coded in an interview a person coded is a negative for every code.
    """

    index: np.ndarray                 # positions (in the scored segments) of labelled segments
    y: np.ndarray                     # bool, labelled segments x codes (children imply parents)
    groups: np.ndarray                # interview id of each labelled segment
    texts: list = field(default_factory=list)
    segment_ids: list = field(default_factory=list)
    known: np.ndarray | None = None   # bool, like y: which decisions are known (default: all)

    def __post_init__(self):
        if self.known is None:
            self.known = np.ones_like(self.y, dtype=bool)

    @property
    def empty(self) -> bool:
        return len(self.index) == 0


# How far a segment's human-coded neighbours are trusted: the mean similarity of its k
# nearest human-coded segments, against the same figure for the human-coded segments
# themselves (each measured against other interviews). At or above their RELIABLE_QUANTILE
# the neighbours count in full; at or below their UNRELIABLE_QUANTILE not at all, so talk
# unlike anything a person coded keeps the codebook's judgement.
RELIABLE_QUANTILE = 0.10
UNRELIABLE_QUANTILE = 0.01


def reliability(closeness: np.ndarray, labelled: np.ndarray) -> np.ndarray:
    """Per segment, 0 to 1: how alike its human-coded neighbours are (see the constants)."""
    if len(labelled) == 0:
        return np.ones_like(closeness)
    lo, hi = np.quantile(closeness[labelled], [UNRELIABLE_QUANTILE, RELIABLE_QUANTILE])
    if hi - lo <= 1e-9:
        return (closeness >= hi).astype(float)
    return np.clip((closeness - lo) / (hi - lo), 0.0, 1.0)


def learned_scores(vecs: np.ndarray, labels: Labels, groups: np.ndarray, k: int
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Share of each segment's k most similar human-coded segments that carry each code.

    A segment never learns from labelled segments of its own group (``groups``: an interview
    or a fold; None matches no group), so a labelled segment can be predicted from other
    interviews only.

    Returns:
        share (segments x codes); per segment and code the labelled row of the nearest
        positive neighbour (-1 when none) with its similarity; and per segment the mean
        similarity of its k nearest labelled segments (its neighbours' closeness).
    """
    n, m = vecs.shape[0], labels.y.shape[1]
    share = np.zeros((n, m))
    near = np.full((n, m), -1, dtype=np.int64)
    near_sim = np.zeros((n, m))
    closeness = np.zeros(n)
    if labels.empty or n == 0:
        return share, near, near_sim, closeness
    train = vecs[labels.index]
    known = labels.known.astype(np.float64)
    y = labels.y.astype(np.float64) * known
    for lo in range(0, n, 2048):
        sims = vecs[lo:lo + 2048] @ train.T
        same = groups[lo:lo + 2048, None] == labels.groups[None, :]
        sims = np.where(same, -np.inf, sims)
        kk = min(k, train.shape[0])
        idx = np.argpartition(-sims, kk - 1, axis=1)[:, :kk]
        top = np.take_along_axis(sims, idx, axis=1)
        w = np.where(np.isfinite(top), np.clip(top, 0, None) ** 2, 0.0)
        closeness[lo:lo + 2048] = np.where(np.isfinite(top), top, 0.0).mean(axis=1)
        total = np.einsum("ik,ikm->im", w, known[idx])
        share[lo:lo + 2048] = np.einsum("ik,ikm->im", w, y[idx]) / np.where(total == 0, 1, total)
        for j in range(m):
            pos_sims = np.where(labels.y[None, :, j], sims, -np.inf)
            near[lo:lo + 2048, j] = pos_sims.argmax(axis=1)
            near_sim[lo:lo + 2048, j] = pos_sims.max(axis=1)
    near = np.where(np.isfinite(near_sim), near, -1)
    near_sim = np.where(np.isfinite(near_sim), near_sim, 0.0)
    return share, near, near_sim, closeness


def blend_scores(zero_shot: np.ndarray, share: np.ndarray, examples: np.ndarray,
                 prior_examples: float, trust: np.ndarray | None = None
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Move the zero-shot score toward the human-coded neighbours' judgement.

    The learned score is a logistic of the neighbours' share around ``NEIGHBOUR_SHARE``; its
    weight for a code grows with the code's human examples n as n / (n + prior_examples),
    times the segment's ``trust`` in its neighbours (see :func:`reliability`; default 1).

    Returns:
        final scores, learned scores and the learned weight (segments x codes).
    """
    learned = 1.0 / (1.0 + np.exp(-SHARE_SLOPE * (share - NEIGHBOUR_SHARE)))
    per_code = examples / (examples + prior_examples) if prior_examples > 0 else \
        (examples > 0).astype(float)
    trust = np.ones(share.shape[0]) if trust is None else trust
    weight = trust[:, None] * per_code[None, :]
    return (1 - weight) * zero_shot + weight * learned, learned, weight


def human_labels(store, segments: list[dict], codebook: Codebook, code_ids: list[str],
                 exclude_coders: tuple[str, ...] = (), complete: bool = True) -> Labels:
    """The store's human decisions as training rows (see :class:`Labels`).

    A human code brings its ancestors with it. Rejections (the ``rejections`` table written
    by ``qualcx review``, when present) are negatives unless another person applied the code.
    With ``complete`` (the ``human_codes_complete`` setting), an interview a person coded
    (codes imported or entered, not only review decisions) was read by that person in full,
    so its respondent segments that nobody coded are negatives for every code: the same units
    ``qualcx agree`` compares by default. Without it the codes are a sample: a segment nobody
    coded is no judgement, and is no example.
    """
    pos = {s["id"]: i for i, s in enumerate(segments)}
    col = {c: j for j, c in enumerate(code_ids)}
    coded: dict[int, set[str]] = {}
    covered: set[str] = set()
    for r in store.db.execute("SELECT segment_id, interview_id, code, coder, evidence "
                              "FROM codings WHERE is_machine = 0 AND segment_id IS NOT NULL"):
        if r["segment_id"] in pos and r["coder"] not in exclude_coders:
            codes = coded.setdefault(r["segment_id"], set())
            if r["code"] in col:
                codes.update([r["code"], *codebook.ancestors(r["code"])])
            if '"review"' not in (r["evidence"] or ""):
                covered.add(r["interview_id"])
    for s in segments:  # read by a coder, coded by nobody: "no code applies"
        if complete and s["interview_id"] in covered:
            coded.setdefault(s["id"], set())
    rejected: dict[int, set[str]] = {}
    if store.db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' "
                        "AND name = 'rejections'").fetchone():
        for r in store.db.execute("SELECT segment_id, code, coder FROM rejections "
                                  "WHERE segment_id IS NOT NULL"):
            if r["segment_id"] in pos and r["coder"] not in exclude_coders and r["code"] in col:
                rejected.setdefault(r["segment_id"], set()).add(r["code"])
    index = sorted(pos[s] for s in set(coded) | set(rejected))
    y = np.zeros((len(index), len(code_ids)), dtype=bool)
    known = np.zeros_like(y)
    for row, i in enumerate(index):
        seg_id = segments[i]["id"]
        if seg_id in coded:
            known[row] = True
            for c in coded[seg_id]:
                y[row, col[c]] = True
        for c in rejected.get(seg_id, ()):
            known[row, col[c]] = True
    return Labels(np.asarray(index, dtype=np.int64), y,
                  np.asarray([segments[i]["interview_id"] for i in index], dtype=object),
                  [segments[i]["text"] for i in index], [segments[i]["id"] for i in index], known)
