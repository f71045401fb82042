"""Inter-coder agreement (Kvale's stage 6, verifying): how far two coders apply codes alike.

For each code, every unit gets two yes/no decisions, one per coder: did the coder apply the
code (or one of its descendants: a child code implies its parent) to the unit? The four
counts behind every figure are *both*, *only A*, *only B* and *neither*.

Units:

* segment level: the respondent segments both coders judged. A machine coder judged every
  segment; a human coder judged every segment of the interviews where they imported (or
  entered) codes, and, from a review sheet (``qualcx review --import``), the segments of the
  rows they decided: a review decision is about its row, and the rows left blank are no
  judgement. With ``units="coded"`` only the segments at least one of the two coders coded
  count. With ``units="judged"`` only the segments coder A (the reference) judged one by one
  count: those they coded and those where they made a review decision (accepted, rejected or
  added a code). That is the choice for a coded sample: a segment the person never read is no
  "no" from them, so counting it (as ``"coded"`` does for the segments only the machine
  coded) makes precision meaningless; on the judged segments precision and recall both mean
  something.
* codes accepted in review: a machine code a person accepted in review is stored as their
  coding, but it was not coded independently, so by default that (segment, code) decision is
  neither agreement nor disagreement: it is compared on neither side (``decisions_left_out``
  says how many such decisions the pool lost), the segment's other codes still are. An
  acceptance alone never makes a segment a unit, except with ``units="judged"``, where the
  segment was read. ``include_reviewed=True`` counts it as coded by both. Codes a person
  added in review, and imported codes, always count.
* interview level: the interviews holding a segment both coders judged; the decision is "did
  this interview touch this code" (through any of its segments).

Figures per code: Cohen's kappa, Krippendorff's alpha (nominal, from the ``krippendorff``
package), percent agreement, and precision, recall and F1 of coder B against coder A as the
reference. The overall row pools every code × unit decision (micro-average); the mean of
the per-code kappas (over the codes where kappa is defined) is given beside it. Both pool the
codebook's codes only: a code a coder used that the codebook lacks (an imported human code)
gets its own row but is not pooled, since the machine could never have applied it. A figure
that is undefined (for example kappa for a code neither coder applied) is ``None``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

LEVELS = ("segment", "interview")
UNITS = ("interviews", "coded", "judged")
POOLING = ("overall: micro-average over every codebook code x unit decision; mean kappa: the "
           "mean of the codebook codes' kappas that are defined; codes not in the codebook are "
           "listed but not pooled")
HIERARCHY_NOTE = "a child code implies its parent: a unit coded with a child counts for the parent too"


@dataclass(frozen=True)
class CodeAgreement:
    """Agreement on one code (or pooled over all codes when ``code`` is ``"(overall)"``)."""

    code: str
    both: int
    only_a: int
    only_b: int
    neither: int
    kappa: float | None
    alpha: float | None
    percent: float | None
    precision: float | None
    recall: float | None
    f1: float | None

    @property
    def n(self) -> int:
        return self.both + self.only_a + self.only_b + self.neither

    def as_dict(self) -> dict:
        out = asdict(self)
        out["n"] = self.n
        return out


@dataclass(frozen=True)
class Disagreement:
    """A unit where one coder applied a code and the other did not."""

    interview: str
    segment_id: int | None
    segment: int | None
    code: str
    coded_by: str
    score: float | None
    text: str


@dataclass(frozen=True)
class AgreementResult:
    coder_a: str
    coder_b: str
    level: str
    units: int
    interviews: tuple[str, ...]
    codes: tuple[CodeAgreement, ...]
    overall: CodeAgreement
    mean_kappa: float | None
    disagreements: tuple[Disagreement, ...]
    unknown_codes: tuple[str, ...] = ()
    reviewed_left_out: int = 0  # codings accepted from the machine in review, not counted
    decisions_left_out: int = 0  # the codebook code x unit decisions they take out of the pool
    unit_choice: str = "interviews"  # which segments are units (see UNITS)


def _ratio(num: float, den: float) -> float | None:
    return num / den if den else None


def cohen_kappa(both: int, only_a: int, only_b: int, neither: int) -> float | None:
    """Cohen's kappa of a 2x2 table; None when chance agreement is 1 (both coders constant)."""
    n = both + only_a + only_b + neither
    if not n:
        return None
    po = (both + neither) / n
    pe = ((both + only_a) * (both + only_b) + (only_b + neither) * (only_a + neither)) / n ** 2
    if pe >= 1:
        return None
    return (po - pe) / (1 - pe)


