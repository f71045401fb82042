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
   segments (how unusual is this similarity *for this code*) and compared with the segment's
   best code (how far behind the strongest reading of this segment); a logistic of the two
   is the zero-shot score in [0, 1]. With few segments the per-code statistics shrink
   toward the pooled ones.
3. **Learning from the researcher.** Segments a person has coded (``is_machine = 0``) are
   labelled examples: the share of a segment's most similar human-coded segments that carry
   a code (k nearest neighbours on the context-blended embedding) is blended with the
   zero-shot score, weighted by how many human examples the code has. A human-coded
   segment is scored only from other interviews' human codes, so agreement measured on it
   stays honest; :func:`cross_validate` reports the gain over interview folds.
4. **Decision.** A code is applied at or above its threshold (``thresholds`` per code,
   ``threshold`` otherwise), at most ``max_codes_per_segment`` per segment. A child code
   implies its parent; a parent is applied alone only when no child qualifies.

Evidence stored with each machine coding (JSON, read by ``qualcx explain``)::

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
    calibration {z, gap}: standard deviations above the code's mean, and behind the
                segment's best code
    learned     null, or {share, weight, examples, nearest: {segment_id, text, similarity,
                coded}}: the share of similar human-coded segments with this code, its weight
                in the score, the code's number of human examples and the closest of them
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np

from .codebook import Codebook

# Zero-shot calibration: logit = Z_SLOPE * (z - Z_CENTRE) + GAP_SLOPE * gap, where z is the
# evidence in standard deviations above the code's mean over the corpus and gap (<= 0) the
# distance to the segment's best code, in the same units. A code needs to stand out for
# itself (about the top sixth of the corpus) and be among the segment's strongest readings.
Z_CENTRE = 1.0
Z_SLOPE = 2.0
GAP_SLOPE = 2.0
# Per-code statistics are shrunk toward the pooled ones as if this many pooled segments
# had been seen, so a handful of segments does not give wild z-scores.
PRIOR_SEGMENTS = 20
MIN_SPREAD = 0.02
NEGATIVE_PENALTY = 0.5
# Learned evidence: a code is supported when at least this share of the similar
# human-coded segments carry it.
NEIGHBOUR_SHARE = 1 / 3
SHARE_SLOPE = 12.0


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


@dataclass
class Labels:
    """Human codes as training data: rows of segments a person coded, and their codes.

    A segment a person coded is a positive for its codes and a negative for every other code;
    a segment where a person only rejected codes is a negative for those codes alone
    (``known`` says which decisions a row holds).
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


def build_prototypes(codebook: Codebook) -> list[Prototype]:
    """Texts that stand for each code. A parent also owns its children's examples."""
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
    """Finds codes' keywords in texts on lemmas, so 'cancelled' matches 'cancel'.

    Texts are only tokenised; each distinct word is lemmatised once, out of context, by the
    pipeline's rule lemmatizer as a noun, a verb and an adjective, and a keyword word
    matches any of those readings ('left' matches 'leave'). This keeps keyword matching a
    small fraction of the cost of embedding, with no tagger run over the corpus. A pipeline
    without a lemmatizer matches lower-cased words.
    """

    TEXT_POS = ("NOUN", "VERB", "ADJ")
    KEYWORD_POS = ("NOUN", "VERB")

    def __init__(self, codebook: Codebook, nlp):
        self.nlp = nlp
        self.lemmatizer = nlp.get_pipe("lemmatizer") if _has_lemmas(nlp) else None
        self._cache: dict[tuple[str, tuple], frozenset] = {}
        self.phrases: dict[str, list[tuple[str, list[frozenset]]]] = {}
        for code in codebook.codes.values():
            for keyword in code.keywords:
                words = [t.lower_ for t in nlp.make_doc(keyword) if not t.is_space]
                if not words:
                    continue
                readings = [self.readings(w, self.KEYWORD_POS) for w in words]
                for first in readings[0]:
                    self.phrases.setdefault(first, []).append((code.id, readings))

    def readings(self, word: str, pos: tuple[str, ...]) -> frozenset:
        """The word and its lemmas under each part of speech in ``pos``."""
        key = (word, pos)
        if key not in self._cache:
            found = {word}
            if self.lemmatizer is not None:
                for tag in pos:
                    token = self.nlp.make_doc(word)[0]
                    token.pos_ = tag
                    found.update(x.lower() for x in self.lemmatizer.rule_lemmatize(token))
            self._cache[key] = frozenset(found)
        return self._cache[key]

    def find(self, texts: list[str]) -> list[dict[str, list[str]]]:
        """For each text, the codes whose keywords occur and the words that matched."""
        out: list[dict[str, list[str]]] = [{} for _ in texts]
        if not self.phrases:
            return out
        for i, text in enumerate(texts):
            doc = self.nlp.make_doc(text)
            words = [t.lower_ for t in doc]
            forms = [self.readings(w, self.TEXT_POS) for w in words]
            for k, candidates in enumerate(forms):
                for lemma in candidates:
                    for code_id, phrase in self.phrases.get(lemma, ()):
                        end = k + len(phrase)
                        if end <= len(forms) and all(forms[k + n] & phrase[n]
                                                     for n in range(len(phrase))):
                            found = out[i].setdefault(code_id, [])
                            matched = doc[k:end].text.lower()
                            if matched not in found:
                                found.append(matched)
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


