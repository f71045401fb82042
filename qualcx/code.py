"""Deductive coding (Kvale's stage 5): apply the codebook to respondent segments.

How a code's score for a segment is made:

1. **Codebook evidence.** The segment's embedding against the code's prototypes (name and
   definition, inclusion text, examples); its exclusion text and counter-examples count
   against it. The interviewer's question and the neighbouring segments of the same turn
   add the same comparison for the context, weighted by ``context_weight``. A keyword of
   the code found on lemmas adds ``keyword_weight``.
2. **Calibration.** Raw cosine similarities mean different things for different codes (a
   long, generic definition is close to everything) and different segments (a long answer is
   close to many codes). So the evidence is standardised per code over the project's
   segments (how unusual is this similarity *for this code*, against the half of the segments
   least like it, so a code common in the project is not measured against itself) and
   compared with the segment's strongest rival code (how far behind the strongest other
   reading of this segment; a code's ancestors and descendants are not its rivals, since a
   child refines its parent rather than competing with it); a logistic of the two is the
   zero-shot score in [0, 1]. With few segments the per-code statistics shrink toward the
   pooled ones.
3. **Learning from the researcher.** Segments a person has coded (``is_machine = 0``) are
   labelled examples: the share of a segment's most similar human-coded segments that carry
   a code (k nearest neighbours on the context-blended embedding) is blended with the
   zero-shot score, weighted by how many human examples the code has. A human-coded
   segment is scored only from other interviews' human codes, so agreement measured on it
   stays honest (other segments use every human code); :func:`cross_validate` reports the
   gain over interview folds.
4. **Decision.** A code is applied at or above its threshold (``thresholds`` per code,
   ``threshold`` otherwise), at most ``max_codes_per_segment`` per segment. A child code
   implies its parent; a parent is applied alone only when no child qualifies. A code a
   person rejected on a segment (``qualcx review``) is never applied there, whatever its
   score: a human decision is not overridden by a machine run. It is that code only: a
   rejected child implies no parent, and a rejected parent leaves its children free.

Evidence stored with each machine coding, and with each near miss (a code that fell short of
its threshold, see :func:`near_misses`), as JSON read by ``qualcx explain``::

    score       final score in [0, 1]
    zero_shot   the codebook-only score in [0, 1]
    semantic    the segment's best similarity to the code's positive prototypes
    nearest     {kind, text, similarity}: the closest prototype (definition, include, example)
    keywords    words of the segment that matched the code's keywords (may be empty)
    context     {question, similarity, weight, contribution} or null when there is none;
                contribution is the context's share of the evidence (weight x (context
                similarity - segment similarity))
    negative    {kind, text, similarity} of an exclusion or counter-example closer than the
                nearest positive prototype, or null
    calibration {z, gap, strongest}: standard deviations above the code's median, and behind
                the segment's strongest rival code (0 when ahead of it), and that rival's
                id, or null when the code has no rival (stored since it was named in
                'qualcx explain'; older evidence has z and gap only, and evidence stored
                before ancestors and descendants stopped counting as rivals names the
                segment's strongest code, which may be the code itself)
    learned     null, or {share, weight, trust, examples, nearest: {segment_id, text,
                similarity, coded}}: the share of similar human-coded segments with this code,
                its weight in the score, how far this segment's human-coded neighbours are
                trusted (0 to 1: how alike they are), the code's number of human examples and
                the closest of them
    rejected_by near misses only, when a person rejected the code on this segment: the
                coders who did, sorted (the code may have reached its threshold; it was not
                applied because of them)
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np

from .codebook import Codebook
from .coder.evidence import (GAP_SLOPE, MIN_SPREAD, NEGATIVE_PENALTY, PRIOR_SEGMENTS,  # noqa: F401
                             Z_CENTRE, Z_SLOPE, CodingDecision, KeywordMatcher, Prototype,
                             blend_vectors, build_prototypes, calibrate, context_vectors,
                             explain, rival_codes, score_segments)
from .coder.learn import (NEIGHBOUR_SHARE, SHARE_SLOPE, Labels, blend_scores,  # noqa: F401
                          human_labels, learned_scores, reliability)

# Near misses: the codes that fell short of their threshold, kept (apart from the codings) so
# 'qualcx explain' can say why a code was not applied. Only the closest few are worth reading.
MAX_NEAR_MISSES = 3      # per segment
NEAR_MISS_FLOOR = 0.25   # lowest final score kept as a near miss


def limits_for(code_ids: list[str], thresholds: dict, default_threshold: float) -> np.ndarray:
    """Each code's threshold: its entry in ``thresholds``, else the default."""
    return np.array([float(thresholds.get(c, default_threshold)) for c in code_ids])


