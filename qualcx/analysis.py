"""Counts and quotes computed from the store, shared by the report and the exports."""

from __future__ import annotations

import json
import re
from collections import defaultdict
from dataclasses import dataclass, field


@dataclass
class Quote:
    text: str
    interview: str
    role: str
    segment_id: int
    start: int
    end: int
    score: float
    cut_before: bool = False  # the segment's talk before the quoted sentences is left out
    cut_after: bool = False  # ... and after them

    @property
    def shown(self) -> str:
        """The quote as printed: "…" marks where the segment's talk was left out."""
        return ("… " if self.cut_before else "") + self.text + (" …" if self.cut_after else "")


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
    asked = store.follow_ups()
    for row in store.respondent_segments():
        segments[row["id"]] = dict(row, follow_up=asked.get(row["turn_id"], ""))
    for row in store.db.execute("SELECT interview_id, text FROM turns WHERE role = 'respondent'"):
        words[row["interview_id"]] += len(row["text"].split())
    for n, row in enumerate(store.interviews(), start=1):
        meta = json.loads(row["metadata"])
        # Quotes are attributed to a role, never to a person's name: without a role in the
        # metadata, the speaker is "Interviewee".
        interviews.append({"n": n, "id": row["id"], "file": row["file"], "meta": meta,
                           "role": meta.get("role") or "Interviewee",
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
                       "machine_label": row["machine_label"] if row["name_id"] is not None
                       else "",  # set when the label is the researcher's name
                       "keywords": json.loads(row["keywords"]), "parent_code": row["parent_code"],
                       "keyword_words": json.loads(row["keyword_words"]),
                       "members": [(m["segment_id"], m["probability"]) for m in members]})
    return Corpus(interviews, segments, dict(codes), sorted(coders), themes)


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
        # the speaker's turn goes on before or after the quote: in the segment or beyond it
        text, start, end = ex.candidate.text, seg["start"] + ex.start, seg["start"] + ex.end
        quotes.append(Quote(ex.text, seg["interview_id"], ex.candidate.role, ex.candidate.key,
                            start, end, round(ex.score, 3),
                            bool(text[:ex.start].strip()) or start > seg.get("turn_start", start),
                            bool(text[ex.end:].strip()) or seg["end"] < seg.get("turn_end", 0)))
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


def theme_quotes(corpus: Corpus, theme: dict, n: int, prefer: set[int] = frozenset()
                 ) -> list[Quote]:
    """Up to ``n`` quotes of a theme's members, most central first; members in ``prefer``
    (those carrying the sub-code a sub-theme is named after) are quoted before the others, so
    the quotes bear out the label, and the others fill what they leave."""
    ranked = sorted(theme["members"], key=lambda m: (-(m[1] or 0), m[0]))
    if not prefer:
        return pick_quotes(corpus, ranked, n)

    def who(m):
        return corpus.segments[m[0]]["interview_id"]
    carrying = [m for m in ranked if m[0] in prefer]
    # still one quote per interviewee before anyone gets a second
    quotes = pick_quotes(corpus, carrying, min(n, len({who(m) for m in carrying})))
    quoted = {q.interview for q in quotes}
    for pool in ([m for m in ranked if who(m) not in quoted], ranked):
        if len(quotes) < n:
            taken = {q.segment_id for q in quotes}
            quotes += pick_quotes(corpus, [m for m in pool if m[0] not in taken], n - len(quotes))
    return quotes


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


# -- matrices, comparison and saturation ----------------------------------------------------
#
# Every count below is a count of distinct respondent segments (or of interviews holding at
# least one such segment). A segment counts for a code when the code itself or any of its
# descendants is applied to it, by any coder: exactly the rows of ``qualcx export --table
# codings`` whose ``code`` is the code or one of its descendants, de-duplicated by
# (interview, segment).

DATE_KEYS = ("date", "interview_date")
SKIP_COMPARE = {"id", "file", "role", "name", "date", "interview_date", "minutes", "length",
                "words"}
PREFERRED_COMPARE = ("department", "group", "segment", "customer_segment", "team", "country",
                     "company", "region")
MAX_GROUPS = 8


def segment_code_sets(corpus: Corpus, codebook) -> dict[int, set[str]]:
    """Each segment's codes, with every applied code's ancestors added (a child implies its
    parent); codes the codebook does not know are left out."""
    out = {}
    for seg_id, codes in corpus.codes_by_segment.items():
        known = {c for c in codes if c in codebook.codes}
        for code_id in list(known):
            known.update(codebook.ancestors(code_id))
        if known:
            out[seg_id] = known
    return out


