"""Exports for other tools: the codings table (the CSV contract) and the themes table."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from .report import write_atomic

CODINGS_COLUMNS = ["interview", "speaker", "turn", "segment", "start", "end", "text", "code",
                   "code_name", "score", "coder", "theme"]
THEMES_COLUMNS = ["theme", "label", "parent_code", "interviewees", "segments", "keywords"]


def codings_rows(project) -> list[dict]:
    """One row per (segment, code, coder), and one with an empty code per uncoded segment."""
    store = project.store
    names = {c.id: c.name for c in project.codebook.codes.values()}
    themes: dict[int, list[str]] = {}
    for row in store.db.execute("SELECT ts.segment_id, t.key FROM theme_segments ts "
                                "JOIN themes t ON t.id = ts.theme_id ORDER BY t.ordinal"):
        themes.setdefault(row["segment_id"], []).append(row["key"])
    by_segment: dict[int, list] = {}
    for coding in store.codings():
        by_segment.setdefault(coding["segment_id"], []).append(coding)
    rows = []
    for seg in store.respondent_segments():
        base = {"interview": seg["interview_id"], "speaker": seg["speaker"],
                "turn": seg["turn_idx"], "segment": seg["idx"], "start": seg["start"],
                "end": seg["end"], "text": seg["text"],
                "theme": "; ".join(themes.get(seg["id"], []))}
        codings = by_segment.get(seg["id"], [])
        for coding in codings:
            score = "" if coding["score"] is None else f"{coding['score']:.4f}"
            rows.append({**base, "code": coding["code"],
                         "code_name": names.get(coding["code"], ""), "score": score,
                         "coder": coding["coder"]})
        if not codings:
            rows.append({**base, "code": "", "code_name": "", "score": "", "coder": ""})
    return rows


def themes_rows(project) -> list[dict]:
    rows = []
    for theme in project.store.db.execute("SELECT * FROM themes ORDER BY ordinal"):
        members = project.store.db.execute(
            "SELECT s.interview_id FROM theme_segments ts JOIN segments s ON s.id = ts.segment_id "
            "WHERE ts.theme_id = ?", (theme["id"],)).fetchall()
        rows.append({"theme": theme["key"], "label": theme["label"],
                     "parent_code": theme["parent_code"] or "",
                     "interviewees": len({m["interview_id"] for m in members}),
                     "segments": len(members),
                     "keywords": "; ".join(json.loads(theme["keywords"]))})
    return rows


def to_csv(rows: list[dict], columns: list[str]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def export(project, table: str = "codings", path: Path | None = None) -> tuple[Path, int]:
    """Write the chosen table as CSV; returns the file and the number of rows."""
    if table == "themes":
        rows, columns = themes_rows(project), THEMES_COLUMNS
    else:
        rows, columns = codings_rows(project), CODINGS_COLUMNS
    path = Path(path) if path else project.reports_dir / f"{table}.csv"
    write_atomic(path, to_csv(rows, columns))
    return path, len(rows)