def krippendorff_alpha(both: int, only_a: int, only_b: int, neither: int) -> float | None:
    """Krippendorff's alpha (nominal) of two coders' yes/no decisions; None when undefined."""
    import krippendorff
    counts = np.array([[0, 2]] * both + [[1, 1]] * (only_a + only_b) + [[2, 0]] * neither,
                      dtype=float)
    if not len(counts) or counts[:, 0].sum() == 0 or counts[:, 1].sum() == 0:
        return None
    try:
        value = krippendorff.alpha(value_counts=counts, level_of_measurement="nominal")
    except ValueError:
        return None
    return None if np.isnan(value) else float(value)


def table_figures(code: str, both: int, only_a: int, only_b: int, neither: int) -> CodeAgreement:
    """Every figure for one 2x2 table; coder A is the reference for precision and recall."""
    n = both + only_a + only_b + neither
    return CodeAgreement(
        code, both, only_a, only_b, neither,
        kappa=cohen_kappa(both, only_a, only_b, neither),
        alpha=krippendorff_alpha(both, only_a, only_b, neither),
        percent=_ratio(both + neither, n),
        precision=_ratio(both, both + only_b),
        recall=_ratio(both, both + only_a),
        f1=_ratio(2 * both, 2 * both + only_a + only_b))


# -- reading the coders' decisions ----------------------------------------------------------------
def _with_ancestors(codes: set[str], codebook) -> set[str]:
    out = set(codes)
    for code in codes:
        if code in codebook.codes:
            out.update(codebook.ancestors(code))
    return out


def is_machine_coder(store, coder: str) -> bool:
    return store.db.execute("SELECT 1 FROM codings WHERE coder = ? AND is_machine = 1 LIMIT 1",
                            (coder,)).fetchone() is not None


def _review_decision(evidence) -> str | None:
    """The review decision a human coding came from (accept, add), or None when it did not."""
    import json
    return json.loads(evidence or "{}").get("review")


def accepted_in_review(store, coder: str) -> int:
    """How many of a coder's codings are machine codes they accepted in review."""
    return sum(1 for r in store.db.execute(
        "SELECT evidence FROM codings WHERE coder = ? AND is_machine = 0 AND segment_id IS NOT "
        "NULL", (coder,)) if _review_decision(r["evidence"]) == "accept")


def coder_span(store, coder: str, include_reviewed: bool = False
               ) -> tuple[set[str], set[int]] | None:
    """What a human coder judged: the interviews they coded in full (codes imported or entered,
    not from review) and the segments they decided in review (codes added or rejected, and
    accepted ones when ``include_reviewed``). None for a machine coder, who judged everything.

    A review decision is about the rows of the sheet a reviewer filled in, not the whole
    interview, so it makes only its own segment a unit.
    """
    if is_machine_coder(store, coder):
        return None
    full, decided = set(), set()
    for r in store.db.execute("SELECT segment_id, interview_id, evidence FROM codings WHERE "
                              "coder = ? AND is_machine = 0 AND segment_id IS NOT NULL", (coder,)):
        decision = _review_decision(r["evidence"])
        if decision is None:
            full.add(r["interview_id"])
        elif decision != "accept" or include_reviewed:
            decided.add(r["segment_id"])
    decided |= {r[0] for r in store.db.execute(
        "SELECT segment_id FROM rejections WHERE coder = ? AND segment_id IS NOT NULL", (coder,))}
    return full, decided


