"""Inter-coder agreement (Kvale's stage 6, verifying): how far two coders apply codes alike.

For each code, every unit gets two yes/no decisions, one per coder: did the coder apply the
code (or one of its descendants: a child code implies its parent) to the unit? The four
counts behind every figure are *both*, *only A*, *only B* and *neither*.

Units:

* segment level: the respondent segments of the interviews both coders coded. A machine
  coder codes every interview; a human coder covers the interviews where they applied or
  rejected at least one code. With ``units="coded"`` only the segments at least one of the
  two coders coded count, for coders who coded a sample of passages rather than every
  segment.
  A coder whose every decision came from a review sheet (``qualcx review --import``:
  accepted, rejected or added codes, nothing imported or coded otherwise) judged only the
  segments of the rows they decided; the rows they left blank are no judgement, so their
  units are those segments.
* interview level: the interviews both coders coded; the decision is "did this interview
  touch this code".

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


def coder_interviews(store, coder: str) -> set[str]:
    """The interviews a coder coded: all of them for a machine coder."""
    if is_machine_coder(store, coder):
        return {r["id"] for r in store.interviews()}
    found = {r[0] for r in store.db.execute(
        "SELECT DISTINCT interview_id FROM codings WHERE coder = ? AND is_machine = 0 "
        "AND segment_id IS NOT NULL", (coder,))}
    found |= {r[0] for r in store.db.execute(
        "SELECT DISTINCT interview_id FROM rejections WHERE coder = ? AND segment_id IS NOT NULL",
        (coder,))}
    return found


def reviewed_segments(store, coder: str) -> set[int] | None:
    """The segments a pure reviewer decided on (codes accepted, rejected or added in review);
    None when the coder coded anything otherwise (imported, or a machine)."""
    import json
    decided: set[int] = set()
    for r in store.db.execute("SELECT segment_id, is_machine, evidence FROM codings WHERE "
                              "coder = ? AND segment_id IS NOT NULL", (coder,)):
        if r["is_machine"] or "review" not in json.loads(r["evidence"] or "{}"):
            return None
        decided.add(r["segment_id"])
    decided |= {r[0] for r in store.db.execute(
        "SELECT segment_id FROM rejections WHERE coder = ? AND segment_id IS NOT NULL", (coder,))}
    return decided or None


def _coder_codes(store, coder: str) -> dict[int, dict[str, float | None]]:
    """Per segment id, the codes the coder applied (with the machine score, if any)."""
    out: dict[int, dict[str, float | None]] = {}
    for r in store.db.execute("SELECT segment_id, code, score FROM codings WHERE coder = ? "
                              "AND segment_id IS NOT NULL", (coder,)):
        out.setdefault(r["segment_id"], {})[r["code"]] = r["score"]
    return out


def _code_order(codebook, seen: set[str]) -> tuple[list[str], list[str]]:
    known = list(codebook.codes)
    unknown = sorted(seen - set(known))
    return known + unknown, unknown


def agreement(store, coder_a: str, coder_b: str, codebook, level: str = "segment",
              units: str = "interviews") -> AgreementResult:
    """Agreement of coder B with coder A (the reference) per code and overall.

    Args:
        store: the project :class:`~qualcx.store.Store`.
        coder_a: the reference coder (usually a human).
        coder_b: the coder compared with it (usually the machine, ``settings["coder_name"]``).
        codebook: the project's codebook (for the code order and the hierarchy).
        level: ``"segment"`` or ``"interview"``.
        units: ``"interviews"`` (every respondent segment of the interviews both coded) or
            ``"coded"`` (only segments at least one of them coded); segment level only.

    Returns:
        An :class:`AgreementResult`; undefined figures are None.
    """
    if level not in LEVELS:
        raise ValueError(f"level must be one of {LEVELS}, not {level!r}")
    interviews = coder_interviews(store, coder_a) & coder_interviews(store, coder_b)
    segments = [s for s in store.respondent_segments() if s["interview_id"] in interviews]
    raw_a, raw_b = _coder_codes(store, coder_a), _coder_codes(store, coder_b)
    if level == "segment" and units == "coded":
        segments = [s for s in segments if raw_a.get(s["id"]) or raw_b.get(s["id"])]
    elif level == "segment":
        for coder in (coder_a, coder_b):
            decided = reviewed_segments(store, coder)
            if decided is not None:
                segments = [s for s in segments if s["id"] in decided]
    seen = {c for d in (raw_a, raw_b) for s in segments for c in d.get(s["id"], {})}
    order, unknown = _code_order(codebook, seen)
    # Unit -> set of codes (with ancestors), plus what is needed to list disagreements.
    if level == "segment":
        unit_keys = [s["id"] for s in segments]
        sets_a = {s["id"]: _with_ancestors(set(raw_a.get(s["id"], {})), codebook) for s in segments}
        sets_b = {s["id"]: _with_ancestors(set(raw_b.get(s["id"], {})), codebook) for s in segments}
        info = {s["id"]: s for s in segments}
    else:
        unit_keys = [r["id"] for r in store.interviews() if r["id"] in interviews]
        sets_a = {i: set() for i in unit_keys}
        sets_b = {i: set() for i in unit_keys}
        for s in segments:
            sets_a[s["interview_id"]] |= _with_ancestors(set(raw_a.get(s["id"], {})), codebook)
            sets_b[s["interview_id"]] |= _with_ancestors(set(raw_b.get(s["id"], {})), codebook)
        info = {}
    rows, disagreements = [], []
    totals = np.zeros(4, dtype=int)
    for code in order:
        counts = np.zeros(4, dtype=int)
        for key in unit_keys:
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
                           tuple(disagreements), tuple(unknown))


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


def agreement_summary(project) -> dict | None:
    """Agreement figures for the report's method section, as plain data.

    Returns:
        None when the project holds no human codes. Otherwise a dict with ``machine_coder``,
        ``note`` (the hierarchy rule), ``pooling`` and ``pairs``: one entry per human coder
        with ``coder_a`` (the human), ``coder_b`` (the machine) and, for ``"segment"`` and
        ``"interview"``, a dict with ``units``, ``interviews``, ``overall`` (a code row plus
        ``mean_kappa``) and ``codes`` (rows with keys code, kappa, alpha, percent, precision,
        recall, f1, both, only_a, only_b, neither, n). Pairs are listed only when the machine
        has coded.
    """
    store = project.store
    from .humancodes import human_coders
    if not human_coders(store):
        return None
    machine = project.settings["coder_name"]
    pairs = []
    if is_machine_coder(store, machine):
        for human, _ in default_pairs(store, machine):
            entry = {"coder_a": human, "coder_b": machine}
            for level in LEVELS:
                res = agreement(store, human, machine, project.codebook, level)
                entry[level] = {"units": res.units, "interviews": len(res.interviews),
                                "overall": {**res.overall.as_dict(), "mean_kappa": res.mean_kappa},
                                "codes": [r.as_dict() for r in res.codes]}
            pairs.append(entry)
    return {"machine_coder": machine, "note": HIERARCHY_NOTE, "pooling": POOLING, "pairs": pairs}


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