def decide(scores: np.ndarray, code_ids: list[str], codebook: Codebook, thresholds: dict,
           default_threshold: float, max_codes: int = 3,
           rejected: np.ndarray | None = None) -> list[list[int]]:
    """Per segment, the column indexes of the codes applied (children over their parents).

    Args:
        rejected: bool, segments x codes: the codes a person rejected on each segment. They
            do not qualify at all, so a rejected child neither takes its parent's place nor
            implies it, and a rejected parent does not stop its children.
    """
    limits = limits_for(code_ids, thresholds, default_threshold)
    below = {j: [code_ids.index(d) for d in codebook.descendants(c)[1:]]
             for j, c in enumerate(code_ids) if codebook.codes[c].children}
    chosen = []
    for i, row in enumerate(scores):
        passed = [j for j in np.argsort(-row, kind="stable") if row[j] >= limits[j]
                  and (rejected is None or not rejected[i, j])]
        ids = set(passed)
        # A parent is implied by any chosen descendant, so it is only kept alone.
        keep = [j for j in passed if not any(d in ids for d in below.get(j, ()))]
        chosen.append(sorted(int(j) for j in keep[:max_codes]))
    return chosen


def ancestor_columns(code_ids: list[str], codebook: Codebook) -> dict[int, list[int]]:
    """Each code's column mapped to its ancestors' columns (codes with a parent only)."""
    col = {c: j for j, c in enumerate(code_ids)}
    return {j: [col[a] for a in codebook.ancestors(c) if a in col]
            for j, c in enumerate(code_ids) if codebook.codes[c].parent is not None}


def near_misses(scores: np.ndarray, limits: np.ndarray, chosen: list[list[int]] | None = None,
                ancestors: dict[int, list[int]] | None = None,
                rejected: np.ndarray | None = None) -> list[list[int]]:
    """Per segment, the column indexes of its best codes below their threshold, best first.

    At most :data:`MAX_NEAR_MISSES`, each scoring at least :data:`NEAR_MISS_FLOOR`; ties keep
    the codebook's order, so the same scores give the same near misses.

    Args:
        chosen: per segment, the codes applied (:func:`decide`); their ancestors
            (``ancestors``, from :func:`ancestor_columns`) are implied by them, so never near
            misses.
        rejected: bool, segments x codes: the codes a person rejected on each segment. One
            that reached its threshold would have been applied: it is a near miss all the
            same, listed first and beyond :data:`MAX_NEAR_MISSES`, so a rejection stays
            visible.
    """
    out = []
    for i, row in enumerate(scores):
        implied = {a for j in (chosen[i] if chosen is not None else ())
                   for a in (ancestors or {}).get(j, ())}
        order = [int(j) for j in np.argsort(-row, kind="stable") if j not in implied]
        withheld = [j for j in order if rejected is not None and rejected[i, j]
                    and row[j] >= limits[j]]
        short = [j for j in order if NEAR_MISS_FLOOR <= row[j] < limits[j]]
        out.append(withheld + short[:MAX_NEAR_MISSES])
    return out


