"""Deductive coding (Kvale's stage 5): apply the codebook to respondent segments.

Each code is scored per segment from two kinds of evidence:

* semantic: the segment's embedding against the code's prototypes (name and definition,
  inclusion text, examples), with its exclusion text and counter-examples as negative
  evidence and the interviewer's question and neighbouring segments as weaker context;
* lexical: the code's keywords matched on lemmas with spaCy's ``PhraseMatcher``.

The combination is mapped to a score in [0, 1]; a code is applied at or above its threshold.
A child code implies its parent; a parent is applied alone only when no child qualifies.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np

from .codebook import Codebook

# Calibration of cosine similarity to a score: sigmoid((evidence - MIDPOINT) / SCALE).
MIDPOINT = 0.45
SCALE = 0.05
# A code must also be close to the segment's best code, so one vague segment does not
# collect every code whose similarity happens to be moderate.
RELATIVE_MARGIN = 0.07
MAX_CODES_PER_SEGMENT = 3


@dataclass(frozen=True)
class Prototype:
    code: str
    kind: str  # definition, include, example, exclude, counter_example
    text: str
    positive: bool


@dataclass(frozen=True)
class CodingDecision:
    segment_index: int
    code: str
    score: float
    evidence: dict


def build_prototypes(codebook: Codebook) -> list[Prototype]:
    """Texts that stand for each code. A parent also owns its children's positive texts."""
    protos = []
    for code in codebook.codes.values():
        protos.append(Prototype(code.id, "definition", f"{code.name}: {code.definition}", True))
        if code.include:
            protos.append(Prototype(code.id, "include", code.include, True))
        protos += [Prototype(code.id, "example", e, True) for e in code.examples]
        if code.exclude:
            protos.append(Prototype(code.id, "exclude", code.exclude, False))
        protos += [Prototype(code.id, "counter_example", e, False) for e in code.counter_examples]
    for code in codebook.codes.values():
        for child in codebook.descendants(code.id)[1:]:
            protos += [Prototype(code.id, p.kind, p.text, True) for p in protos
                       if p.code == child and p.positive and p.kind == "example"]
    return protos


class KeywordMatcher:
    """Finds codes' keywords in texts on lemmas, so 'cancelled' matches 'cancel'."""

    def __init__(self, codebook: Codebook, nlp):
        from spacy.matcher import PhraseMatcher
        self.nlp = nlp
        attr = "LEMMA" if _has_lemmas(nlp) else "LOWER"
        self.matcher = PhraseMatcher(nlp.vocab, attr=attr)
        for code in codebook.codes.values():
            if code.keywords:
                patterns = list(nlp.pipe([k.lower() for k in code.keywords]))
                self.matcher.add(code.id, patterns)

    def find(self, texts: list[str]) -> list[dict[str, list[str]]]:
        """For each text, the codes whose keywords occur and the words that matched."""
        out = []
        for doc in self.nlp.pipe(texts, batch_size=64):
            found: dict[str, list[str]] = {}
            for match_id, start, end in self.matcher(doc):
                words = found.setdefault(self.nlp.vocab.strings[match_id], [])
                if doc[start:end].text.lower() not in words:
                    words.append(doc[start:end].text.lower())
            out.append(found)
        return out


def _has_lemmas(nlp) -> bool:
    return "lemmatizer" in nlp.pipe_names


