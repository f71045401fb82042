"""The codebook's evidence for each code on each segment, calibrated, and its record.

See :mod:`qualcx.code` for how the parts combine.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..codebook import Codebook

# Zero-shot calibration: logit = Z_SLOPE * (z - Z_CENTRE) + GAP_SLOPE * gap, where z is the
# evidence in standard deviations above the code's median segment (the spread measured on
# the half of the corpus least like the code) and gap (<= 0) the distance to the segment's
# strongest rival code (one that is not the code, its ancestor or its descendant), in the
# same units. A code needs to stand out for itself (about the top sixth of the segments
# unlike it) and be among the segment's strongest readings.
Z_CENTRE = 1.0
Z_SLOPE = 2.0
GAP_SLOPE = 2.0
# Per-code statistics are shrunk toward the pooled ones as if this many pooled segments
# had been seen, so a handful of segments does not give wild z-scores.
PRIOR_SEGMENTS = 20
MIN_SPREAD = 0.02
NEGATIVE_PENALTY = 0.5
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
        self.phrases: dict[str, list[tuple[str, str, list[frozenset]]]] = {}
        for code in codebook.codes.values():
            for keyword in code.keywords:
                words = [t.lower_ for t in nlp.make_doc(keyword) if not t.is_space]
                if not words:
                    continue
                readings = [self.readings(w, self.KEYWORD_POS) for w in words]
                for first in readings[0]:
                    self.phrases.setdefault(first, []).append((code.id, keyword, readings))

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
        out = []
        for found in self.find_spans(texts):
            out.append({code_id: list(dict.fromkeys(m["word"] for m in matches))
                        for code_id, matches in found.items()})
        return out

    def find_spans(self, texts: list[str]) -> list[dict[str, list[dict]]]:
        """For each text, per code: every match with the words as written, the codebook
        keyword they matched, and their character offsets into the text."""
        out: list[dict[str, list[dict]]] = [{} for _ in texts]
        if not self.phrases:
            return out
        for i, text in enumerate(texts):
            doc = self.nlp.make_doc(text)
            words = [t.lower_ for t in doc]
            forms = [self.readings(w, self.TEXT_POS) for w in words]
            for k, candidates in enumerate(forms):
                seen = set()
                for lemma in candidates:
                    for code_id, keyword, phrase in self.phrases.get(lemma, ()):
                        end = k + len(phrase)
                        if (code_id, keyword) in seen or end > len(forms) or _inside_compound(
                                doc, k, end) or not all(forms[k + n] & phrase[n]
                                                        for n in range(len(phrase))):
                            continue
                        seen.add((code_id, keyword))
                        span = doc[k:end]
                        out[i].setdefault(code_id, []).append(
                            {"word": span.text.lower(), "keyword": keyword,
                             "start": span.start_char, "end": span.end_char})
        return out


def _inside_compound(doc, start: int, end: int) -> bool:
    """Whether tokens start..end are only part of a hyphenated word ('market' in
    'mid-market'), which is not the keyword."""
    before = start > 0 and doc[start - 1].text == "-" and not doc[start - 1].whitespace_
    after = (end < len(doc) and doc[end].text == "-" and not doc[end - 1].whitespace_)
    return before or after


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


def rival_codes(codebook: Codebook, code_ids: list[str]) -> np.ndarray:
    """``rivals[j, k]``: whether code k is a rival reading of code j, that is neither j itself
    nor one of its ancestors or descendants.

    A child refines its parent rather than competing with it: a segment about waiting for
    production access is about setup *and* about access, so the child's gap is not measured
    from the parent (which owns the child's examples and is usually at least as strong), and
    the parent's not from its child.
    """
    col = {c: j for j, c in enumerate(code_ids)}
    rivals = ~np.eye(len(code_ids), dtype=bool)
    for j, code_id in enumerate(code_ids):
        for kin in codebook.ancestors(code_id) + codebook.descendants(code_id)[1:]:
            if kin in col:
                rivals[j, col[kin]] = False
    return rivals


def strongest_rivals(evidence: np.ndarray, rivals: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per segment and code: the evidence of the code's strongest rival (-inf when it has
    none) and that rival's column (-1 when none)."""
    masked = np.where(rivals[None, :, :], evidence[:, None, :], -np.inf)
    if not masked.size:
        return np.full(evidence.shape, -np.inf), np.full(evidence.shape, -1, dtype=np.int64)
    arg = masked.argmax(axis=2)
    best = np.take_along_axis(masked, arg[..., None], axis=2)[..., 0]
    return best, np.where(np.isfinite(best), arg, -1)


def calibrate(evidence: np.ndarray, prior_segments: int = PRIOR_SEGMENTS,
              rivals: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Zero-shot scores from raw evidence, relative to each code's and each segment's spread.

    A code's z is measured against the half of the corpus least like it: the median, and the
    root mean square deviation of the segments below it. For a symmetric distribution these
    are its mean and standard deviation. But the mean and spread over all segments grow with
    how strongly the code's own segments match it: when a code applies to many segments
    (every interview is about churn), they inflate its spread and stop standing out against
    themselves. The lower half is not moved by how far above it they lie.

    The gap is measured from the segment's strongest code among ``rivals`` (see
    :func:`rival_codes`; default: every other code, as for a flat codebook), and is 0 for a
    code ahead of all its rivals or without any.

    Returns:
        scores in [0, 1], z (standard deviations above the code's null) and gap (standard
        deviations behind the segment's strongest rival code, <= 0).
    """
    n = evidence.shape[0]
    if evidence.size:
        centre, var = _lower_half_null(evidence)
        pooled_centre, pooled_var = _lower_half_null(evidence.reshape(-1, 1))
        centre = (n * centre + prior_segments * pooled_centre) / (n + prior_segments)
        var = (n * var + prior_segments * pooled_var) / (n + prior_segments)
    else:
        centre = var = np.zeros(evidence.shape[1])
    spread = np.maximum(np.sqrt(var), MIN_SPREAD)
    z = (evidence - centre) / spread
    pooled_var = float(evidence.var()) if evidence.size else 0.0
    pooled_spread = max(np.sqrt(pooled_var), MIN_SPREAD)
    if rivals is None:
        rivals = ~np.eye(evidence.shape[1], dtype=bool)
    best, _ = strongest_rivals(evidence, rivals)
    gap = np.minimum(evidence - best, 0.0) / pooled_spread
    logit = Z_SLOPE * (z - Z_CENTRE) + GAP_SLOPE * gap
    return 1.0 / (1.0 + np.exp(-logit)), z, gap


def _lower_half_null(evidence: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per column, the median and the mean squared deviation of the values at or below it."""
    centre = np.median(evidence, axis=0)
    below = evidence <= centre
    squares = np.where(below, (evidence - centre) ** 2, 0.0).sum(axis=0)
    return centre, squares / below.sum(axis=0)


def score_segments(seg_vecs: np.ndarray, ctx_vecs: np.ndarray, proto_vecs: np.ndarray,
                   protos: list[Prototype], code_ids: list[str], keyword_hits: list[dict],
                   context_weight: float, keyword_weight: float,
                   rivals: np.ndarray | None = None) -> tuple[np.ndarray, dict]:
    """Zero-shot score of every (segment, code) pair, and the parts behind it.

    ``rivals`` is :func:`rival_codes` (default: every other code is a rival); ``strongest``
    in the parts holds, per segment and code, the rival its gap was measured from (None when
    it has none).
    """
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
    if rivals is None:
        rivals = ~np.eye(len(code_ids), dtype=bool)
    scores, z, gap = calibrate(evidence, rivals=rivals)
    _, rival = strongest_rivals(evidence, rivals)
    names = np.asarray(list(code_ids) + [None], dtype=object)
    strongest = names[rival]  # column -1 is the None appended
    parts = {"pos": pos, "pos_arg": pos_arg, "neg": neg, "neg_arg": neg_arg, "ctx": ctx,
             "kw": kw, "has_ctx": has_ctx, "evidence": evidence, "z": z, "gap": gap,
             "strongest": strongest}
    return scores, parts


def blend_vectors(seg_vecs: np.ndarray, ctx_vecs: np.ndarray, context_weight: float
                  ) -> np.ndarray:
    """Each segment's embedding moved toward its context, renormalised."""
    vecs = (1 - context_weight) * seg_vecs + context_weight * ctx_vecs
    norms = np.linalg.norm(vecs, axis=1, keepdims=True)
    return vecs / np.where(norms == 0, 1, norms)


def explain(i: int, j: int, parts: dict, protos: list[Prototype], keyword_hits: list[dict],
            code_id: str, question: str | None, context_weight: float, score: float) -> dict:
    """The evidence record stored with a machine coding (keys: see the module docstring).

    ``keyword_hits`` are :meth:`KeywordMatcher.find_spans` results; ``keyword_matches`` keeps
    each match's codebook keyword and offsets into the segment, ``keywords`` the words alone.
    """
    nearest = protos[parts["pos_arg"][i, j]]
    ev = {"score": round(float(score), 4),
          "zero_shot": round(float(parts["zero_shot"][i, j]), 4) if "zero_shot" in parts
          else round(float(score), 4),
          "semantic": round(float(parts["pos"][i, j]), 4),
          "nearest": {"kind": nearest.kind, "text": nearest.text,
                      "similarity": round(float(parts["pos"][i, j]), 4)},
          "keywords": list(dict.fromkeys(m["word"] for m in keyword_hits[i].get(code_id, []))),
          "keyword_matches": keyword_hits[i].get(code_id, []),
          "context": None, "negative": None, "learned": None,
          "calibration": {"z": round(float(parts["z"][i, j]), 3),
                          "gap": round(float(parts["gap"][i, j]), 3),
                          "strongest": parts["strongest"][i, j]}}
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
    if labels is not None and parts["learn_weight"][i, j] > 0:
        row = int(parts["near"][i, j])
        ev["learned"] = {"share": round(float(parts["share"][i, j]), 4),
                         "weight": round(float(parts["learn_weight"][i, j]), 4),
                         "trust": round(float(parts["trust"][i]), 4),
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