def _accepted(store, coder: str) -> dict[int, set[str]]:
    """Per segment, the codes the coder accepted from the machine in review: no independent
    judgement either way, so by default those (segment, code) decisions are compared on
    neither side, wherever the segment lies."""
    out: dict[int, set[str]] = {}
    for r in store.db.execute("SELECT segment_id, code, evidence FROM codings WHERE coder = ? "
                              "AND is_machine = 0 AND segment_id IS NOT NULL", (coder,)):
        if _review_decision(r["evidence"]) == "accept":
            out.setdefault(r["segment_id"], set()).add(r["code"])
    return out


def judged_segments(store, coder: str) -> set[int]:
    """The segments a coder judged one by one: those they coded (imported, entered or in
    review, acceptances included) and those where they rejected a code in review. For a coded
    sample these are the only segments where the coder's "no" means something."""
    return {r[0] for r in store.db.execute(
        "SELECT segment_id FROM codings WHERE coder = ? AND segment_id IS NOT NULL "
        "UNION SELECT segment_id FROM rejections WHERE coder = ? AND segment_id IS NOT NULL",
        (coder, coder))}


def _coder_codes(store, coder: str, include_reviewed: bool = False
                 ) -> dict[int, dict[str, float | None]]:
    """Per segment id, the codes the coder applied (with the machine score, if any); machine
    codes a human accepted in review only when ``include_reviewed``."""
    out: dict[int, dict[str, float | None]] = {}
    for r in store.db.execute("SELECT segment_id, code, score, is_machine, evidence FROM codings "
                              "WHERE coder = ? AND segment_id IS NOT NULL", (coder,)):
        if (not r["is_machine"] and not include_reviewed
                and _review_decision(r["evidence"]) == "accept"):
            continue
        out.setdefault(r["segment_id"], {})[r["code"]] = r["score"]
    return out


def _code_order(codebook, seen: set[str]) -> tuple[list[str], list[str]]:
    known = list(codebook.codes)
    unknown = sorted(seen - set(known))
    return known + unknown, unknown