def cooccurrence(corpus: Corpus, codebook, code_ids: list[str] | None = None) -> list[dict]:
    """Segments coded with both codes (each counting its descendants), for every pair.

    Returns one row per code: ``{"code", "counts": {other code id: segments}}``; the diagonal
    holds the code's own segment count.
    """
    sets = segment_code_sets(corpus, codebook)
    ids = list(code_ids) if code_ids is not None else list(codebook.codes)
    rows = []
    for a in ids:
        counts = {b: 0 for b in ids}
        for codes in sets.values():
            if a in codes:
                for b in ids:
                    if b in codes:
                        counts[b] += 1
        rows.append({"code": codebook.codes[a], "counts": counts})
    return rows


def top_pairs(rows: list[dict], codebook, n: int = 10) -> list[dict]:
    """The pairs of most specific codes (codes without sub-codes) most often on the same
    segment; the co-occurrence of top-level codes is the matrix itself."""
    leaves = [r for r in rows if not r["code"].children]
    pairs = []
    for i, row in enumerate(leaves):
        for other in leaves[i + 1:]:
            b = other["code"].id
            if row["counts"][b]:
                pairs.append({"a": row["code"], "b": other["code"], "segments": row["counts"][b]})
    pairs.sort(key=lambda p: (-p["segments"], p["a"].id, p["b"].id))
    return pairs[:n]


def _groups(interviews: list[dict], attribute: str) -> dict[str, list[str]]:
    groups: dict[str, list[str]] = {}
    for row in interviews:
        value = str(row["meta"].get(attribute, "") or "").strip() or "(not given)"
        groups.setdefault(value, []).append(row["id"])
    return dict(sorted(groups.items(), key=lambda kv: (kv[0] == "(not given)", kv[0].lower())))


def default_compare_attribute(interviews: list[dict]) -> str | None:
    """The first metadata column that splits the interviews into 2 to 8 groups, at least one
    of them with two or more interviews (department before country before the rest)."""
    keys = sorted({k for row in interviews for k in row["meta"]} - SKIP_COMPARE)
    ordered = [k for k in PREFERRED_COMPARE if k in keys] + \
        [k for k in keys if k not in PREFERRED_COMPARE]
    for key in ordered:
        groups = _groups(interviews, key)
        if 2 <= len(groups) <= MAX_GROUPS and len(groups) < len(interviews):
            return key
    return None


def compare(corpus: Corpus, codebook, attribute: str | None) -> dict | None:
    """Prevalence of every code per group of interviews sharing a metadata value.

    Returns ``{"attribute", "groups": [{"name", "interviews", "segments"}], "rows": [{"code",
    "depth", "cells": [{"interviewees", "of", "share", "segments", "segment_share"}]}]}``, cells
    in group order; None when there is no attribute to compare by.
    """
    if not attribute:
        return None
    groups = _groups(corpus.interviews, attribute)
    seg_total = {g: 0 for g in groups}
    group_of = {i: g for g, ids in groups.items() for i in ids}
    for seg in corpus.segments.values():
        seg_total[group_of[seg["interview_id"]]] += 1
    sets = segment_code_sets(corpus, codebook)
    rows = []
    for code in codebook.codes.values():
        people: dict[str, set[str]] = {g: set() for g in groups}
        segs = {g: 0 for g in groups}
        for seg_id, codes in sets.items():
            if code.id in codes:
                who = corpus.segments[seg_id]["interview_id"]
                people[group_of[who]].add(who)
                segs[group_of[who]] += 1
        cells = [{"interviewees": len(people[g]), "of": len(ids),
                  "share": len(people[g]) / len(ids), "segments": segs[g],
                  "segment_share": segs[g] / seg_total[g] if seg_total[g] else 0.0}
                 for g, ids in groups.items()]
        rows.append({"code": code, "depth": len(codebook.ancestors(code.id)), "cells": cells})
    return {"attribute": attribute,
            "groups": [{"name": g, "interviews": ids, "segments": seg_total[g]}
                       for g, ids in groups.items()],
            "rows": rows}


def theme_interview_matrix(corpus: Corpus) -> list[dict]:
    """Rows per theme: its member segments per interview."""
    rows = []
    for theme in corpus.themes:
        counts = {i["id"]: 0 for i in corpus.interviews}
        for seg_id, _ in theme["members"]:
            if seg_id in corpus.segments:
                counts[corpus.segments[seg_id]["interview_id"]] += 1
        rows.append({"theme": theme, "counts": counts, "total": sum(counts.values()),
                     "interviewees": sum(1 for v in counts.values() if v)})
    return rows