def rejections_by_segment(store, segments: list[dict], code_ids: list[str]
                          ) -> tuple[np.ndarray, dict[tuple[int, int], list[str]]]:
    """The codes people rejected on the segments (bool, segments x codes) and who rejected
    each, by (row, column). A rejection whose text was lost in a re-ingest (no segment) and a
    rejected code no longer in the codebook reject nothing."""
    row = {s["id"]: i for i, s in enumerate(segments)}
    col = {c: j for j, c in enumerate(code_ids)}
    by: dict[tuple[int, int], list[str]] = {}
    for r in store.rejections():
        if r["segment_id"] in row and r["code"] in col:
            by.setdefault((row[r["segment_id"]], col[r["code"]]), []).append(r["coder"])
    mask = np.zeros((len(segments), len(code_ids)), dtype=bool)
    for i, j in by:
        mask[i, j] = True
    return mask, {k: sorted(set(v)) for k, v in by.items()}


@dataclass
class Scored:
    """Everything one coding pass computed, before decisions are written."""

    segments: list
    code_ids: list
    scores: np.ndarray
    parts: dict
    protos: list
    hits: list
    questions: dict
    vecs: np.ndarray


def score_project(project, embedder, keyword_nlp, progress=None, learn: bool | None = None,
                  labels: Labels | None = None) -> Scored:
    """Score every respondent segment of the project against every code (nothing is written).

    Args:
        learn: blend in the human codes (default: the ``learn_from_humans`` setting).
        labels: the human codes to learn from (default: all of the store's).
    """
    settings = project.settings
    codebook, store = project.codebook, project.store
    segments = [dict(r) for r in _segments_with_questions(store)]
    code_ids = list(codebook.codes)
    protos = build_prototypes(codebook)
    texts = [s["text"] for s in segments]
    seg_vecs = embedder.encode(texts, progress=progress)
    proto_vecs = embedder.encode([p.text for p in protos])
    q_ids = sorted({s["question_turn"] for s in segments if s["question_turn"] is not None})
    q_text = {r["id"]: r["text"] for r in store.db.execute(
        f"SELECT id, text FROM turns WHERE id IN ({','.join('?' * len(q_ids))})", q_ids)}
    q_vecs = dict(zip(q_ids, embedder.encode([q_text[q] for q in q_ids]))) if q_ids else {}
    ctx_vecs = context_vectors(segments, seg_vecs, q_vecs) if segments else seg_vecs
    hits = KeywordMatcher(codebook, keyword_nlp).find_spans(texts)
    weight = float(settings["context_weight"])
    scores, parts = score_segments(seg_vecs, ctx_vecs, proto_vecs, protos, code_ids, hits,
                                   weight, float(settings["keyword_weight"]),
                                   rival_codes(codebook, code_ids))
    parts["zero_shot"] = scores
    vecs = blend_vectors(seg_vecs, ctx_vecs, weight) if segments else seg_vecs
    learn = settings["learn_from_humans"] if learn is None else learn
    if learn:
        labels = labels if labels is not None else human_labels(
            store, segments, codebook, code_ids, complete=settings["human_codes_complete"])
        if not labels.empty:
            # Every segment of an interview with human decisions learns only from other
            # interviews (so agreement measured there, per segment or per interview, stays
            # honest, also where a sample left segments uncoded); any other segment learns
            # from every human code.
            labelled = set(labels.groups.tolist())
            groups = np.asarray([s["interview_id"] if s["interview_id"] in labelled else None
                                 for s in segments], dtype=object)
            scores = _learn(scores, parts, vecs, labels, groups, settings)
    return Scored(segments, code_ids, scores, parts, protos, hits,
                  {q: q_text[q] for q in q_ids}, vecs)


def _learn(scores, parts, vecs, labels, groups, settings) -> np.ndarray:
    share, near, near_sim, closeness = learned_scores(vecs, labels, groups,
                                                      int(settings["neighbours"]))
    examples = labels.y.sum(axis=0).astype(float)
    trust = reliability(closeness, labels.index)
    final, learned, weight = blend_scores(scores, share, examples,
                                          float(settings["learning_prior"]), trust)
    parts.update(labels=labels, share=share, near=near, near_sim=near_sim, learned=learned,
                 learn_weight=weight, trust=trust)
    return final


