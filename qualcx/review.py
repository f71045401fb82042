"""Review sheets and segment explanations: the researcher judging the machine's codes.

``qualcx review`` writes a spreadsheet of machine codes to accept or reject, plus uncoded and
low-confidence segments to code; filled in, it is read back as one coder's decisions.
``qualcx explain`` shows one segment with every code on it and the evidence behind each.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from .errors import QualcxError
from .report import read_anew_since_coding
from .humancodes import (HumanCodesError, _norm_header, anchor, code_lookup, interview_lookup,
                         load_interviews, normalise, read_table, resolve_code, resolve_interview,
                         segments_for_span)

# -- review sheets ---------------------------------------------------------------------------
REVIEW_COLUMNS = ["segment_id", "interview", "role", "speaker", "question", "text", "code",
                  "code_name", "score", "evidence", "decision", "new_codes"]
LOW_CONFIDENCE = 0.1  # machine codes within this much of their threshold are worth a look
ACCEPT = {"accept", "accepted", "a", "yes", "y", "ok", "1", "true", "x"}
REJECT = {"reject", "rejected", "r", "no", "n", "0", "false"}


@dataclass(frozen=True)
class ReviewResult:
    """What importing a review sheet did."""

    path: str
    accepted: int   # machine codes accepted: now human codings
    rejected: int   # machine codes rejected: recorded rejections
    added: int      # codes written into new_codes: human codings
    unchanged: int  # decisions already in the store
    reanchored: int = 0  # rows whose segment was found again by its text after a re-ingest
    left_out: list[tuple[int, str]] = field(default_factory=list)  # (sheet line, reason)
    # the unchanged decisions by kind (accepted, rejected, added): an accept or new code the
    # coder had already coded (say, in their imported hand codes), a rejection already recorded
    already: dict[str, int] = field(default_factory=dict)


def short_evidence(evidence: str | dict) -> str:
    """One line from a machine coding's evidence: keywords and the nearest example."""
    ev = json.loads(evidence) if isinstance(evidence, str) else evidence
    parts = []
    if ev.get("keywords"):
        parts.append("keywords: " + ", ".join(ev["keywords"]))
    nearest = ev.get("nearest") or {}
    if nearest.get("text"):
        sim = nearest.get("similarity")
        sim = f" {sim:.2f}" if isinstance(sim, (int, float)) else ""
        text = nearest["text"] if len(nearest["text"]) <= 90 else nearest["text"][:87] + "..."
        parts.append(f"nearest {nearest.get('kind', '')}{sim}: \"{text}\"")
    return "; ".join(parts)


def _segment_context(store) -> dict[int, dict]:
    """Per respondent segment: role (from metadata), speaker and the preceding question."""
    meta = {r["id"]: json.loads(r["metadata"]) for r in store.interviews()}
    questions = {r["id"]: r["question"] for r in store.db.execute(
        """SELECT s.id, (SELECT q.text FROM turns q WHERE q.interview_id = t.interview_id
                  AND q.role = 'interviewer' AND q.idx < t.idx ORDER BY q.idx DESC LIMIT 1)
                  AS question
           FROM segments s JOIN turns t ON t.id = s.turn_id WHERE t.role = 'respondent'""")}
    return {s["id"]: {"row": s, "role": meta.get(s["interview_id"], {}).get("role", ""),
                      "question": questions.get(s["id"]) or ""}
            for s in store.respondent_segments()}