def _date_of(meta: dict):
    import datetime as dt
    for key in DATE_KEYS:
        value = str(meta.get(key, "") or "").strip()
        if value:
            try:
                return dt.date.fromisoformat(value[:10])
            except ValueError:
                return None
    return None


def interview_order(interviews: list[dict]) -> tuple[list[dict], str]:
    """Interviews in date order when a date column exists (undated ones last, in file order),
    else in file order; and which order was used ("date" or "file")."""
    dates = [_date_of(i["meta"]) for i in interviews]
    if not any(dates):
        return list(interviews), "file"
    keyed = sorted(zip(dates, interviews),
                   key=lambda p: (p[0] is None, p[0].toordinal() if p[0] else 0, p[1]["n"]))
    return [i for _, i in keyed], "date"


NUMBER_WORDS = {1: "interview", 2: "two interviews", 3: "three interviews", 4: "four interviews"}


def prose_list(names: list[str], last: str = "and", shown: int | None = None) -> str:
    """``a``, ``a and b``, ``a, b and c`` (or ``a, b or c`` with ``last="or"``); with
    ``shown``, longer lists end ``a, b, c and 4 more``."""
    if shown is not None and len(names) > shown:
        return f"{', '.join(names[:shown])} and {len(names) - shown} more"
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} {last} {names[-1]}"


SATURATION_BASE = 4  # interviews before the last ``window`` ones, at least, to judge saturation
# (a stopping rule needs an initial sample first: after two interviews of four, "nothing new"
# says little)
SATURATION_MIN_INTERVIEWS = 8  # below this, or below SATURATION_MIN_PER_GROUP in a group of
SATURATION_MIN_PER_GROUP = 3   # the comparison attribute, no verdict: a group of one or two
# people cannot show that it has nothing more to say, and a handful of interviews in all
# cannot show it for the study


def saturation(corpus: Corpus, codebook, window: int = 2, base: int = SATURATION_BASE,
               attribute: str | None = None, min_interviews: int = SATURATION_MIN_INTERVIEWS,
               min_per_group: int = SATURATION_MIN_PER_GROUP) -> dict:
    """Cumulative distinct codes and themes as interviews are added, and a plain verdict.

    Codes and themes are counted separately, but only themes decide: the codebook's codes
    are a priori, so a deductive codebook's codes all turning up early shows that it fits the
    interviews, not that they are saturated; themes are found in the data and can be new.
    The rule: saturation is claimed when the last ``window`` interviews added no theme that
    earlier interviews had not already raised, and at least ``base`` interviews came before
    them. No verdict is given for a sample too small to carry one: fewer than
    ``min_interviews`` interviews, or fewer than ``min_per_group`` in a group of
    ``attribute`` (the report's comparison attribute, when there is one). A code counts in an
    interview when any of its segments carries it or one of its descendants; a theme when any
    of its segments comes from the interview.

    Returns ``{"order", "window", "rule", "steps": [{"interview", "role", "new_codes",
    "new_themes", "codes", "themes"}], "reached": bool | None, "statement": str}``;
    ``reached`` is None when there are too few interviews, or no themes, to judge.
    """
    sets = segment_code_sets(corpus, codebook)
    per_interview: dict[str, tuple[set[str], set[str]]] = {
        i["id"]: (set(), set()) for i in corpus.interviews}
    for seg_id, codes in sets.items():
        per_interview[corpus.segments[seg_id]["interview_id"]][0].update(codes)
    for theme in corpus.themes:
        for seg_id, _ in theme["members"]:
            if seg_id in corpus.segments:
                per_interview[corpus.segments[seg_id]["interview_id"]][1].add(theme["key"])
    ordered, order = interview_order(corpus.interviews)
    seen_codes: set[str] = set()
    seen_themes: set[str] = set()
    steps = []
    code_rank = {c: n for n, c in enumerate(codebook.codes)}
    for row in ordered:
        codes, themes = per_interview[row["id"]]
        new_codes = sorted(codes - seen_codes, key=code_rank.get)
        new_themes = sorted(themes - seen_themes)
        seen_codes |= codes
        seen_themes |= themes
        steps.append({"interview": row["id"], "role": row["role"], "new_codes": new_codes,
                      "new_themes": new_themes, "codes": len(seen_codes),
                      "themes": len(seen_themes)})
    small = [(g, len(ids)) for g, ids in (_groups(corpus.interviews, attribute).items()
                                          if attribute else ()) if len(ids) < min_per_group]
    reached, statement = _saturation_verdict(steps, window, base, small, attribute,
                                             min_interviews, min_per_group)
    codes_said = _codes_sentence(steps, codebook)
    what = NUMBER_WORDS.get(window, f"{window} interviews")
    rule = (f"saturation is claimed when the last {what if window > 1 else 'interview'} added "
            f"no new theme, after at least {base} interviews before them, and only with at least "
            f"{min_interviews} interviews (and {min_per_group} in each group compared); new "
            "codes are counted but do not decide, as the codebook's codes are set in advance")
    return {"order": order, "window": window, "rule": rule, "steps": steps, "reached": reached,
            "statement": f"{statement} {codes_said}" if codes_said else statement}