def agreement(store, coder_a: str, coder_b: str, codebook, level: str = "segment",
              units: str = "interviews", include_reviewed: bool = False) -> AgreementResult:
    """Agreement of coder B with coder A (the reference) per code and overall.

    Args:
        store: the project :class:`~qualcx.store.Store`.
        coder_a: the reference coder (usually a human).
        coder_b: the coder compared with it (usually the machine, ``settings["coder_name"]``).
        codebook: the project's codebook (for the code order and the hierarchy).
        level: ``"segment"`` or ``"interview"``.
        units: ``"interviews"`` (every respondent segment of the interviews both coded),
            ``"coded"`` (only segments at least one of them coded) or ``"judged"`` (only
            segments coder A coded or made a review decision on); segment level only.
        include_reviewed: count the machine codes a human accepted in review as coded by both
            (they agree with the machine by construction, so by default those decisions are
            compared on neither side).

    Returns:
        An :class:`AgreementResult`; undefined figures are None.
    """
    if level not in LEVELS:
        raise ValueError(f"level must be one of {LEVELS}, not {level!r}")
    if units not in UNITS:
        raise ValueError(f"units must be one of {UNITS}, not {units!r}")
    all_segments = store.respondent_segments()
    judged = all_segments
    raw_a = _coder_codes(store, coder_a, include_reviewed)
    raw_b = _coder_codes(store, coder_b, include_reviewed)
    # Per coder, segment -> codes they accepted in review: those (unit, code) decisions are
    # left out on both sides, not counted as a "no" from the coder who accepted.
    accepted: tuple[dict[int, set[str]], dict[int, set[str]]] = ({}, {})
    for coder, mine in ((coder_a, accepted[0]), (coder_b, accepted[1])):
        if level == "segment" and units == "judged" and coder == coder_a:
            keep = judged_segments(store, coder)
            judged = [s for s in judged if s["id"] in keep]
        else:
            span = coder_span(store, coder, include_reviewed)
            if span is not None:
                full, decided = span
                judged = [s for s in judged if s["interview_id"] in full or s["id"] in decided]
        if not include_reviewed and not is_machine_coder(store, coder):
            mine.update({seg_id: _with_ancestors(codes, codebook)
                         for seg_id, codes in _accepted(store, coder).items()})
    interviews = {s["interview_id"] for s in judged}
    # An interview touches a code through any of its segments; segments are units only where
    # both coders judged them.
    segments = judged if level == "segment" else [s for s in all_segments
                                                  if s["interview_id"] in interviews]
    if level == "segment" and units == "coded":
        segments = [s for s in segments if raw_a.get(s["id"]) or raw_b.get(s["id"])]
    left_out = 0 if include_reviewed else sum(
        accepted_in_review(store, c) for c in dict.fromkeys((coder_a, coder_b))
        if not is_machine_coder(store, c))
    seen = {c for d in (raw_a, raw_b) for s in segments for c in d.get(s["id"], {})}
    order, unknown = _code_order(codebook, seen)
    # Unit -> set of codes (with ancestors), plus what is needed to list disagreements.
    if level == "segment":
        unit_keys = [s["id"] for s in segments]
        sets_a = {s["id"]: _with_ancestors(set(raw_a.get(s["id"], {})), codebook) for s in segments}
        sets_b = {s["id"]: _with_ancestors(set(raw_b.get(s["id"], {})), codebook) for s in segments}
        info = {s["id"]: s for s in segments}
        skip = {key: (accepted[0].get(key, set()) - sets_a[key])
                | (accepted[1].get(key, set()) - sets_b[key]) for key in unit_keys}
    else:
        unit_keys = [r["id"] for r in store.interviews() if r["id"] in interviews]
        sets_a = {i: set() for i in unit_keys}
        sets_b = {i: set() for i in unit_keys}
        for s in segments:
            sets_a[s["interview_id"]] |= _with_ancestors(set(raw_a.get(s["id"], {})), codebook)
            sets_b[s["interview_id"]] |= _with_ancestors(set(raw_b.get(s["id"], {})), codebook)
        info = {}
        skip = {i: set() for i in unit_keys}
        for s in segments:
            i = s["interview_id"]
            skip[i] |= ((accepted[0].get(s["id"], set()) - sets_a[i])
                        | (accepted[1].get(s["id"], set()) - sets_b[i]))
    rows, disagreements = [], []
    totals = np.zeros(4, dtype=int)
    skipped = 0
    for code in order:
        counts = np.zeros(4, dtype=int)
        for key in unit_keys:
            if code in skip[key]:
                skipped += code in codebook.codes
                continue
            a, b = code in sets_a[key], code in sets_b[key]
            counts[0 if a and b else 1 if a else 2 if b else 3] += 1
            if a != b:
                disagreements.append(_disagreement(key, info, code, coder_a if a else coder_b,
                                                   raw_a if a else raw_b))
        if code in codebook.codes:
            totals += counts
        rows.append(table_figures(code, *map(int, counts)))
    overall = table_figures("(overall)", *map(int, totals))
    kappas = [r.kappa for r in rows if r.kappa is not None and r.code in codebook.codes]
    return AgreementResult(coder_a, coder_b, level, len(unit_keys), tuple(sorted(interviews)),
                           tuple(rows), overall, float(np.mean(kappas)) if kappas else None,
                           tuple(disagreements), tuple(unknown), left_out, skipped, units)


def _disagreement(key, info: dict, code: str, coder: str, raw: dict) -> Disagreement:
    if key in info:
        seg = info[key]
        score = raw.get(seg["id"], {}).get(code)
        return Disagreement(seg["interview_id"], seg["id"], seg["idx"], code, coder, score,
                            seg["text"])
    return Disagreement(key, None, None, code, coder, None, "")


def default_pairs(store, machine: str) -> list[tuple[str, str]]:
    """Every human coder against the machine coder."""
    from .humancodes import human_coders
    return [(human, machine) for human in human_coders(store) if human != machine]


def default_units(settings) -> str:
    """Segment units when none are asked for: every segment of the interviews a person coded
    when their codes are complete (``human_codes_complete``), else only the segments the
    person judged (a sample's unread segments are no judgement, whoever else coded them)."""
    return "interviews" if settings["human_codes_complete"] else "judged"


