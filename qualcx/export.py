"""Exports for other tools: the codings table (the CSV contract) and the themes table."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

from .report import write_atomic

CODINGS_COLUMNS = ["interview", "speaker", "turn", "segment", "start", "end", "text", "code",
                   "code_name", "score", "coder", "theme"]
THEMES_COLUMNS = ["theme", "label", "parent_code", "interviewees", "segments", "keywords"]
# the themes export: the contract's columns, then the machine's label of each theme (the
# contract's label is the researcher's name for a theme they named)
THEMES_EXPORT_COLUMNS = [*THEMES_COLUMNS, "machine_label", "label_reason"]


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
    """One row per stored theme: the export's columns and ``named`` (the label is the
    researcher's)."""
    rows = []
    for theme in project.store.db.execute("SELECT * FROM themes ORDER BY ordinal"):
        members = project.store.db.execute(
            "SELECT s.interview_id FROM theme_segments ts JOIN segments s ON s.id = ts.segment_id "
            "WHERE ts.theme_id = ?", (theme["id"],)).fetchall()
        rows.append({"theme": theme["key"], "label": theme["label"],
                     "parent_code": theme["parent_code"] or "",
                     "interviewees": len({m["interview_id"] for m in members}),
                     "segments": len(members),
                     "keywords": "; ".join(json.loads(theme["keywords"])),
                     "machine_label": theme["machine_label"],
                     "label_reason": " ".join(json.loads(theme["label_reason"])),
                     "named": theme["name_id"] is not None})
    return rows


def to_csv(rows: list[dict], columns: list[str]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def export(project, table: str = "codings", path: Path | None = None) -> tuple[Path, int]:
    """Write the chosen table as CSV; returns the file and the number of rows."""
    if table == "themes":
        rows, columns = themes_rows(project), THEMES_EXPORT_COLUMNS
    else:
        rows, columns = codings_rows(project), CODINGS_COLUMNS
    path = Path(path) if path else project.reports_dir / f"{table}.csv"
    write_atomic(path, to_csv(rows, columns))
    return path, len(rows)


def matrix_tables(project) -> dict[str, tuple[list[str], list[list]]]:
    """The report's matrices as plain tables: name -> (header, rows)."""
    from .analysis import (compare, cooccurrence, default_compare_attribute, load_corpus,
                           saturation, theme_interview_matrix, code_interview_matrix)
    codebook, settings = project.codebook, project.settings
    corpus = load_corpus(project.store)
    ids = [i["id"] for i in corpus.interviews]
    tables = {"code_x_interview": (
        ["code", "code_name", *ids, "segments", "interviewees"],
        [[r["code"].id, r["code"].name, *[r["counts"][i] for i in ids], r["total"],
          r["interviewees"]] for r in code_interview_matrix(corpus, codebook)])}
    tables["theme_x_interview"] = (
        ["theme", "label", "parent_code", *ids, "segments", "interviewees"],
        [[r["theme"]["key"], r["theme"]["label"], r["theme"]["parent_code"] or "",
          *[r["counts"][i] for i in ids], r["total"], r["interviewees"]]
         for r in theme_interview_matrix(corpus)])
    co = cooccurrence(corpus, codebook)
    codes = [r["code"].id for r in co]
    tables["cooccurrence"] = (["code", *codes],
                              [[r["code"].id, *[r["counts"][b] for b in codes]] for r in co])
    attribute = settings.get("compare_by") or default_compare_attribute(corpus.interviews)
    comp = compare(corpus, codebook, attribute)
    if comp:
        header = ["code", "code_name"]
        for g in comp["groups"]:
            header += [f"{g['name']}: interviewees", f"{g['name']}: of",
                       f"{g['name']}: segments", f"{g['name']}: segment share"]
        rows = [[r["code"].id, r["code"].name,
                 *[v for c in r["cells"] for v in (c["interviewees"], c["of"], c["segments"],
                                                   round(c["segment_share"], 4))]]
                for r in comp["rows"]]
        tables[f"by_{attribute}"[:31]] = (header, rows)
    sat = saturation(corpus, codebook, int(settings.get("saturation_window", 2)))
    tables["saturation"] = (["interview", "role", "new_codes", "new_themes", "codes", "themes"],
                            [[s["interview"], s["role"], "; ".join(s["new_codes"]),
                              "; ".join(s["new_themes"]), s["codes"], s["themes"]]
                             for s in sat["steps"]])
    return tables


def export_xlsx(project, path: Path | None = None) -> tuple[Path, list[str]]:
    """Write codings, themes and the matrices as sheets of one workbook; returns the file and
    the sheet names. The codings and themes sheets have the CSV files' columns."""
    import datetime as dt

    from openpyxl import Workbook

    from .project import now_iso
    wb = Workbook()
    wb.remove(wb.active)
    sheets = {"codings": (CODINGS_COLUMNS, [[float(r[c]) if c == "score" and r[c] else r[c]
                                             for c in CODINGS_COLUMNS]
                                            for r in codings_rows(project)]),
              "themes": (THEMES_EXPORT_COLUMNS, [[r[c] for c in THEMES_EXPORT_COLUMNS]
                                          for r in themes_rows(project)])}
    sheets.update(matrix_tables(project))
    for name, (header, rows) in sheets.items():
        ws = wb.create_sheet(name)
        ws.append(header)
        for row in rows:
            ws.append([_cell(v) for v in row])
            for cell in ws[ws.max_row]:
                if cell.data_type == "f":  # text that looks like a formula stays text
                    cell.data_type = "s"
        ws.freeze_panes = "B2" if name != "codings" else "A2"
    when = dt.datetime.fromisoformat(now_iso()).replace(tzinfo=None)
    wb.properties.created = wb.properties.modified = when
    wb.properties.creator = "qualcx"
    out = io.BytesIO()
    wb.save(out)
    path = Path(path) if path else project.reports_dir / "qualcx.xlsx"
    write_atomic(path, out.getvalue())
    return path, list(sheets)


def _cell(value):
    """Spreadsheet cells: numbers stay numbers; characters a workbook cannot hold are dropped."""
    if isinstance(value, str):
        return re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f]", "", value)
    return value
