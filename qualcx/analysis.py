"""Counts and quotes computed from the store, shared by the report and the exports."""

from __future__ import annotations

import json
import re
from collections import defaultdict
from dataclasses import dataclass, field

QUOTE_MIN_WORDS = 12
QUOTE_MAX_WORDS = 120


@dataclass
class Quote:
    text: str
    interview: str
    role: str
    segment_id: int
    start: int
    end: int
    score: float


@dataclass
class Corpus:
    """Everything a report needs, read once from the store."""

    interviews: list[dict]
    segments: dict[int, dict]  # respondent segments by id
    codes_by_segment: dict[int, dict[str, float]]  # segment -> code -> best score
    coders: list[str]
    themes: list[dict] = field(default_factory=list)

    def role(self, interview_id: str) -> str:
        for row in self.interviews:
            if row["id"] == interview_id:
                return row["role"]
        return interview_id

    def segments_for(self, code_ids: list[str]) -> list[int]:
        wanted = set(code_ids)
        return sorted(s for s, codes in self.codes_by_segment.items() if wanted & codes.keys())

    def prevalence(self, code_ids: list[str]) -> tuple[int, int, list[str]]:
        """(interviewees, segments, interview ids) for a code and its descendants."""
        segs = self.segments_for(code_ids)
        ids = sorted({self.segments[s]["interview_id"] for s in segs}, key=self.order)
        return len(ids), len(segs), ids

    def order(self, interview_id: str) -> int:
        for n, row in enumerate(self.interviews):
            if row["id"] == interview_id:
                return n
        return len(self.interviews)


def clean(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def load_corpus(store) -> Corpus:
    interviews = []
    words: dict[str, int] = defaultdict(int)
    segments = {}
    for row in store.respondent_segments():
        segments[row["id"]] = dict(row)
    for row in store.db.execute("SELECT interview_id, text FROM turns WHERE role = 'respondent'"):
        words[row["interview_id"]] += len(row["text"].split())
    for n, row in enumerate(store.interviews(), start=1):
        meta = json.loads(row["metadata"])
        speakers = [r["speaker"] for r in store.db.execute(
            "SELECT DISTINCT speaker FROM turns WHERE interview_id = ? AND role = 'respondent' "
            "ORDER BY idx", (row["id"],))]
        interviews.append({"n": n, "id": row["id"], "file": row["file"], "meta": meta,
                           "role": meta.get("role") or ", ".join(speakers) or row["id"],
                           "words": words[row["id"]]})
    codes: dict[int, dict[str, float]] = defaultdict(dict)
    coders = set()
    for row in store.codings():
        if row["segment_id"] in segments:
            score = 1.0 if row["score"] is None else row["score"]
            current = codes[row["segment_id"]].get(row["code"], -1)
            codes[row["segment_id"]][row["code"]] = max(current, score)
            coders.add(row["coder"])
    themes = []
    for row in store.db.execute("SELECT * FROM themes ORDER BY ordinal"):
        members = store.db.execute(
            "SELECT segment_id, probability FROM theme_segments WHERE theme_id = ? "
            "ORDER BY probability DESC, segment_id", (row["id"],)).fetchall()
        themes.append({"key": row["key"], "label": row["label"],
                       "keywords": json.loads(row["keywords"]), "parent_code": row["parent_code"],
                       "members": [(m["segment_id"], m["probability"]) for m in members]})
    return Corpus(interviews, segments, dict(codes), sorted(coders), themes)


def _quote(corpus: Corpus, seg_id: int, score: float) -> Quote:
    seg = corpus.segments[seg_id]
    return Quote(clean(seg["text"]), seg["interview_id"], corpus.role(seg["interview_id"]),
                 seg_id, seg["start"], seg["end"], round(score, 3))


def pick_quotes(corpus: Corpus, ranked: list[tuple[int, float]], n: int) -> list[Quote]:
    """Choose up to ``n`` quotes from (segment, score) pairs ranked best first.

    Delegates to :func:`qualcx.quotes.select_quotes`: central (high score), different from each
    other, one per interviewee before any gets a second, trimmed to whole sentences.
    """
    from .quotes import Candidate, select_quotes
    seen: set[int] = set()
    candidates = []
    for seg_id, score in ranked:
        if seg_id in seen:
            continue
        seen.add(seg_id)
        seg = corpus.segments[seg_id]
        candidates.append(Candidate(seg_id, seg["text"], seg["interview_id"],
                                    corpus.role(seg["interview_id"]), float(score or 0.0)))
    quotes = []
    for ex in select_quotes(candidates, n):
        seg = corpus.segments[ex.candidate.key]
        quotes.append(Quote(ex.text, seg["interview_id"], ex.candidate.role, ex.candidate.key,
                            seg["start"] + ex.start, seg["start"] + ex.end, round(ex.score, 3)))
    return quotes


def code_quotes(corpus: Corpus, code_ids: list[str], n: int, exclude: set[int] = frozenset()
                ) -> list[Quote]:
    wanted = set(code_ids)
    ranked = []
    for seg_id in corpus.segments_for(code_ids):
        if seg_id in exclude:
            continue
        score = max(v for c, v in corpus.codes_by_segment[seg_id].items() if c in wanted)
        ranked.append((seg_id, score))
    ranked.sort(key=lambda r: (-r[1], r[0]))
    return pick_quotes(corpus, ranked, n)


def theme_quotes(corpus: Corpus, theme: dict, n: int) -> list[Quote]:
    ranked = sorted(theme["members"], key=lambda m: (-(m[1] or 0), m[0]))
    return pick_quotes(corpus, ranked, n)


def code_interview_matrix(corpus: Corpus, codebook) -> list[dict]:
    """Rows per code (parents count their children): segment counts per interview."""
    rows = []
    for code in codebook.codes.values():
        ids = codebook.descendants(code.id)
        counts = {i["id"]: 0 for i in corpus.interviews}
        for seg_id in corpus.segments_for(ids):
            counts[corpus.segments[seg_id]["interview_id"]] += 1
        rows.append({"code": code, "depth": len(codebook.ancestors(code.id)), "counts": counts,
                     "total": sum(counts.values()),
                     "interviewees": sum(1 for v in counts.values() if v)})
    return rows
