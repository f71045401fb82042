"""The report as a Word document (python-docx), with the same structure as the HTML report.

Quotes use Word's "Quote" style, matrices are tables. The file is deterministic: document dates
come from ``SOURCE_DATE_EPOCH`` (or the report date) and the zip entries carry a fixed time.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import re
import zipfile

from .charts import heat_colour

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _t(value) -> str:
    """Text Word can store: no control characters, whitespace collapsed."""
    return re.sub(r"\s+", " ", _CONTROL.sub("", str(value))).strip()


def _when(context: dict) -> dt.datetime:
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.isdigit():
        return dt.datetime.fromtimestamp(int(epoch), dt.timezone.utc).replace(tzinfo=None)
    return dt.datetime.fromisoformat(context["date"])


class _Writer:
    def __init__(self, context: dict):
        from docx import Document
        from docx.shared import Pt
        self.c = context
        self.doc = Document()
        normal = self.doc.styles["Normal"]
        normal.font.size = Pt(11)

    def heading(self, text: str, level: int):
        self.doc.add_heading(_t(text), level)

    def para(self, *runs, style: str | None = None):
        """A paragraph of runs: plain strings, or (text, "b"/"i"/"bi") pairs."""
        p = self.doc.add_paragraph(style=style)
        for run in runs:
            text, fmt = (run, "") if isinstance(run, str) else run
            r = p.add_run(re.sub(r"\s+", " ", _CONTROL.sub("", str(text))))
            r.bold = "b" in fmt or None
            r.italic = "i" in fmt or None
        return p

    def quote(self, q):
        self.para(f"“{q.shown}”", style="Quote")
        self.para(f"— {q.role}, {q.interview}", style="Quote")

    def table(self, header: list[str], rows: list[list], shade: list[list[str]] | None = None,
              numeric_from: int = 1):
        from docx.enum.text import WD_ALIGN_PARAGRAPH
        table = self.doc.add_table(rows=1, cols=len(header))
        table.style = "Table Grid"
        for cell, text in zip(table.rows[0].cells, header):
            cell.text = ""
            cell.paragraphs[0].add_run(_t(text)).bold = True
        for r, row in enumerate(rows):
            cells = table.add_row().cells
            for k, (cell, value) in enumerate(zip(cells, row)):
                cell.text = _t(value)
                if k >= numeric_from and isinstance(value, (int, float)):
                    cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.RIGHT
                if shade and shade[r][k]:
                    _shade(cell, shade[r][k])
        self.doc.add_paragraph()
        return table


def _shade(cell, colour: str):
    """Fill a table cell (colour as ``rgb(r,g,b)`` or ``#rrggbb``)."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    if colour.startswith("rgb("):
        colour = "".join(f"{int(v):02X}" for v in colour[4:-1].split(","))
    fill = OxmlElement("w:shd")
    fill.set(qn("w:val"), "clear")
    fill.set(qn("w:color"), "auto")
    fill.set(qn("w:fill"), colour.lstrip("#").upper())
    cell._tc.get_or_add_tcPr().append(fill)


def render_docx(context: dict) -> bytes:
    """The report as the bytes of a .docx file."""
    w = _Writer(context)
    c = context
    w.doc.add_heading(_t(c["title"]), 0)
    w.para(f"Thematic analysis of {c['total']} interviews · project {c['project']} · {c['date']}"
           f" · qualcx {c['version']}")
    _interviewees(w, c)
    _method(w, c)
    for s in c["sections"]:
        _research_question(w, c, s)
    _emergent(w, c)
    _matrices(w, c)
    _saturation(w, c)
    _appendices(w, c)
    return _deterministic(w.doc, _when(c), c["title"])


def _interviewees(w, c):
    w.heading("Interviewees", 1)
    cols = c["meta_columns"]
    header = ["#", "Interview", "Role", *["Length (min)" if k == "minutes" else k.capitalize()
                                          for k in cols], "Respondent words"]
    rows = [[i["n"], i["id"], i["role"], *[str(i["meta"].get(k, "")) for k in cols], i["words"]]
            for i in c["interviews"]]
    w.table(header, rows, numeric_from=len(header) - 1)
    if c["ingest_warnings"]:
        w.para("Warnings when the transcripts were read:")
        for warning in c["ingest_warnings"]:
            w.para(warning, style="List Bullet")


def _method(w, c):
    run, cb = c["run"]["settings"], c["codebook"]
    w.heading("Method", 1)
    if c["stale"]:
        w.para(("Out of date: ", "b"), c["stale"])
    w.para("The study followed Kvale's seven stages of an interview inquiry.")
    w.para(("Thematizing. ", "b"), f"{len(cb.research_questions)} research questions, each "
           "answered by the codes linked to it.", style="List Number")
    for rq in cb.research_questions:
        w.para(f"{rq.id}: {rq.text}", style="List Bullet 2")
    w.para(("Designing. ", "b"), f"An interview guide of {len(cb.guide)} questions. " +
           ("Interviewee names were pseudonymised before analysis." if c["redacted"] else
            "Names were not pseudonymised by qualcx; the transcripts are shown as supplied."),
           style="List Number")
    for g in cb.guide:
        w.para(g.text, style="List Bullet 2")
    w.para(("Interviewing. ", "b"), f"{c['total']} semi-structured interviews.",
           style="List Number")
    words = sum(i["words"] for i in c["interviews"])
    w.para(("Transcribing. ", "b"), f"{words} words of respondent talk divided into "
           f"{c['segments']} coding units ({run['segment_unit']}, at most {run['chunk_words']} "
           "words). Interviewer turns serve as context only.", style="List Number")
    w.para(("Analysing. ", "b"), f"The codebook {cb.name} (version {cb.version}, {len(cb.codes)} "
           f"codes) was applied by the machine coder {run['coder_name']} (keywords on lemmas "
           f"with spaCy {run['spacy_model']}; sentence embeddings {run['embedding_model']}; "
           f"question and neighbours weighted {run['context_weight']}; scores calibrated per "
           f"code; threshold {run['threshold']}). "
           + (f"It learned from {c['run']['summary']['learned_from']} human-coded segments, "
              "every segment of an interview with human decisions decided from other "
              "interviews' codes only, so the agreement below is not measured on what it "
              "learned from (codes a person accepted from the machine in review are left out "
              "of it: they agree with the machine by construction). "
              if c["run"]["summary"].get("learned_from") else "")
           + f"{c['coverage']} {c['themes_method']}", style="List Number")
    if c["agreement"]:
        w.para(("Verifying. ", "b"), "Agreement between coders on the same segments:",
               style="List Number")
        _agreement(w, c["agreement"])
    else:
        w.para(("Verifying. ", "b"), "No human codes are stored, so agreement between coders "
               "was not measured.", style="List Number")
    w.para(("Reporting. ", "b"), "This report. Counts read “n of N interviewees, k segments”: "
           "interviewees with at least one segment carrying the code or one of its sub-codes, "
           "and how many distinct segments do; they equal the codings export. "
           + c["theme_counts_note"], style="List Number")
    w.heading("Settings to reproduce this analysis", 2)
    from .settings import _toml_value
    for key, value in sorted(run.items()):
        w.para(f"{key} = {_toml_value(value)}", style="No Spacing")


def _agreement(w, agreement):
    from .report import _num
    keys = ["kappa", "alpha", "percent", "precision", "recall", "f1", "both", "only_a", "only_b",
            "n"]
    for pair in agreement:
        w.para((f"{pair['a']} and {pair['b']}", "b"),
               f": {_num(pair['overall'].get('n'))} code × segment decisions "
               f"({_num(pair['units'])} segments × {pair['codes_compared']} codes"
               + (f", less {_num(pair['decisions_left_out'])} left out"
                  if pair["decisions_left_out"] else "")
               + ", pooled in the All codes row) over the respondent "
               f"segments {pair['units_phrase']} "
               f"{pair['interviews']} interview{'s' if pair['interviews'] != 1 else ''}"
               + (" (human_codes_complete = false: the human codes are a sample)"
                  if pair["sample"] else "")
               + "; a sub-code implies its parent."
               + (f" {pair['reviewed_left_out']}." if pair["reviewed_left_out"] else ""))
        rows = []
        if pair["overall"]:
            rows.append(["All codes", *[_num(pair["overall"].get(k)) for k in keys[:-1]],
                         _num(pair["units"])])  # its decisions are in the caption
        rows += [[r.get("code", ""), *[_num(r.get(k)) for k in keys]] for r in pair["codes"]]
        w.table(["Code", "κ", "α", "Agree", "Precision", "Recall", "F1", "Both",
                 f"Only {pair['a']}", f"Only {pair['b']}", "Segments"], rows)


def _research_question(w, c, s):
    w.heading(f"{s['rq'].id}: {s['rq'].text}", 1)
    w.table(["Code", "Interviewees", "Segments"],
            [[x["code"].name, f"{x['interviewees']} of {x['total']}", x["segments"]]
             for x in s["codes"]])
    for x in s["codes"]:
        w.heading(x["code"].name, 2)
        w.para(("Raised by ", ""), (f"{x['interviewees']} of {x['total']} interviewees", "b"),
               " in ", (f"{x['segments']} segment{'s' if x['segments'] != 1 else ''}", "b"),
               f". {x['summary']}")
        w.para((f"Code definition: {x['code'].definition}", "i"))
        if x["children"]:
            w.table(["Sub-code", "Interviewees", "Segments"],
                    [[ch["code"].name, f"{ch['interviewees']} of {x['total']}", ch["segments"]]
                     for ch in x["children"]])
        if x["subthemes"]:
            w.heading("Sub-themes", 3)
            w.para((x["subtheme_note"], "i"))
            for t in x["subthemes"]:
                _theme(w, c, t, 4)
            if x["quotes"]:
                w.heading("Further quotes", 3)
                w.para((c["further_quotes_note"], "i"))
        for q in x["quotes"]:
            w.quote(q)
        if x["missing"]:
            w.para("Not raised by: " + ", ".join(f"{i['role']} ({i['id']})"
                                                  for i in x["missing"]) + ".")


def _theme(w, c, t, level):
    w.heading(t["label"], level)
    w.para((f"{t['interviewees']} of {c['total']} interviewees, {t['segments']} segments; "
            f"keywords (segments using each): {t['keyword_text']}"
            + (f"; mostly coded: {t['sub_codes']}" if t.get("sub_codes") else "")
            + (f"; answering: {t['questions']}" if t.get("questions") else "")
            + (f"; segments also in: {t['overlaps']}" if t.get("overlaps") else "")
            + (f"; machine label: {t['machine_label']}" if t["machine_label"] else ""), "i"))
    for q in t["quotes"]:
        w.quote(q)


def _emergent(w, c):
    w.heading("Emergent themes", 1)
    if not c["emergent"]:
        w.para("Too few uncoded segments to form themes.")
    if c.get("small_talk_note"):
        w.para(c["small_talk_note"])
    for t in c["emergent"]:
        _theme(w, c, t, 2)


def _matrices(w, c):
    ids = [i["id"] for i in c["interviews"]]
    w.heading("Matrices", 1)
    w.heading("Code × interviewee", 2)
    w.para("Segments per code and interview; a code counts its sub-codes (indented).")
    rows = [[("    " if r["depth"] else "") + r["code"].name, *[r["counts"][i] for i in ids],
             r["total"]] for r in c["matrix"]]
    shade = [["", *[heat_colour(r["counts"][i], c["matrix_top"]) for i in ids], ""]
             for r in c["matrix"]]
    w.table(["Code", *ids, "Segments"], rows, shade)
    if c["theme_matrix"]:
        w.heading("Theme × interviewee", 2)
        w.para(c["theme_matrix_note"])
        w.table(["Theme", *ids, "Segments"],
                [[r["theme"]["label"], *[r["counts"][i] for i in ids], r["total"]]
                 for r in c["theme_matrix"]])
    w.heading("Code co-occurrence", 2)
    w.para("Segments coded with both codes; the diagonal gives each code's own segments.")
    w.table(["", *[r["code"].name for r in c["cooccurrence"]]],
            [[r["code"].name, *[r["counts"][b] for b in c["cooccurrence_ids"]]]
             for r in c["cooccurrence"]])
    comp = c["comparison"]
    if comp:
        w.heading(f"Comparison by {comp['attribute']}", 2)
        w.para("Interviewees of each group who raised the code, then the group's segments "
               "carrying it and their share of the group's segments."
               + (f" {c['compare_note']}" if c.get("compare_note") else ""))
        w.table(["Code", *[f"{g['name']} ({len(g['interviews'])})" for g in comp["groups"]]],
                [[("    " if r["depth"] else "") + r["code"].name,
                  *[f"{x['interviewees']} of {x['of']} ({x['segments']}; "
                    f"{100 * x['segment_share']:.0f}%)" for x in r["cells"]]]
                 for r in comp["rows"]])


def _saturation(w, c):
    sat = c["saturation"]
    w.heading("Saturation", 1)
    w.para(f"Distinct codes and themes found so far as interviews are added in {sat['order']} "
           f"order; {sat['rule']}.")
    w.para((sat["statement"], "b"))
    names = c["codebook"].codes
    w.table(["Interview", "Role", "New codes", "New themes", "Codes so far", "Themes so far"],
            [[s["interview"], s["role"],
              ", ".join(names[k].name for k in s["new_codes"]) or "none", len(s["new_themes"]),
              s["codes"], s["themes"]] for s in sat["steps"]], numeric_from=3)


def _appendices(w, c):
    cb = c["codebook"]
    w.heading("Appendix A: codebook", 1)
    w.para((f"{cb.name}", "b"), f", version {cb.version}. {cb.description}")
    for code in cb.codes.values():
        w.para((code.name, "b"), f" ({code.id}): {code.definition}",
               style="List Bullet 2" if code.parent else "List Bullet")
    w.heading("Appendix B: transcripts", 1)
    w.para("Passages quoted in this report are in bold.")
    for t in c["transcripts"]:
        w.heading(f"{t['interview']['id']}: {t['interview']['role']}", 2)
        for turn in t["turns"]:
            runs = [(f"{turn['speaker']}: ", "b")]
            runs += [(text + " ", "b" if sid is not None else "") for text, sid in turn["pieces"]]
            w.para(*runs)


def _deterministic(doc, when: dt.datetime, title: str) -> bytes:
    props = doc.core_properties
    props.author = "qualcx"
    props.last_modified_by = "qualcx"
    props.title = _t(title)
    props.created = props.modified = props.last_printed = when
    props.revision = 1
    raw = io.BytesIO()
    doc.save(raw)
    stamp = max(when, dt.datetime(1980, 1, 1)).timetuple()[:6]
    out = io.BytesIO()
    with zipfile.ZipFile(raw) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            info = zipfile.ZipInfo(item.filename, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            dst.writestr(info, src.read(item.filename))
    return out.getvalue()