def code_project(project, embedder, keyword_nlp, progress=None) -> dict:
    """Apply the codebook to every respondent segment and store the machine codings.

    Only this coder's earlier machine codings are replaced; human codings are never touched,
    and a code a person rejected on a segment is not applied there (:func:`decide`): it is
    stored as a near miss, its evidence naming who rejected it (``rejected_by``).
    Each segment's near misses (:func:`near_misses`) replace its earlier ones, in the same
    transaction, in their own table, so counts, exports and agreement never see them.

    Returns:
        A summary: segments, codings, coded segments, codings per code, the codes that reached
        their threshold but were not applied because a person rejected them (``withheld``),
        the number of
        human-coded segments learned from (and of segments left uncoded in human-coded
        interviews, learned from as negatives), of the interviews they belong to, and whether
        uncoded segments were negatives at all (``learned_complete``: human_codes_complete).
    """
    from .project import now_iso

    settings = project.settings
    scored = score_project(project, embedder, keyword_nlp, progress)
    code_ids, scores, parts = scored.code_ids, scored.scores, scored.parts
    rejected, rejected_by = rejections_by_segment(project.store, scored.segments, code_ids)
    chosen = decide(scores, code_ids, project.codebook, settings["thresholds"],
                    settings["threshold"], int(settings["max_codes_per_segment"]), rejected)
    limits = limits_for(code_ids, settings["thresholds"], settings["threshold"])
    missed = near_misses(scores, limits, chosen, ancestor_columns(code_ids, project.codebook),
                         rejected)
    coder, created = settings["coder_name"], now_iso()
    weight = float(settings["context_weight"])

    def evidence(i, j, **extra):
        ev = explain(i, j, parts, scored.protos, scored.hits, code_ids[j],
                     scored.questions.get(scored.segments[i]["question_turn"]), weight,
                     scores[i, j])
        return json.dumps({**ev, **extra}, ensure_ascii=False, sort_keys=True)
    rows, short = [], []
    for i, seg in enumerate(scored.segments):
        for j in chosen[i]:
            rows.append((seg["id"], seg["interview_id"], seg["start"], seg["end"], seg["text"],
                         code_ids[j], coder, float(round(scores[i, j], 4)), evidence(i, j),
                         created))
        for j in missed[i]:
            by = {"rejected_by": rejected_by[i, j]} if (i, j) in rejected_by else {}
            short.append((seg["id"], code_ids[j], coder, float(round(scores[i, j], 4)),
                          float(limits[j]), evidence(i, j, **by), created))
    with project.store.transaction() as db:
        db.execute("DELETE FROM codings WHERE is_machine = 1 AND coder = ?", (coder,))
        db.executemany('INSERT INTO codings (segment_id, interview_id, start, "end", text, code, '
                       "coder, is_machine, score, evidence, created_at) "
                       "VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?)", rows)
        db.executemany("DELETE FROM near_misses WHERE segment_id = ?",
                       [(s["id"],) for s in scored.segments])
        db.executemany("INSERT INTO near_misses (segment_id, code, coder, score, threshold, "
                       "evidence, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)", short)
        db.execute("INSERT OR REPLACE INTO meta VALUES ('near_miss_floor', ?)",
                   (str(NEAR_MISS_FLOOR),))
    per_code = {c: 0 for c in code_ids}
    for r in rows:
        per_code[r[5]] += 1
    labels = parts.get("labels")
    return {"segments": len(scored.segments), "codings": len(rows),
            "coded_segments": sum(1 for c in chosen if c), "per_code": per_code,
            "withheld": sum(1 for i, cols in enumerate(missed) for j in cols
                            if rejected[i, j] and scores[i, j] >= limits[j]),
            "learned_from": 0 if labels is None else int(labels.y.any(axis=1).sum()),
            "learned_negatives": 0 if labels is None else int((~labels.y.any(axis=1)
                                                               & labels.known.all(axis=1)).sum()),
            "learned_interviews": 0 if labels is None else len(set(labels.groups)),
            "learned_complete": bool(settings["human_codes_complete"])}