def units_phrase(units: str, coder_a: str) -> str:
    """Which respondent segments are units, as words that go before "N interviews"."""
    return {"interviews": "of",
            "coded": "either coder coded in",
            "judged": f"{coder_a} (the reference) judged, coded or decided in review, in"}[units]


def agreement_summary(project) -> dict | None:
    """Agreement figures for the report's method section, as plain data.

    Returns:
        None when the project holds no human codes. Otherwise a dict with ``machine_coder``,
        ``note`` (the hierarchy rule), ``pooling``, ``units`` (see :func:`default_units`) and
        ``pairs``: one entry per human coder with ``coder_a`` (the human), ``coder_b`` (the
        machine), ``units_phrase`` (which segments are units, see :func:`units_phrase`),
        ``reviewed_left_out`` (their codings accepted from the machine in review,
        not counted) with ``reviewed_note`` (a sentence saying so, or "") and, for
        ``"segment"`` and ``"interview"``, a dict with ``units``, ``interviews``,
        ``decisions_left_out`` (code x unit decisions of accepted codes, compared on neither
        side), ``overall``
        (a code row plus ``mean_kappa``) and ``codes`` (rows with keys code, kappa, alpha,
        percent, precision, recall, f1, both, only_a, only_b, neither, n). Pairs are listed
        only when the machine has coded.
    """
    store = project.store
    from .humancodes import human_coders
    if not human_coders(store):
        return None
    machine = project.settings["coder_name"]
    units = default_units(project.settings)
    pairs = []
    if is_machine_coder(store, machine):
        for human, _ in default_pairs(store, machine):
            entry = {"coder_a": human, "coder_b": machine, "reviewed_left_out": 0,
                     "units_phrase": units_phrase(units, human)}
            for level in LEVELS:
                res = agreement(store, human, machine, project.codebook, level, units)
                entry["reviewed_left_out"] = res.reviewed_left_out
                entry[level] = {"units": res.units, "interviews": len(res.interviews),
                                "decisions_left_out": res.decisions_left_out,
                                "overall": {**res.overall.as_dict(), "mean_kappa": res.mean_kappa},
                                "codes": [r.as_dict() for r in res.codes]}
            entry["reviewed_note"] = (
                reviewed_note(entry["reviewed_left_out"], entry["segment"]["decisions_left_out"])
                + " (qualcx agree --include-reviewed counts them)"
                if entry["reviewed_left_out"] else "")
            pairs.append(entry)
    return {"machine_coder": machine, "note": HIERARCHY_NOTE, "pooling": POOLING, "units": units,
            "pairs": pairs}


REVIEWED_NOTE = ("{n} coding{s} accepted from the machine in review {are} left out: they agree "
                 "with it by construction")


def reviewed_note(n: int, decisions: int | None = None) -> str:
    """The sentence saying how many review acceptances agreement leaves out, and, given
    ``decisions``, how many code x segment decisions that takes out of the comparison."""
    note = REVIEWED_NOTE.format(n=n, s="s" if n != 1 else "", are="are" if n != 1 else "is")
    if decisions is None:
        return note
    return (f"{note}, so {decisions} code × segment decision{'s' if decisions != 1 else ''} "
            "(with the parents they imply) count as neither agreement nor disagreement")


def disagreement_rows(result: AgreementResult) -> list[dict]:
    """The disagreements as rows for a CSV file."""
    return [{"level": result.level, "interview": d.interview,
             "segment_id": "" if d.segment_id is None else d.segment_id,
             "segment": "" if d.segment is None else d.segment, "code": d.code,
             "coded_by": d.coded_by, "not_by": result.coder_b if d.coded_by == result.coder_a
             else result.coder_a, "score": "" if d.score is None else f"{d.score:.4f}",
             "text": d.text} for d in result.disagreements]


DISAGREEMENT_COLUMNS = ["level", "interview", "segment_id", "segment", "code", "coded_by",
                        "not_by", "score", "text"]