def _saturation_verdict(steps: list[dict], window: int, base: int, small: list[tuple[str, int]],
                        attribute: str | None, min_interviews: int, min_per_group: int
                        ) -> tuple[bool | None, str]:
    """The verdict on themes: None (too few interviews or no themes), True or False."""
    n = len(steps)
    what = NUMBER_WORDS.get(window, f"{window} interviews")
    if n < min_interviews or small:
        why = [f"{n} interview{'s' if n != 1 else ''} (at least {min_interviews} are needed)"] \
            if n < min_interviews else []
        if small:
            why.append(f"{'a group' if len(small) == 1 else 'groups'} with fewer than "
                       f"{min_per_group} interviews when compared by {attribute}: "
                       + prose_list([f"{g} ({k})" for g, k in small]))
        met = f"its {n} interviews meet the minimum of {min_interviews}, but " \
            if n >= min_interviews else ""
        return None, (f"The sample is too small to judge saturation: {met}{'; '.join(why)}. "
                      "The counts below show when codes and themes first appeared, nothing "
                      f"more{_themes_by(steps)}.")
    if n < window + base:
        return None, (f"Too few interviews ({n}) to judge saturation: the rule compares the last "
                      f"{what if window > 1 else 'interview'} with at least {base} interviews "
                      f"before them, so it needs {window + base}.")
    if not steps[-1]["themes"]:
        return None, ("No themes were found, so saturation is not judged: it rests on themes, "
                      "which the data can add, not on the codebook's codes.")
    tail = steps[-window:]
    names = ", ".join(s["interview"] for s in tail)
    if not any(s["new_themes"] for s in tail):
        last_new = max((k for k, s in enumerate(steps) if s["new_themes"]), default=0)
        return True, (f"The last {what if window > 1 else 'interview'} ({names}) added no new "
                      f"theme: all {steps[-1]['themes']} themes found had appeared by interview "
                      f"{steps[last_new]['interview']} ({last_new + 1} of {n}). By this rule "
                      "the interviews reached saturation for these themes.")
    added = [f"{s['interview']} added {len(s['new_themes'])} new theme"
             f"{'s' if len(s['new_themes']) != 1 else ''}" for s in tail if s["new_themes"]]
    return False, (f"The last {what if window > 1 else 'interview'} ({names}) still added new "
                   f"themes: {'; '.join(added)}. Saturation is not shown; further interviews "
                   "may raise more.")


def _themes_by(steps: list[dict]) -> str:
    """": all 16 themes had appeared by interview I03 (3 of 8)", or "" without themes."""
    if not steps or not steps[-1]["themes"]:
        return ""
    last = max((k for k, s in enumerate(steps) if s["new_themes"]), default=0)
    return (f": all {steps[-1]['themes']} themes had appeared by interview "
            f"{steps[last]['interview']} ({last + 1} of {len(steps)})")


def _codes_sentence(steps: list[dict], codebook) -> str:
    """When the codebook's codes appeared, said as what it shows: that the codebook fits."""
    found = steps[-1]["codes"] if steps else 0
    if not found:
        return ""
    n = len(steps)
    last = max(k for k, s in enumerate(steps) if s["new_codes"])
    return (f"As for codes: the {found} codes found (of {len(codebook.codes)} in the codebook) "
            f"had all appeared by interview {steps[last]['interview']} ({last + 1} of {n}). "
            "They are a priori codes, so finding them early shows that the codebook fits these "
            "interviews, not that the data are saturated.")