@dataclass
class CrossValidation:
    """Decisions on human-coded segments, each made without its own fold's human codes."""

    codes: list
    segment_ids: list
    folds: np.ndarray      # fold of each segment (folds are whole interviews)
    truth: np.ndarray      # bool, segments x codes: the human codes (children imply parents)
    zero_shot: np.ndarray  # bool: the codebook alone
    learned: np.ndarray    # bool: learning from the other folds' human codes


def cross_validate(project, embedder=None, keyword_nlp=None, folds: int = 5,
                   human_coder: str | None = None) -> CrossValidation:
    """Measure what learning from human codes gains, never scoring a segment it learned from.

    Interviews with human codes are dealt round-robin into ``folds`` folds (in the store's
    interview order); each fold's segments are decided from the other folds' human codes
    only. Only segments a person coded are compared.

    Args:
        human_coder: whose codes are the truth and the training data (default: every human).
    """
    from .errors import ProjectError
    if embedder is None or keyword_nlp is None:
        from .nlp import Embedder, load_spacy
        s = project.settings
        embedder = embedder or Embedder(s["embedding_model"], project.store,
                                        batch_size=int(s["batch_size"]))
        keyword_nlp = keyword_nlp or load_spacy(s["spacy_model"], "lemmas")
    settings = project.settings
    scored = score_project(project, embedder, keyword_nlp, learn=False)
    segments, code_ids = scored.segments, scored.code_ids
    others = tuple(r["coder"] for r in project.store.db.execute(
        "SELECT DISTINCT coder FROM codings WHERE is_machine = 0")
        if human_coder is not None and r["coder"] != human_coder)
    labels = human_labels(project.store, segments, project.codebook, code_ids, others,
                          complete=settings["human_codes_complete"])
    interviews = list(dict.fromkeys(labels.groups))
    if len(interviews) < 2:
        raise ProjectError("cross-validation needs human codes in at least two interviews")
    folds = max(2, min(folds, len(interviews)))
    fold_of = {iid: k % folds for k, iid in enumerate(interviews)}
    groups = np.asarray([fold_of.get(s["interview_id"], -1) for s in segments])
    labels = Labels(labels.index, labels.y, groups[labels.index], labels.texts,
                    labels.segment_ids, labels.known)
    zero = scored.scores
    learned = _learn(zero, dict(scored.parts), scored.vecs, labels, groups, settings)
    args = (code_ids, project.codebook, settings["thresholds"], settings["threshold"],
            int(settings["max_codes_per_segment"]))
    coded = labels.known.all(axis=1)  # segments a person coded (not only rejections)
    rows = labels.index[coded]

    def as_matrix(chosen):
        out = np.zeros((len(rows), len(code_ids)), dtype=bool)
        for r, cols in enumerate(chosen):
            out[r, cols] = True
        return out
    return CrossValidation(code_ids, [i for i, c in zip(labels.segment_ids, coded) if c],
                           groups[rows], labels.y[coded], as_matrix(decide(zero[rows], *args)),
                           as_matrix(decide(learned[rows], *args)))


def _segments_with_questions(store):
    """Respondent segments with the id of the interviewer turn that preceded their turn."""
    return store.db.execute(
        """SELECT s.id, s.interview_id, s.turn_id, s.start, s."end", s.text,
                  (SELECT q.id FROM turns q WHERE q.interview_id = t.interview_id
                     AND q.role = 'interviewer' AND q.idx < t.idx
                     ORDER BY q.idx DESC LIMIT 1) AS question_turn
           FROM segments s JOIN turns t ON t.id = s.turn_id
           JOIN interviews i ON i.id = s.interview_id
           WHERE t.role = 'respondent' ORDER BY i.ordinal, i.id, s.idx""").fetchall()