def calibrate(evidence: np.ndarray, prior_segments: int = PRIOR_SEGMENTS
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Zero-shot scores from raw evidence, relative to each code's and each segment's spread.

    Returns:
        scores in [0, 1], z (standard deviations above the code's mean) and gap (standard
        deviations behind the segment's best code, <= 0).
    """
    n = evidence.shape[0]
    pooled_mean = float(evidence.mean()) if evidence.size else 0.0
    pooled_var = float(evidence.var()) if evidence.size else 0.0
    mean = (n * evidence.mean(axis=0) + prior_segments * pooled_mean) / (n + prior_segments) \
        if n else np.zeros(evidence.shape[1])
    var = (n * evidence.var(axis=0) + prior_segments * pooled_var) / (n + prior_segments) \
        if n else np.zeros(evidence.shape[1])
    spread = np.maximum(np.sqrt(var), MIN_SPREAD)
    z = (evidence - mean) / spread
    pooled_spread = max(np.sqrt(pooled_var), MIN_SPREAD)
    gap = (evidence - evidence.max(axis=1, keepdims=True)) / pooled_spread if n else evidence
    logit = Z_SLOPE * (z - Z_CENTRE) + GAP_SLOPE * gap
    return 1.0 / (1.0 + np.exp(-logit)), z, gap


def score_segments(seg_vecs: np.ndarray, ctx_vecs: np.ndarray, proto_vecs: np.ndarray,
                   protos: list[Prototype], code_ids: list[str], keyword_hits: list[dict],
                   context_weight: float, keyword_weight: float) -> tuple[np.ndarray, dict]:
    """Zero-shot score of every (segment, code) pair, and the parts behind it."""
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
    evidence = (1 - context_weight) * pos + context_weight * ctx - NEGATIVE_PENALTY * penalty \
        + keyword_weight * kw
    scores, z, gap = calibrate(evidence)
    parts = {"pos": pos, "pos_arg": pos_arg, "neg": neg, "neg_arg": neg_arg, "ctx": ctx,
             "kw": kw, "has_ctx": has_ctx, "evidence": evidence, "z": z, "gap": gap}
    return scores, parts


def blend_vectors(seg_vecs: np.ndarray, ctx_vecs: np.ndarray, context_weight: float
                  ) -> np.ndarray:
    """Each segment's embedding moved toward its context, renormalised."""
    vecs = (1 - context_weight) * seg_vecs + context_weight * ctx_vecs
    norms = np.linalg.norm(vecs, axis=1, keepdims=True)
    return vecs / np.where(norms == 0, 1, norms)


def learned_scores(vecs: np.ndarray, labels: Labels, groups: np.ndarray, k: int
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Share of each segment's k most similar human-coded segments that carry each code.

    A segment never learns from human-coded segments of its own interview (``groups``), so
    a human-coded segment is predicted from other interviews only.

    Returns:
        share (segments x codes), and per segment and code the labelled row of the nearest
        positive neighbour (-1 when none) with its similarity.
    """
    n, m = vecs.shape[0], labels.y.shape[1]
    share = np.zeros((n, m))
    near = np.full((n, m), -1, dtype=np.int64)
    near_sim = np.zeros((n, m))
    if labels.empty or n == 0:
        return share, near, near_sim
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
        total = np.einsum("ik,ikm->im", w, known[idx])
        share[lo:lo + 2048] = np.einsum("ik,ikm->im", w, y[idx]) / np.where(total == 0, 1, total)
        for j in range(m):
            pos_sims = np.where(labels.y[None, :, j], sims, -np.inf)
            near[lo:lo + 2048, j] = pos_sims.argmax(axis=1)
            near_sim[lo:lo + 2048, j] = pos_sims.max(axis=1)
    near = np.where(np.isfinite(near_sim), near, -1)
    near_sim = np.where(np.isfinite(near_sim), near_sim, 0.0)
    return share, near, near_sim


def blend_scores(zero_shot: np.ndarray, share: np.ndarray, examples: np.ndarray,
                 prior_examples: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Move the zero-shot score toward the human-coded neighbours' judgement.

    The learned score is a logistic of the neighbours' share around ``NEIGHBOUR_SHARE``; its
    weight for a code grows with the code's human examples n as n / (n + prior_examples).

    Returns:
        final scores, learned scores and each code's learned weight.
    """
    learned = 1.0 / (1.0 + np.exp(-SHARE_SLOPE * (share - NEIGHBOUR_SHARE)))
    weight = examples / (examples + prior_examples) if prior_examples > 0 else \
        (examples > 0).astype(float)
    return (1 - weight) * zero_shot + weight * learned, learned, weight


def decide(scores: np.ndarray, code_ids: list[str], codebook: Codebook, thresholds: dict,
           default_threshold: float, max_codes: int = 3) -> list[list[int]]:
    """Per segment, the column indexes of the codes applied (children over their parents)."""
    limits = np.array([float(thresholds.get(c, default_threshold)) for c in code_ids])
    below = {j: [code_ids.index(d) for d in codebook.descendants(c)[1:]]
             for j, c in enumerate(code_ids) if codebook.codes[c].children}
    chosen = []
    for row in scores:
        passed = [j for j in np.argsort(-row, kind="stable") if row[j] >= limits[j]]
        ids = set(passed)
        # A parent is implied by any chosen descendant, so it is only kept alone.
        keep = [j for j in passed if not any(d in ids for d in below.get(j, ()))]
        chosen.append(sorted(int(j) for j in keep[:max_codes]))
    return chosen


def explain(i: int, j: int, parts: dict, protos: list[Prototype], keyword_hits: list[dict],
            code_id: str, question: str | None, context_weight: float, score: float) -> dict:
    """The evidence record stored with a machine coding (keys: see the module docstring)."""
    nearest = protos[parts["pos_arg"][i, j]]
    ev = {"score": round(float(score), 4),
          "zero_shot": round(float(parts["zero_shot"][i, j]), 4) if "zero_shot" in parts
          else round(float(score), 4),
          "semantic": round(float(parts["pos"][i, j]), 4),
          "nearest": {"kind": nearest.kind, "text": nearest.text,
                      "similarity": round(float(parts["pos"][i, j]), 4)},
          "keywords": keyword_hits[i].get(code_id, []),
          "context": None, "negative": None, "learned": None,
          "calibration": {"z": round(float(parts["z"][i, j]), 3),
                          "gap": round(float(parts["gap"][i, j]), 3)}}
    if parts["has_ctx"][i]:
        ev["context"] = {"question": question, "similarity": round(float(parts["ctx"][i, j]), 4),
                         "weight": context_weight,
                         "contribution": round(float(context_weight * (parts["ctx"][i, j]
                                                                       - parts["pos"][i, j])), 4)}
    if parts["neg_arg"][i, j] >= 0 and parts["neg"][i, j] > parts["pos"][i, j]:
        neg = protos[parts["neg_arg"][i, j]]
        ev["negative"] = {"kind": neg.kind, "text": neg.text,
                          "similarity": round(float(parts["neg"][i, j]), 4)}
    labels = parts.get("labels")
    if labels is not None and parts["learn_weight"][j] > 0:
        row = int(parts["near"][i, j])
        ev["learned"] = {"share": round(float(parts["share"][i, j]), 4),
                         "weight": round(float(parts["learn_weight"][j]), 4),
                         "examples": int(labels.y[:, j].sum()),
                         "nearest": None if row < 0 else {
                             "segment_id": labels.segment_ids[row], "text": labels.texts[row],
                             "similarity": round(float(parts["near_sim"][i, j]), 4),
                             "coded": True}}
    return ev


def context_vectors(segments: list, seg_vecs: np.ndarray, question_vecs: dict[int, np.ndarray]
                    ) -> np.ndarray:
    """Per segment: its turn's question plus, at half weight, its neighbours in the turn."""
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


def human_labels(store, segments: list[dict], codebook: Codebook, code_ids: list[str],
                 exclude_coders: tuple[str, ...] = ()) -> Labels:
    """The store's human decisions as training rows (see :class:`Labels`).

    A human code brings its ancestors with it. Rejections (the ``rejections`` table written
    by ``qualcx review``, when present) are negatives unless another person applied the code.
    """
    pos = {s["id"]: i for i, s in enumerate(segments)}
    col = {c: j for j, c in enumerate(code_ids)}
    coded: dict[int, set[str]] = {}
    for r in store.db.execute("SELECT segment_id, code, coder FROM codings "
                              "WHERE is_machine = 0 AND segment_id IS NOT NULL"):
        if r["segment_id"] in pos and r["coder"] not in exclude_coders:
            codes = coded.setdefault(r["segment_id"], set())
            if r["code"] in col:
                codes.update([r["code"], *codebook.ancestors(r["code"])])
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
    hits = KeywordMatcher(codebook, keyword_nlp).find(texts)
    weight = float(settings["context_weight"])
    scores, parts = score_segments(seg_vecs, ctx_vecs, proto_vecs, protos, code_ids, hits,
                                   weight, float(settings["keyword_weight"]))
    parts["zero_shot"] = scores
    vecs = blend_vectors(seg_vecs, ctx_vecs, weight) if segments else seg_vecs
    learn = settings["learn_from_humans"] if learn is None else learn
    if learn:
        labels = labels if labels is not None else human_labels(store, segments, codebook,
                                                                code_ids)
        if not labels.empty:
            groups = np.asarray([s["interview_id"] for s in segments], dtype=object)
            scores = _learn(scores, parts, vecs, labels, groups, settings)
    return Scored(segments, code_ids, scores, parts, protos, hits,
                  {q: q_text[q] for q in q_ids}, vecs)


def _learn(scores, parts, vecs, labels, groups, settings) -> np.ndarray:
    share, near, near_sim = learned_scores(vecs, labels, groups, int(settings["neighbours"]))
    examples = labels.y.sum(axis=0).astype(float)
    final, learned, weight = blend_scores(scores, share, examples,
                                          float(settings["learning_prior"]))
    parts.update(labels=labels, share=share, near=near, near_sim=near_sim, learned=learned,
                 learn_weight=weight)
    return final


def code_project(project, embedder, keyword_nlp, progress=None) -> dict:
    """Apply the codebook to every respondent segment and store the machine codings.

    Only this coder's earlier machine codings are replaced; human codings are never touched.

    Returns:
        A summary: segments, codings, coded segments, codings per code and the number of
        human-coded segments learned from.
    """
    from .project import now_iso

    settings = project.settings
    scored = score_project(project, embedder, keyword_nlp, progress)
    code_ids, scores, parts = scored.code_ids, scored.scores, scored.parts
    chosen = decide(scores, code_ids, project.codebook, settings["thresholds"],
                    settings["threshold"], int(settings["max_codes_per_segment"]))
    coder, created = settings["coder_name"], now_iso()
    weight = float(settings["context_weight"])
    rows = []
    for i, cols in enumerate(chosen):
        seg = scored.segments[i]
        for j in cols:
            ev = explain(i, j, parts, scored.protos, scored.hits, code_ids[j],
                         scored.questions.get(seg["question_turn"]), weight, scores[i, j])
            rows.append((seg["id"], seg["interview_id"], seg["start"], seg["end"], seg["text"],
                         code_ids[j], coder, float(round(scores[i, j], 4)),
                         json.dumps(ev, ensure_ascii=False, sort_keys=True), created))
    with project.store.transaction() as db:
        db.execute("DELETE FROM codings WHERE is_machine = 1 AND coder = ?", (coder,))
        db.executemany('INSERT INTO codings (segment_id, interview_id, start, "end", text, code, '
                       "coder, is_machine, score, evidence, created_at) "
                       "VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?)", rows)
    per_code = {c: 0 for c in code_ids}
    for r in rows:
        per_code[r[5]] += 1
    labels = parts.get("labels")
    return {"segments": len(scored.segments), "codings": len(rows),
            "coded_segments": sum(1 for c in chosen if c), "per_code": per_code,
            "learned_from": 0 if labels is None else len(labels.index)}


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
    labels = human_labels(project.store, segments, project.codebook, code_ids, others)
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