def review_rows(project) -> list[dict]:
    """Rows of a review sheet: every machine coding to accept or reject, then uncoded and
    low-confidence segments to code, in interview and reading order."""
    settings = project.settings
    store = project.store
    names = {c.id: c.name for c in project.codebook.codes.values()}
    limits = settings["thresholds"]
    machine: dict[int, list] = {}
    for r in store.db.execute("SELECT * FROM codings WHERE is_machine = 1 AND coder = ? AND "
                              "segment_id IS NOT NULL ORDER BY score DESC, code",
                              (settings["coder_name"],)):
        machine.setdefault(r["segment_id"], []).append(r)
    rows = []
    for seg_id, ctx in _segment_context(store).items():
        seg = ctx["row"]
        base = {"segment_id": seg_id, "interview": seg["interview_id"], "role": ctx["role"],
                "speaker": seg["speaker"], "question": ctx["question"], "text": seg["text"],
                "code": "", "code_name": "", "score": "", "evidence": "", "decision": "",
                "new_codes": ""}
        codings = machine.get(seg_id, [])
        for c in codings:
            rows.append({**base, "code": c["code"], "code_name": names.get(c["code"], ""),
                         "score": f"{c['score']:.2f}" if c["score"] is not None else "",
                         "evidence": short_evidence(c["evidence"])})
        low = all(c["score"] is not None and c["score"] < float(
            limits.get(c["code"], settings["threshold"])) + LOW_CONFIDENCE for c in codings)
        if not codings or low:
            rows.append({**base, "evidence": "no machine code" if not codings
                         else "machine codes are low-confidence"})
    return rows