def _max_by_code(sims: np.ndarray, protos: list[Prototype], code_ids: list[str], positive: bool
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Per segment and code: the highest similarity and the index of the prototype behind it."""
    best = np.full((sims.shape[0], len(code_ids)), -1.0, dtype=np.float32)
    arg = np.full((sims.shape[0], len(code_ids)), -1, dtype=np.int64)
    for j, code_id in enumerate(code_ids):
        idx = [i for i, p in enumerate(protos) if p.code == code_id and p.positive == positive]
        if not idx:
            continue
        block = sims[:, idx]
        arg[:, j] = np.asarray(idx)[block.argmax(axis=1)]
        best[:, j] = block.max(axis=1)
    return best, arg


def score_segments(seg_vecs: np.ndarray, ctx_vecs: np.ndarray, proto_vecs: np.ndarray,
                   protos: list[Prototype], code_ids: list[str], keyword_hits: list[dict],
                   context_weight: float, keyword_weight: float) -> tuple[np.ndarray, dict]:
    """Score every (segment, code) pair. Returns the score matrix and the parts behind it."""
    sims = seg_vecs @ proto_vecs.T
    pos, pos_arg = _max_by_code(sims, protos, code_ids, True)
    neg, neg_arg = _max_by_code(sims, protos, code_ids, False)
    has_ctx = np.linalg.norm(ctx_vecs, axis=1) > 0
    ctx, _ = _max_by_code(ctx_vecs @ proto_vecs.T, protos, code_ids, True)
    ctx = np.where(has_ctx[:, None], ctx, pos)
    kw = np.zeros_like(pos)
    col = {c: j for j, c in enumerate(code_ids)}
    for i, hits in enumerate(keyword_hits):
        for code_id in hits:
            if code_id in col:
                kw[i, col[code_id]] = 1.0
    penalty = np.clip(neg - pos, 0, None)
    evidence = (1 - context_weight) * pos + context_weight * ctx - 0.5 * penalty \
        + keyword_weight * kw
    scores = 1.0 / (1.0 + np.exp(-(evidence - MIDPOINT) / SCALE))
    near_best = evidence >= evidence.max(axis=1, keepdims=True) - RELATIVE_MARGIN
    scores = np.where(near_best, scores, np.minimum(scores, 0.49))
    parts = {"pos": pos, "pos_arg": pos_arg, "neg": neg, "neg_arg": neg_arg, "ctx": ctx,
             "kw": kw, "has_ctx": has_ctx, "evidence": evidence}
    return scores, parts


def decide(scores: np.ndarray, code_ids: list[str], codebook: Codebook, thresholds: dict,
           default_threshold: float) -> list[list[int]]:
    """Per segment, the column indexes of the codes applied (children over their parents)."""
    limits = np.array([float(thresholds.get(c, default_threshold)) for c in code_ids])
    chosen = []
    for row in scores:
        passed = [j for j in np.argsort(-row, kind="stable") if row[j] >= limits[j]]
        ids = {code_ids[j] for j in passed}
        # A parent is implied by any chosen descendant, so it is only kept alone.
        keep = [j for j in passed
                if not any(d in ids for d in codebook.descendants(code_ids[j])[1:])]
        chosen.append(sorted(keep[:MAX_CODES_PER_SEGMENT]))
    return chosen


def explain(i: int, j: int, parts: dict, protos: list[Prototype], keyword_hits: list[dict],
            code_id: str, question: str | None, context_weight: float, score: float) -> dict:
    """The evidence record stored with a machine coding."""
    nearest = protos[parts["pos_arg"][i, j]]
    ev = {"score": round(float(score), 4),
          "semantic": round(float(parts["pos"][i, j]), 4),
          "nearest": {"kind": nearest.kind, "text": nearest.text,
                      "similarity": round(float(parts["pos"][i, j]), 4)},
          "keywords": keyword_hits[i].get(code_id, []),
          "context": None, "negative": None}
    if parts["has_ctx"][i]:
        ev["context"] = {"question": question, "similarity": round(float(parts["ctx"][i, j]), 4),
                         "weight": context_weight}
    if parts["neg_arg"][i, j] >= 0 and parts["neg"][i, j] > parts["pos"][i, j]:
        neg = protos[parts["neg_arg"][i, j]]
        ev["negative"] = {"kind": neg.kind, "text": neg.text,
                          "similarity": round(float(parts["neg"][i, j]), 4)}
    return ev


def context_vectors(segments: list, seg_vecs: np.ndarray, question_vecs: dict[int, np.ndarray]
                    ) -> np.ndarray:
    """Per segment: the mean of its turn's question and its neighbouring segments in the turn."""
    ctx = np.zeros_like(seg_vecs)
    for i, seg in enumerate(segments):
        parts = []
        if seg["question_turn"] in question_vecs:
            parts.append(question_vecs[seg["question_turn"]])
        for k in (i - 1, i + 1):
            if 0 <= k < len(segments) and segments[k]["turn_id"] == seg["turn_id"]:
                parts.append(0.5 * seg_vecs[k])
        if parts:
            vec = np.sum(parts, axis=0)
            ctx[i] = vec / (np.linalg.norm(vec) or 1.0)
    return ctx


def code_project(project, embedder, keyword_nlp, progress=None) -> dict:
    """Apply the codebook to every respondent segment and store the machine codings.

    Only this coder's earlier machine codings are replaced; human codings are never touched.

    Returns:
        A summary: segments, codings, coded segments and codings per code.
    """
    from .project import now_iso

    settings = project.settings
    codebook = project.codebook
    store = project.store
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
    ctx_vecs = context_vectors(segments, seg_vecs, q_vecs) if len(segments) else seg_vecs
    hits = KeywordMatcher(codebook, keyword_nlp).find(texts)
    weight = float(settings["context_weight"])
    scores, parts = score_segments(seg_vecs, ctx_vecs, proto_vecs, protos, code_ids, hits,
                                   weight, float(settings["keyword_weight"]))
    chosen = decide(scores, code_ids, codebook, settings["thresholds"], settings["threshold"])
    coder, created = settings["coder_name"], now_iso()
    rows = []
    for i, cols in enumerate(chosen):
        seg = segments[i]
        for j in cols:
            ev = explain(i, j, parts, protos, hits, code_ids[j], q_text.get(seg["question_turn"]),
                         weight, scores[i, j])
            rows.append((seg["id"], seg["interview_id"], seg["start"], seg["end"], seg["text"],
                         code_ids[j], coder, float(round(scores[i, j], 4)),
                         json.dumps(ev, ensure_ascii=False, sort_keys=True), created))
    with store.transaction() as db:
        db.execute("DELETE FROM codings WHERE is_machine = 1 AND coder = ?", (coder,))
        db.executemany('INSERT INTO codings (segment_id, interview_id, start, "end", text, code, '
                       "coder, is_machine, score, evidence, created_at) "
                       "VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?)", rows)
    per_code = {c: 0 for c in code_ids}
    for r in rows:
        per_code[r[5]] += 1
    return {"segments": len(segments), "codings": len(rows),
            "coded_segments": sum(1 for c in chosen if c), "per_code": per_code}


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