def write_review(project, path) -> tuple[Path, int]:
    """Write the review sheet as .xlsx (with a decision drop-down) or .csv."""
    path = Path(path)
    reattach_rejections(project.store)
    rows = review_rows(project)
    if path.suffix.lower() == ".csv":
        out = io.StringIO()
        writer = csv.DictWriter(out, REVIEW_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        path.write_text(out.getvalue(), encoding="utf-8")
        return path, len(rows)
    if path.suffix.lower() != ".xlsx":
        raise HumanCodesError(path, "the review sheet must be .xlsx or .csv")
    _write_review_xlsx(path, rows)
    return path, len(rows)


def _write_review_xlsx(path: Path, rows: list[dict]):
    import openpyxl
    from openpyxl.styles import Alignment, Font
    from openpyxl.worksheet.datavalidation import DataValidation
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "review"
    sheet.append(REVIEW_COLUMNS)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append([row[c] for c in REVIEW_COLUMNS])
    widths = {"question": 40, "text": 70, "evidence": 45, "code_name": 25, "new_codes": 20}
    for i, name in enumerate(REVIEW_COLUMNS, start=1):
        letter = openpyxl.utils.get_column_letter(i)
        sheet.column_dimensions[letter].width = widths.get(name, 12)
        if name in ("question", "text", "evidence"):
            for cell in sheet[letter][1:]:
                cell.alignment = Alignment(wrap_text=True, vertical="top")
    check = DataValidation(type="list", formula1='"accept,reject"', allow_blank=True)
    sheet.add_data_validation(check)
    col = openpyxl.utils.get_column_letter(REVIEW_COLUMNS.index("decision") + 1)
    check.add(f"{col}2:{col}{len(rows) + 1}")
    sheet.freeze_panes = "A2"
    book.save(path)


class _RowProblem(Exception):
    """A review sheet row that cannot be imported; the rest of the sheet still is."""


def _review_decisions(project, path: Path
                      ) -> tuple[list[tuple[int, str, str, int]], list[tuple[int, str]], int]:
    """Decisions (segment_id, code, decision, line) from a review sheet, the rows left out
    (line, reason) and how many rows were re-anchored by their text.

    A row whose segment is gone, or now holds other text (the transcript was re-ingested),
    is found again by its text within its interview, by the rule of ``import-codes``
    (:func:`~qualcx.humancodes.anchor`), and its decision applies to every segment that text
    now codes. Raises only when the file is not a review sheet."""
    rows = read_table(path)
    if not any(any(c for c in r) for r in rows):
        raise HumanCodesError(path, "the review sheet is empty")
    header = [_norm_header(h) for h in rows[0]]
    for needed in ("segmentid", "code", "decision"):
        if needed not in header:
            raise HumanCodesError(path, f"no '{needed.replace('id', '_id')}' column; import a "
                                  "sheet written by 'qualcx review'", 1)
    col = {name: header.index(name) if name in header else None
           for name in ("segmentid", "code", "decision", "newcodes", "interview", "text")}
    known = {r["id"]: r for r in project.store.db.execute("SELECT id, text FROM segments")}
    codes = code_lookup(project.codebook)
    texts, names = load_interviews(project.store), interview_lookup(project.store)
    out, left_out, reanchored = [], [], 0
    for n, row in enumerate(rows[1:], start=2):
        def cell(k, row=row):
            return row[col[k]].strip() if col[k] is not None and col[k] < len(row) else ""
        decision, code, new = cell("decision").lower(), cell("code"), cell("newcodes")
        if not decision and not new:
            continue
        try:
            wanted = []
            if decision:
                if decision not in ACCEPT | REJECT:
                    raise _RowProblem(f"decision '{cell('decision')}' must be accept, reject or "
                                      "empty")
                if not code:
                    raise _RowProblem("a decision needs a code in the code column; write codes "
                                      "for an uncoded segment in new_codes")
                wanted.append((resolve_code(code, codes),
                               "accept" if decision in ACCEPT else "reject"))
            for item in filter(None, (c.strip() for c in re.split(r"[;,]", new))):
                resolved = resolve_code(item, codes)
                if resolved not in project.codebook.codes:
                    raise _RowProblem(f"new code '{item}' is not in the codebook")
                wanted.append((resolved, "add"))
            seg_ids, moved = _row_segments(cell("segmentid"), cell("interview"), cell("text"),
                                           known, texts, names)
        except _RowProblem as problem:
            left_out.append((n, str(problem)))
            continue
        reanchored += moved
        out += [(seg_id, c, d, n) for c, d in wanted for seg_id in seg_ids]
    return out, left_out, reanchored


def _row_segments(ref: str, interview: str, text: str, known: dict, texts: dict, names: dict
                  ) -> tuple[list[int], bool]:
    """The segments a review row is about, and whether they were found by the row's text."""
    try:
        seg_id = int(float(ref))
    except ValueError:
        seg_id = None
    if seg_id in known and (not text or normalise(text)[0] == normalise(known[seg_id]["text"])[0]):
        return [seg_id], False
    what = f"segment {ref}" if seg_id is not None else f"segment_id '{ref}'"
    what += " is not in the project" if seg_id not in known else " now holds other text"
    if not text or not interview:
        raise _RowProblem(f"{what}, and the row has no interview and text to find it by; "
                          "review it again in a new sheet")
    interview_id = resolve_interview(interview, names)
    if interview_id is None:
        raise _RowProblem(f"{what}, and there is no ingested interview '{interview}'")
    span, _ = anchor(texts[interview_id], text, None)
    if span is None:
        raise _RowProblem(f"{what}, and the row's text is not in {interview_id} (the transcript "
                          "changed there); review it again in a new sheet")
    targets = segments_for_span(texts[interview_id].segments, *span)
    if not targets:
        raise _RowProblem(f"{what}, and the row's text now lies in interviewer talk")
    return [t["id"] for t in targets], True


# A decision is a human coding (accept, add) or a rejection (reject) of a code on a segment,
# by one coder; recording one deletes that coder's opposite record, so the latest decision wins.
_DECISION_WHERE = {"codings": "segment_id = ? AND code = ? AND coder = ? AND is_machine = 0",
                   "rejections": "segment_id = ? AND code = ? AND coder = ?"}
_DECISION_INSERT = {
    "codings": 'INSERT INTO codings (segment_id, interview_id, start, "end", text, code, coder, '
               "is_machine, score, evidence, created_at) "
               "VALUES (?, ?, ?, ?, ?, ?, ?, 0, NULL, ?, ?)",
    "rejections": 'INSERT INTO rejections (segment_id, interview_id, start, "end", text, code, '
                  "coder, source, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"}
_DECISION_COUNT = {"accept": "accepted", "add": "added", "reject": "rejected"}


def import_review(project, path, coder: str) -> ReviewResult:
    """Read a filled-in review sheet back as one coder's decisions.

    accept (or a code written in ``new_codes``) becomes a human coding of the whole segment;
    reject becomes a recorded rejection of that code on that segment. A coder's latest
    decision on a (segment, code) wins: accepting removes their earlier rejection, rejecting
    removes their earlier coding of that code on that segment.

    Rows whose segment is gone after a re-ingest are found again by their text (see
    :func:`_review_decisions`); rows that cannot be imported are listed in ``left_out`` with
    their sheet line, and the others are imported.

    Raises:
        HumanCodesError: the file is not a review sheet (file and line named).
    """
    from .pipeline import recorded
    from .project import now_iso
    path = Path(path)
    if not coder or coder == project.settings["coder_name"]:
        raise HumanCodesError(path, "give the reviewer's name with --coder NAME (not the machine "
                              "coder's name)")
    reattach_rejections(project.store)
    decisions, left_out, reanchored = _review_decisions(project, path)
    segs = {r["id"]: r for r in project.store.db.execute('SELECT * FROM segments')}
    created, counts, summary = now_iso(), Counter(), {}
    # recorded so that 'qualcx report' can say the machine codes have not learned from these yet
    with recorded(project, "review", summary), project.store.transaction() as db:
        for seg_id, code, decision, n in decisions:
            seg = segs[seg_id]
            key = (seg_id, code, coder)
            own, other = (("rejections", "codings") if decision == "reject"
                          else ("codings", "rejections"))
            db.execute(f"DELETE FROM {other} WHERE {_DECISION_WHERE[other]}", key)
            if db.execute(f"SELECT 1 FROM {own} WHERE {_DECISION_WHERE[own]}", key).fetchone():
                counts["unchanged"] += 1
                counts["already " + _DECISION_COUNT[decision]] += 1
                continue
            source = json.dumps({"source": path.name, "row": n, "review": decision})
            db.execute(_DECISION_INSERT[own], (seg_id, seg["interview_id"], seg["start"],
                                               seg["end"], seg["text"], code, coder, source,
                                               created))
            counts[_DECISION_COUNT[decision]] += 1
        summary.update(file=path.name, coder=coder,
                       **{k: counts[k] for k in ("accepted", "rejected", "added", "unchanged")})
    return ReviewResult(str(path), counts["accepted"], counts["rejected"], counts["added"],
                        counts["unchanged"], reanchored, left_out,
                        {k: counts["already " + k] for k in ("accepted", "rejected", "added")
                         if counts["already " + k]})


# -- explain ---------------------------------------------------------------------------------
class SegmentNotFound(QualcxError):
    """A segment reference names no segment in the project."""


WHAT_TO_EXPLAIN = ("give INTERVIEW:SEGMENT as in the interview and segment columns of 'qualcx "
                   "export' (e.g. I01:4), a segment_id from the review sheet, or a theme as "
                   "'qualcx themes' lists it (e.g. cx-1)")


def find_segment(store, ref: str):
    """The segment named by its id (``123``) or by interview and position (``I01:4``)."""
    ref = ref.strip()
    if ref.isdigit():
        row = store.db.execute("SELECT * FROM segments WHERE id = ?", (int(ref),)).fetchone()
    elif ":" in ref and ref.rsplit(":", 1)[1].strip().isdigit():
        interview, idx = ref.rsplit(":", 1)
        interview_id = resolve_interview(interview, interview_lookup(store)) or interview
        row = store.db.execute("SELECT * FROM segments WHERE interview_id = ? AND idx = ?",
                               (interview_id, int(idx))).fetchone()
    else:
        raise SegmentNotFound(f"'{ref}' is not a segment reference or a theme; {WHAT_TO_EXPLAIN}")
    if row is None:
        raise SegmentNotFound(f"no segment '{ref}' in the project; {WHAT_TO_EXPLAIN}")
    return row


def find_theme(store, ref: str):
    """The stored theme whose key is ``ref`` ("cx-1"), or None."""
    return store.db.execute("SELECT * FROM themes WHERE key = ?", (ref.strip(),)).fetchone()


def theme_explanation(project, ref: str, quotes: int = 3) -> dict:
    """A theme with how its machine label was made (the rule and its counts), its keywords
    with the segments using each, and its most central segments."""
    from .analysis import load_corpus
    from .report import _overlaps, _questions, keyword_text
    store = project.store
    row = find_theme(store, ref)
    corpus = load_corpus(store)
    theme = next(t for t in corpus.themes if t["key"] == row["key"])
    kept = [corpus.segments[s] for s, _ in theme["members"] if s in corpus.segments]
    parent = project.codebook.codes.get(row["parent_code"]) if row["parent_code"] else None
    central = []
    for s, similarity in theme["members"][:quotes]:  # most central first
        seg = corpus.segments.get(s)
        if seg is not None:
            central.append({"id": s, "ref": f"{seg['interview_id']}:{seg['idx']}",
                            "similarity": similarity, "text": seg["text"]})
    return {"key": row["key"], "label": row["label"],
            "coders": sub_code_agreement(project, parent, [s["id"] for s in kept]),
            "machine_label": row["machine_label"] if row["name_id"] is not None else "",
            "parent": f"{parent.id} ({parent.name})" if parent else "",
            "interviewees": len({s["interview_id"] for s in kept}), "segments": len(kept),
            "of_interviewees": len(corpus.interviews),
            "reasons": json.loads(row["label_reason"]),
            "keywords": keyword_text(theme["keywords"], kept, theme["keyword_words"]),
            "questions": _questions(corpus, project.codebook, theme),
            "overlaps": _overlaps(corpus, theme), "central": central}


def sub_code_agreement(project, parent, segment_ids: list[int], shown: int = 3) -> str:
    """How people and the machine applied the sub-codes of ``parent`` most carried by a
    theme's segments (``segment_ids``), on those in interviews people coded: counts and
    Cohen's kappa per sub-code, so a reader sees whether a sub-theme's name rests on codes
    both sides applied. "" without sub-codes or human codes there, or when
    ``human_codes_complete`` is false (a segment people left uncoded is then no judgement)."""
    from .agree import cohen_kappa
    from .themes import people_codes
    if parent is None or not parent.children or not project.settings["human_codes_complete"]:
        return ""
    codebook = project.codebook
    store = project.store
    segments = store.respondent_segments()  # people coded an interview as themes reads it
    theirs = dict(zip((s["id"] for s in segments), people_codes(store, segments)))
    judged = [s for s in segment_ids if theirs.get(s) is not None]
    if not judged:
        return ""
    people = {s: theirs[s] for s in judged}
    machine: dict[int, set[str]] = {}
    for row in store.codings(judged):
        if row["is_machine"]:
            machine.setdefault(row["segment_id"], set()).add(row["code"])
    parts = []
    for child in parent.children:
        family = set(codebook.descendants(child))
        a = [bool(family & people.get(s, set())) for s in judged]
        b = [bool(family & machine.get(s, set())) for s in judged]
        both = sum(x and y for x, y in zip(a, b))
        if sum(a) or sum(b):
            parts.append((sum(a) + sum(b), child, sum(a), sum(b), both,
                          cohen_kappa(both, sum(a) - both, sum(b) - both,
                                      len(judged) - sum(a) - sum(b) + both)))
    parts.sort(key=lambda p: -p[0])
    n = len(judged)
    said = "; ".join(  # kappa alone misleads where a sub-code is common among the segments
        f"“{codebook.codes[c].name}”, people {a}, machine {b}, both {both} (agreeing on "
        f"{n - a - b + 2 * both} of {n}, kappa {'n/a' if k is None else f'{k:.2f}'})"
        for _, c, a, b, both, k in parts[:shown])
    return (f"the segments each sub-code was applied to, of the {len(judged)} of its "
            f"{len(segment_ids)} in interviews people coded: {said}." if parts else "")


def segment_explanation(project, ref: str) -> dict:
    """Everything known about one segment: its text and context, machine codes with their
    stored evidence, near misses (codes scored below their threshold, with the same evidence),
    human codes and rejections.

    Args:
        project: the project.
        ref: a segment id or ``INTERVIEW:INDEX`` (0-based position within the interview).
    """
    store = project.store
    seg = find_segment(store, ref)
    turn = store.db.execute("SELECT * FROM turns WHERE id = ?", (seg["turn_id"],)).fetchone()
    question = store.db.execute(
        "SELECT * FROM turns WHERE interview_id = ? AND role = 'interviewer' AND idx < ? "
        "ORDER BY idx DESC LIMIT 1", (seg["interview_id"], turn["idx"])).fetchone()
    neighbours = {r["idx"]: r["text"] for r in store.db.execute(
        "SELECT idx, text FROM segments WHERE turn_id = ? AND idx IN (?, ?)",
        (seg["turn_id"], seg["idx"] - 1, seg["idx"] + 1))}
    meta = json.loads(store.db.execute("SELECT metadata FROM interviews WHERE id = ?",
                                       (seg["interview_id"],)).fetchone()[0])
    names = {c.id: c.name for c in project.codebook.codes.values()}
    machine, human = [], []
    for c in store.db.execute("SELECT * FROM codings WHERE segment_id = ? ORDER BY is_machine "
                              "DESC, score DESC, code, coder", (seg["id"],)):
        item = {"code": c["code"], "name": names.get(c["code"], "(not in the codebook)"),
                "coder": c["coder"], "score": c["score"], "evidence": json.loads(c["evidence"])}
        (machine if c["is_machine"] else human).append(item)
    rejections = [{"code": r["code"], "name": names.get(r["code"], "(not in the codebook)"),
                   "coder": r["coder"], "source": json.loads(r["source"] or "{}")}
                  for r in store.rejections([seg["id"]])]
    near = [{"code": r["code"], "name": names.get(r["code"], "(not in the codebook)"),
             "coder": r["coder"], "score": r["score"], "threshold": r["threshold"],
             "evidence": json.loads(r["evidence"])} for r in store.near_misses(seg["id"])]
    floor = store.meta_value("near_miss_floor")
    anew = seg["interview_id"] in read_anew_since_coding(store)
    return {"id": seg["id"], "interview": seg["interview_id"], "index": seg["idx"],
            "no_machine_code": None if machine else _why_no_machine_code(project, anew and
                                                                          seg["interview_id"]),
            "no_near_miss": None if near else _why_no_near_miss(floor, anew),
            "start": seg["start"], "end": seg["end"], "text": seg["text"],
            "speaker": turn["speaker"], "role": meta.get("role", ""), "turn": turn["idx"],
            "question": question["text"] if question else None,
            "before": neighbours.get(seg["idx"] - 1), "after": neighbours.get(seg["idx"] + 1),
            "machine": machine, "near_misses": near, "human": human, "rejections": rejections}


def _why_no_machine_code(project, read_anew: str | None = None) -> str:
    """Why a segment has no machine code, from what the store holds (the codes that came
    closest are the segment's near misses, shown apart). ``read_anew`` names the segment's
    interview when an ingest read it anew after the last coding run: not coded since, which
    says nothing about its scores."""
    settings = project.settings
    coder = settings["coder_name"]
    if read_anew:
        return (f"interview {read_anew} was read anew after the last coding run, so this "
                "segment has not been coded since; run 'qualcx code' (or 'qualcx run')")
    if not project.store.db.execute("SELECT 1 FROM codings WHERE is_machine = 1 AND coder = ? "
                                    "LIMIT 1", (coder,)).fetchone():
        return f"the project has no machine codes by {coder} yet; run 'qualcx code'"
    own = ", ".join(f"{k} {v}" for k, v in sorted(settings["thresholds"].items()))
    return (f"no code's score reached its threshold (the 'threshold' setting, "
            f"{settings['threshold']}{'; per code in thresholds: ' + own if own else ''})")


def _why_no_near_miss(floor: str | None, read_anew: bool = False) -> str:
    """Why a segment lists no near miss: none came close, or none were stored (a store coded
    before near misses were kept, or not coded yet, or not since its interview was read
    anew)."""
    if read_anew:
        return "not coded since its interview was read anew; 'qualcx code' stores them"
    if floor is None:
        return "not stored; 'qualcx code' stores them"
    return f"no other code came within {floor} (a score of at least {floor}, below its threshold)"


KINDS = {"definition": "definition", "include": "inclusion text", "example": "example",
         "exclude": "exclusion text", "counter_example": "counter-example"}


def evidence_lines(ev: dict, offset: int = 0, code: str | None = None) -> list[str]:
    """A machine coding's stored evidence as plain sentences, every stored figure kept.

    ``offset`` is the segment's start in its interview, so keyword positions are given in the
    interview's characters, like the segment's own; ``code`` is the coding's code, so the
    calibration line can say when evidence stored before rivals were kept names the code
    itself as the segment's strongest. A rival is a code that is not the code, its ancestor
    or its descendant. A near miss a person rejected on the segment (``rejected_by``) says
    so first: that, not its score, is why it was not applied. Keys this function
    does not know (a store written by another version) are still shown, as ``name: value`` in
    words.
    """
    lines, shown = [], {"score", "keywords"}
    if ev.get("rejected_by"):
        lines.append(f"rejected by {', '.join(ev['rejected_by'])} in review; not applied")
    if "zero_shot" in ev:
        lines.append(f"zero-shot score (the codebook's evidence alone): {_num(ev['zero_shot'])}")
    nearest = ev.get("nearest") or {}
    if "semantic" in ev and ev["semantic"] != nearest.get("similarity"):
        lines.append(f"similarity to the code's closest prototype: {_num(ev['semantic'])}")
    for key, label in (("nearest", "nearest"), ("negative", "negative evidence, nearest")):
        item = ev.get(key)
        if item:
            lines.append(f"{label} {KINDS.get(item.get('kind'), item.get('kind') or 'text')}: "
                         f"{_quote(item.get('text'))} cosine {_num(item.get('similarity'))}")
    matches = ev.get("keyword_matches")
    if matches:
        for m in matches:
            said = "" if m["word"] == m["keyword"].lower() else f" as '{m['word']}' (same lemma)"
            lines.append(f"keyword '{m['keyword']}'{said} at characters {offset + m['start']}-"
                         f"{offset + m['end']}")
    elif ev.get("keywords"):
        lines.append("keywords matched: " + ", ".join(f"'{k}'" for k in ev["keywords"]))
    elif "keywords" in ev:
        lines.append("keywords matched: none")
    ctx = ev.get("context")
    if ctx:
        question = f"the question {_quote(ctx['question'])}" if ctx.get("question") \
            else "no question"
        lines.append(f"context ({question} and any neighbouring segments of the turn): cosine "
                     f"{_num(ctx.get('similarity'))} at weight {ctx.get('weight')}; "
                     f"{_signed(ctx.get('contribution'))}")
    elif "context" in ev:
        lines.append("context: none (no question and no neighbouring segment in the turn)")
    cal = ev.get("calibration")
    if cal:
        gap, strongest = abs(cal.get("gap") or 0), cal.get("strongest")
        if "strongest" not in cal:
            behind = f"{_num(gap)} behind the segment's strongest code (gap)"
        elif strongest is None:
            behind = "no rival code, so no gap"
        elif strongest == code:
            behind = "the segment's strongest code, so no gap"
        elif gap:
            behind = f"{_num(gap)} behind its strongest rival code, {strongest} (gap)"
        else:
            behind = f"ahead of its strongest rival code, {strongest}, so no gap"
        lines.append(f"calibration: {_num(cal.get('z'))} standard deviations from the code's median "
                     f"over the project (z); {behind}")
    learned = ev.get("learned")
    if learned:
        lines.append(f"learned: {_num(learned.get('share'))} of the most similar human-coded "
                     f"segments carry the code (similarity-weighted share), from "
                     f"{learned.get('examples')} human example(s); trust in those neighbours "
                     f"{_num(learned.get('trust'))}, weight in the score {_num(learned.get('weight'))}")
        near = learned.get("nearest")
        if near:
            lines.append(f"nearest segment a person coded with it: segment {near.get('segment_id')} "
                         f"{_quote(near.get('text'))} cosine {_num(near.get('similarity'))}")
    shown |= {"zero_shot", "semantic", "nearest", "negative", "keyword_matches", "context",
              "calibration", "learned", "rejected_by"}
    lines += [f"{key.replace('_', ' ')}: {_plain(ev[key])}" for key in sorted(set(ev) - shown)
              if ev[key] is not None]
    return lines


def _num(value) -> str:
    return f"{value:.2f}" if isinstance(value, (int, float)) else "n/a"


def _signed(value) -> str:
    """The context's contribution: whether it raised or lowered the evidence, and by how much
    (the segment's own similarity is what it is weighed against)."""
    if not isinstance(value, (int, float)):
        return "contribution n/a"
    verb, prep = ("adds", "to") if value >= 0 else ("removes", "from")
    return f"contribution {value:+.3f} ({verb} {abs(value):.3f} {prep} the evidence)"


def _quote(text) -> str:
    return '"' + str(text or "").replace("\n", " ") + '"'


def _plain(value) -> str:
    """Any stored value in words: mappings as 'key value' pairs, lists joined by commas."""
    if isinstance(value, dict):
        return ", ".join(f"{k.replace('_', ' ')} {_plain(v)}" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return ", ".join(_plain(v) for v in value) or "none"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def human_source(src: dict) -> str:
    """Where a human coding or rejection came from, in words ('' when not recorded)."""
    if "source" not in src and "reanchored" not in src:
        return ""
    parts = [f"from {src['source']}, row {src.get('row')}"] if "source" in src else []
    if src.get("passage"):
        parts.append(f"passage at characters {src['passage'][0]}-{src['passage'][1]}")
    if src.get("review"):
        parts.append({"accept": "accepted in review", "add": "added in review",
                      "reject": "rejected in review"}.get(src["review"], src["review"]))
    parts += [f"re-anchored to corrected text from {_quote(r.get('from'))} (similarity "
              f"{_num(r.get('similarity'))})" for r in src.get("reanchored", ())]
    parts += [f"{k.replace('_', ' ')} {_plain(v)}" for k, v in src.items()
              if k not in ("source", "row", "passage", "review", "reanchored")]
    return " (" + "; ".join(parts) + ")"


def reattach_rejections(store) -> tuple[list[dict], list[dict]]:
    """Point rejections whose segment was replaced by a re-ingest at the segment now holding
    their text, or the text most like it when a correction changed it (the rule of
    :meth:`~qualcx.humancodes.InterviewText.find_near`; the old text is kept in the source).

    Returns the rejections re-anchored to edited text (with ``new_text`` and ``similarity``),
    and those whose text is gone (they are kept, unattached).
    """
    lost = store.db.execute("SELECT * FROM rejections WHERE segment_id IS NULL "
                            "ORDER BY id").fetchall()
    if not lost:
        return [], []
    from .humancodes import load_interviews, note_reanchoring, segments_for_span
    texts = load_interviews(store)
    moved, gone = [], []
    with store.transaction() as db:
        for r in lost:
            interview = texts.get(r["interview_id"])
            at = interview.text.find(r["text"]) if interview and r["text"] else -1
            end, similarity = at + len(r["text"]), 1.0
            if at < 0 and interview and r["text"]:
                near = interview.find_near(r["text"], r["start"])
                if near is not None:
                    at, end, similarity = near
            targets = segments_for_span(interview.segments, at, end) if at >= 0 else []
            if not targets:
                gone.append(dict(r))
                continue
            seg = max(targets, key=lambda s: min(end, s["end"]) - max(at, s["start"]))
            if similarity < 1.0:
                db.execute('UPDATE rejections SET segment_id = ?, start = ?, "end" = ?, text = ?, '
                           "source = ? WHERE id = ?",
                           (seg["id"], at, end, interview.text[at:end],
                            note_reanchoring(r["source"], r["text"], similarity), r["id"]))
                moved.append({**dict(r), "new_text": interview.text[at:end],
                              "similarity": similarity})
            else:
                db.execute('UPDATE rejections SET segment_id = ?, start = ?, "end" = ? '
                           "WHERE id = ?", (seg["id"], at, end, r["id"]))
    return moved, gone
