"""Every transcript format and label shape, on tiny fixtures built in tmp_path."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from conftest import text_file

from qualcx.errors import TranscriptFormatError
from qualcx.project import Project
from qualcx.settings import defaults
from qualcx.transcribe import ingest, parse_file

SETTINGS = defaults()


def make_odt(path: Path, paragraphs: list[str], table: list[list[str]] | None = None) -> Path:
    from odf.opendocument import OpenDocumentText
    from odf.table import Table, TableCell, TableColumn, TableRow
    from odf.text import P
    doc = OpenDocumentText()
    for para in paragraphs:
        p = P()
        # tabs and runs of spaces as ODF writes them
        from odf.text import S, Tab
        for i, piece in enumerate(para.split("\t")):
            if i:
                p.addElement(Tab())
            lead = len(piece) - len(piece.lstrip(" "))
            if lead:
                p.addElement(S(c=lead))
            p.addText(piece.lstrip(" "))
        doc.text.addElement(p)
    if table:
        t = Table(name="T")
        t.addElement(TableColumn(numbercolumnsrepeated=len(table[0])))
        for row in table:
            tr = TableRow()
            for cell in row:
                tc = TableCell()
                tc.addElement(P(text=cell))
                tr.addElement(tc)
            t.addElement(tr)
        doc.text.addElement(t)
    path.parent.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    doc.write(buf)
    path.write_bytes(buf.getvalue())
    return path


def parse(path: Path, **settings):
    return parse_file(path, path.parent, {}, {**SETTINGS, **settings})


def speakers(transcript):
    return [(t.speaker, t.role) for t in transcript.turns]


def check_offsets(transcript):
    for t in transcript.turns:
        assert transcript.text[t.start:t.end] == t.text


# -- OpenDocument ------------------------------------------------------------------------------

USABILITY = [
    "1 Read the ‘Home’ tab information.",
    "\tHome tab information, that's where I start yeah?",
    "\tMODERATOR: Yes",
    "\tOkay, so are we ready to start?",
    "    1.a Was the information presented enough for you?",
    "    \tOkay, yeah. It tells me again quite well.",
    "    1.b If not, what information would you add?",
    "    \tI can't think of anything.",
    "2 Login with the credentials provided.",
    "\tSign in ... okay",
    "\t\tHeat map: shows the values per day.",
    "\t4 events and 4 data sets, that seems enough.",
    "        c.i Data Provenance",
    "        \tMy memory is that there were 4 events.",
]


def test_odt_usability_transcript_guide_items_and_moderator(tmp_path):
    (t,) = parse(make_odt(tmp_path / "P10_GMT20211130.odt", USABILITY))
    assert t.id == "P10_GMT20211130"
    assert [(s, r, x[:12]) for (s, r), x in zip(speakers(t), [u.text for u in t.turns])] == [
        ("MODERATOR", "interviewer", "1 Read the ‘"),
        ("Respondent", "respondent", "Home tab inf"),
        ("MODERATOR", "interviewer", "Yes"),
        ("Respondent", "respondent", "Okay, so are"),
        ("MODERATOR", "interviewer", "1.a Was the "),
        ("Respondent", "respondent", "Okay, yeah. "),
        ("MODERATOR", "interviewer", "1.b If not, "),
        ("Respondent", "respondent", "I can't thin"),
        ("MODERATOR", "interviewer", "2 Login with"),
        ("Respondent", "respondent", "Sign in ... "),
        ("MODERATOR", "interviewer", "c.i Data Pro"),
        ("Respondent", "respondent", "My memory is")]
    # "Heat map:" is talk, not a speaker; a line starting with a number is talk, not item 4
    assert "Heat map: shows" in t.turns[9].text and "4 events and 4" in t.turns[9].text
    check_offsets(t)


def test_odt_speaker_table(tmp_path):
    path = make_odt(tmp_path / "table.odt", ["Interview 3, 2024"],
                    [["Speaker", "Text"], ["Interviewer", "Why did you leave?"],
                     ["Ana: Sales", "The price went up."], ["Ana: Sales", "And support was slow."],
                     ["Interviewer", "Anything else?"], ["Ana: Sales", "No."]])
    (t,) = parse(path)
    assert speakers(t) == [("Interviewer", "interviewer"), ("Ana: Sales", "respondent"),
                           ("Interviewer", "interviewer"), ("Ana: Sales", "respondent")]
    assert t.turns[1].text == "The price went up. And support was slow."
    check_offsets(t)


def test_corrupt_odt_is_a_clear_error(tmp_path):
    path = tmp_path / "bad.odt"
    path.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(TranscriptFormatError, match="bad.odt: not a valid OpenDocument file"):
        parse(path)


def test_odt_ingests_into_the_store(make_project, blank_nlp):
    root = make_project({})
    make_odt(root / "interviews" / "P1_GMT2021.odt", USABILITY)
    project = Project(root)
    result = ingest(project, nlp=blank_nlp)
    assert result.errors == [] and [r["interview"] for r in result.rows] == ["P1_GMT2021"]
    assert result.rows[0]["speakers"] == "MODERATOR, Respondent"


# -- label shapes in plain text ---------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("MARIA: We call them.\nINTERVIEWER: Why?\nMARIA: Because.\n",
     [("MARIA", "respondent"), ("INTERVIEWER", "interviewer"), ("MARIA", "respondent")]),
    ("Q: Why do they leave?\nA: The price.\nQ: Anything else?\nA: Support.\n",
     [("Q", "interviewer"), ("A", "respondent")] * 2),
    ("Interviewer: Why?\nRespondent: The price.\nInterviewer: And?\nRespondent: Support.\n",
     [("Interviewer", "interviewer"), ("Respondent", "respondent")] * 2),
    ("00:00:05 Interviewer: Why?\n00:00:09 Bo Ek: The price.\n00:00:12 Interviewer: Ok?\n",
     [("Interviewer", "interviewer"), ("Bo Ek", "respondent"), ("Interviewer", "interviewer")]),
    ("[00:00:05] Interviewer: Why?\n[00:00:09] Bo Ek: The price.\n[00:01:02] Bo Ek: And more.\n",
     [("Interviewer", "interviewer"), ("Bo Ek", "respondent"), ("Bo Ek", "respondent")]),
])
def test_label_shapes(tmp_path, text, expected):
    (t,) = parse(text_file(tmp_path, text))
    assert speakers(t) == expected
    check_offsets(t)


def test_bracketed_timestamps_are_kept(tmp_path):
    (t,) = parse(text_file(tmp_path, "[00:00:05] Interviewer: Why?\n[01:02] Bo: Price.\n"))
    assert [(x.text, x.start_time) for x in t.turns] == [("Why?", 5.0), ("Price.", 62.0)]


def test_otter_labels_on_their_own_line(tmp_path):
    text = ("Speaker 1  (00:00:02):\nWhy do customers leave?\n\n"
            "Speaker 2  (00:00:07):\nMostly the price.\nAnd the support.\n\n"
            "Speaker 1  (00:00:15):\nAnything else?\n\nSpeaker 2  (00:00:18):\nNo.\n")
    (t,) = parse(text_file(tmp_path, text))
    assert speakers(t) == [("Speaker 1", "interviewer"), ("Speaker 2", "respondent")] * 2
    assert t.turns[1].text == "Mostly the price.\nAnd the support."
    assert [x.start_time for x in t.turns] == [2.0, 7.0, 15.0, 18.0]
    check_offsets(t)


def test_zoom_timestamp_then_name_lines(tmp_path):
    text = ("00:00:03 Anna Berg\nHow do you use the product?\n\n"
            "00:00:09 Juha Virta\nEvery day, for billing.\n\n"
            "00:00:20 Anna Berg\nWhat would you change?\n\n00:00:24 Juha Virta\nThe reports.\n")
    (t,) = parse(text_file(tmp_path, text))
    assert speakers(t) == [("Anna Berg", "interviewer"), ("Juha Virta", "respondent")] * 2
    assert t.turns[3].text == "The reports." and t.turns[3].start_time == 24.0
    check_offsets(t)


def test_speaker_name_with_a_colon(tmp_path):
    text = ("Interviewer: Why?\nTeam A: Lead: The price went up.\nInterviewer: And?\n"
            "Team A: Lead: Support: it was slow.\n")
    (t,) = parse(text_file(tmp_path, text))
    assert speakers(t) == [("Interviewer", "interviewer"), ("Team A: Lead", "respondent")] * 2
    assert t.turns[3].text == "Support: it was slow."


def test_multiline_turns_with_blank_lines(tmp_path):
    text = "Interviewer: Tell me.\n\nMaria: First line.\n\nSecond paragraph.\n\nInterviewer: Ok?\n"
    (t,) = parse(text_file(tmp_path, text))
    assert t.turns[1].text == "First line.\n\nSecond paragraph."


def test_label_less_file_is_a_monologue(tmp_path):
    (t,) = parse(text_file(tmp_path, "I think the support is fine.\nSometimes slow.\n", "m.txt"))
    assert speakers(t) == [("Respondent", "respondent")]
    assert "m.txt: no speaker labels found" in t.warnings[0]


def test_only_the_interviewer_labelled(tmp_path):
    text = "Interviewer: Why do they leave?\nThe price went up.\nInterviewer: And?\nSupport.\n"
    (t,) = parse(text_file(tmp_path, text))
    assert [(s, x.text) for (s, _), x in zip(speakers(t), t.turns)] == [
        ("Interviewer", "Why do they leave?"), ("Respondent", "The price went up."),
        ("Interviewer", "And?"), ("Respondent", "Support.")]


def test_front_matter_is_metadata_and_offsets_stay(tmp_path):
    text = "---\nrole: Sales lead\ncountry: Finland\n---\nInterviewer: Why?\nBo: Price.\n"
    (t,) = parse(text_file(tmp_path, text, "fm.md"))
    assert t.metadata == {"role": "Sales lead", "country": "Finland"}
    assert speakers(t) == [("Interviewer", "interviewer"), ("Bo", "respondent")]
    assert text[t.turns[1].start:t.turns[1].end] == "Price."


# -- encodings --------------------------------------------------------------------------------

@pytest.mark.parametrize("encoding, warned", [("utf-8", False), ("utf-8-sig", False),
                                              ("utf-16", False), ("cp1252", True)])
def test_encodings(tmp_path, encoding, warned):
    (t,) = parse(text_file(tmp_path, "Interviewer: Hej?\r\nÅsa: Café – ok.\r\n", "e.txt",
                           encoding))
    assert t.turns[1].text == "Café – ok." and t.turns[1].speaker == "Åsa"
    assert bool(t.warnings) == warned
    if warned:
        assert t.warnings == ["e.txt: not UTF-8; read as cp1252 (Windows-1252)"]


def test_undecodable_and_empty_files(tmp_path):
    (tmp_path / "bad.txt").write_bytes(b"Q: \x81\x8d\x90 hi\n")
    with pytest.raises(TranscriptFormatError, match="bad.txt: the bytes are neither UTF-8"):
        parse(tmp_path / "bad.txt")
    with pytest.raises(TranscriptFormatError, match="empty.txt: the file is empty"):
        parse(text_file(tmp_path, "\ufeff \n", "empty.txt"))


# -- Word ---------------------------------------------------------------------------------------

def make_docx(path: Path, paragraphs: list[str], table: list[list[str]] | None = None) -> Path:
    import docx
    document = docx.Document()
    for para in paragraphs:
        document.add_paragraph(para)
    if table:
        t = document.add_table(rows=len(table), cols=len(table[0]))
        for r, row in enumerate(table):
            for c, cell in enumerate(row):
                t.cell(r, c).text = cell
    path.parent.mkdir(parents=True, exist_ok=True)
    document.save(str(path))
    return path


def test_docx_paragraphs(tmp_path):
    path = make_docx(tmp_path / "w.docx", ["Interviewer: Why do they leave?",
                                           "Maria: The price went up.", "Some cancelled.",
                                           "Interviewer: And support?", "Maria: Slow."])
    (t,) = parse(path)
    assert speakers(t) == [("Interviewer", "interviewer"), ("Maria", "respondent")] * 2
    assert t.turns[1].text == "The price went up.\nSome cancelled."
    check_offsets(t)


def test_docx_speaker_text_table_with_times(tmp_path):
    path = make_docx(tmp_path / "w.docx", ["Study X, interview 4"],
                     [["Time", "Speaker", "Text"], ["00:00:01", "Interviewer", "Why?"],
                      ["00:00:04", "Bo", "The price."], ["00:00:09", "Interviewer", "And?"],
                      ["00:00:12", "Bo", "Support."]])
    (t,) = parse(path)
    assert speakers(t) == [("Interviewer", "interviewer"), ("Bo", "respondent")] * 2
    assert [x.start_time for x in t.turns] == [1.0, 4.0, 9.0, 12.0]
    assert t.warnings == ['w.docx: text outside the speaker table was skipped: "Study X, '
                          'interview 4"']
    check_offsets(t)


def test_docx_table_warns_once_about_the_paragraphs_it_skips_shortened(tmp_path):
    """As text before the first label of a paragraph transcript is, the title and notes around
    a speaker table are named in one warning, shortened."""
    path = make_docx(tmp_path / "P05.docx",
                     ["Remote onboarding study, interview 5 with the HR business partner, "
                      "recorded on Zoom", "", "Consent given."],
                     [["Speaker", "Text"], ["Interviewer", "Can you describe the program?"],
                      ["Dana", "It runs for two weeks, then the team takes over."],
                      ["Interviewer", "And after that?"], ["Dana", "A survey at day ninety."]])
    (t,) = parse(path)
    assert [x.speaker for x in t.turns] == ["Interviewer", "Dana"] * 2
    assert t.warnings == ['P05.docx: text outside the speaker table was skipped: "Remote '
                          'onboarding study, interview 5 with the HR business p…"']
    (t,) = parse(make_docx(tmp_path / "plain.docx", [], [["Speaker", "Text"],
                                                         ["Interviewer", "Why?"], ["Bo", "Price."],
                                                         ["Interviewer", "And?"], ["Bo", "No."]]))
    assert t.warnings == []


def test_docx_paragraphs_name_the_text_before_the_first_label(tmp_path):
    (t,) = parse(make_docx(tmp_path / "P02.docx", ["Interview 2", "Tomás, junior engineer",
                                                   "Interviewer: Why?", "Tomás: Access."]))
    assert t.warnings == ['P02.docx: text before the first speaker label was skipped: '
                          '"Interview 2 / Tomás, junior engineer"']


def test_redacted_table_warning_does_not_quote_names(tmp_path):
    from qualcx.redact import Redactor
    path = make_docx(tmp_path / "w.docx", ["Interview with Dana Berg"],
                     [["Speaker", "Text"], ["Interviewer", "Can you describe the program?"],
                      ["Dana Berg", "It runs for two weeks, then the team takes over."],
                      ["Interviewer", "And after that?"], ["Dana Berg", "A survey."]])
    settings = defaults()
    (t,) = parse_file(path, tmp_path, {}, settings, Redactor(keep=settings["interviewer_labels"]))
    assert t.warnings == ['w.docx: text outside the speaker table was skipped: "Interview with '
                          '[PERSON 1]"']


def test_corrupt_docx(tmp_path):
    path = tmp_path / "broken.docx"
    path.write_bytes(b"this is not a zip at all")
    with pytest.raises(TranscriptFormatError, match="broken.docx: not a valid Word .docx file"):
        parse(path)


# -- captions ------------------------------------------------------------------------------------

VTT = """WEBVTT

1
00:00:01.000 --> 00:00:03.000
<v Anna Berg>Why do customers leave?

2
00:00:03.500 --> 00:00:06.000
<v Juha>Mostly the price.

3
00:00:05.800 --> 00:00:07.000
<v Anna Berg>Mm.

4
00:00:06.000 --> 00:00:09.000
<v Juha>And support was slow.</v>

5
00:00:09.500 --> 00:00:11.000
It took days.
"""


def test_vtt_voice_tags_merge_and_overlap(tmp_path):
    (t,) = parse(text_file(tmp_path, VTT, "c.vtt"))
    assert [(x.speaker, x.text, x.start_time, x.end_time) for x in t.turns] == [
        ("Anna Berg", "Why do customers leave?", 1.0, 3.0),
        ("Juha", "Mostly the price.", 3.5, 6.0),
        ("Anna Berg", "Mm.", 5.8, 7.0),
        ("Juha", "And support was slow. It took days.", 6.0, 11.0)]
    assert t.turns[0].role == "interviewer"
    check_offsets(t)


def test_srt_name_prefixes(tmp_path):
    srt = ("1\n00:00:01,000 --> 00:00:02,500\nInterviewer: Why?\n\n"
           "2\n00:00:03,000 --> 00:00:05,000\nMaria: The price\nwent up.\n\n"
           "3\n00:00:05,000 --> 00:00:06,000\nMaria: A lot.\n")
    (t,) = parse(text_file(tmp_path, srt, "c.srt"))
    assert [(x.speaker, x.text, x.start_time) for x in t.turns] == [
        ("Interviewer", "Why?", 1.0), ("Maria", "The price went up. A lot.", 3.0)]


# -- PDF -------------------------------------------------------------------------------------------

def make_pdf(path: Path, lines: list[str]) -> Path:
    """A one-page PDF with a text layer, written by hand."""
    ops = ["BT", "/F1 11 Tf", "14 TL", "50 780 Td"]
    for line in lines:
        ops.append("(" + line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
                   + ") Tj T*")
    ops.append("ET")
    stream = "\n".join(ops).encode("latin-1")
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>",
               b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 842] /Contents 4 0 R "
               b"/Resources << /Font << /F1 5 0 R >> >> >>",
               b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, obj in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + obj + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, xref)
    path.write_bytes(bytes(out))
    return path


def test_pdf_text_layer(tmp_path):
    path = make_pdf(tmp_path / "p.pdf", ["Interviewer: Why do they leave?",
                                         "Maria: The price went up.",
                                         "Interviewer: And support?", "Maria: Slow."])
    (t,) = parse(path)
    assert speakers(t) == [("Interviewer", "interviewer"), ("Maria", "respondent")] * 2
    assert t.turns[1].text == "The price went up."


def test_pdf_without_text_is_refused(tmp_path):
    with pytest.raises(TranscriptFormatError, match="scan.pdf: the PDF has no text layer"):
        parse(make_pdf(tmp_path / "scan.pdf", []))


# -- tables ---------------------------------------------------------------------------------------

LONG_CSV = """participant;Speaker;Utterance;Start
P1;Interviewer;Warum kündigen Kunden?;00:00:01
P1;Jürgen;Der Preis – zu hoch.;00:00:04
P1;Jürgen;Und der Support.;00:00:08
P2;Interviewer;Warum?;00:00:01
P2;Åsa;Support.;00:00:03
"""


def test_long_csv_in_cp1252_gives_one_interview_per_id(tmp_path):
    docs = parse(text_file(tmp_path, LONG_CSV, "long.csv", "cp1252"))
    assert [d.id for d in docs] == ["P1", "P2"]
    assert [d.file for d in docs] == ["long.csv#P1", "long.csv#P2"]
    assert speakers(docs[0]) == [("Interviewer", "interviewer"), ("Jürgen", "respondent")]
    assert docs[0].turns[1].text == "Der Preis – zu hoch. Und der Support."
    assert docs[0].turns[1].start_time == 4.0
    assert docs[0].warnings == ["long.csv: not UTF-8; read as cp1252 (Windows-1252)"]
    check_offsets(docs[0])


def test_long_table_columns_from_settings(tmp_path):
    path = text_file(tmp_path, "who,said\nInterviewer,Why?\nBo,Price.\n", "x.csv")
    with pytest.raises(TranscriptFormatError, match="x.csv, line 1: no column 'speaker'"):
        parse(path, table_columns={"speaker": "speaker"})
    (t,) = parse(path, table_columns={"speaker": "who"})
    assert t.id == "x" and speakers(t) == [("Interviewer", "interviewer"), ("Bo", "respondent")]


def make_xlsx(path: Path, rows: list[list]) -> Path:
    import openpyxl
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    book.save(path)
    return path


def test_wide_xlsx_links_answers_to_guide_questions(tmp_path):
    path = make_xlsx(tmp_path / "survey.xlsx", [
        ["Participant", "Role", "Why did you leave?", "How was support?"],
        ["P1", "Buyer", "Too expensive.", "Slow."],
        ["P2", "User", None, "Good."]])
    docs = parse(path, table_questions={"Why did you leave?": "Q1", "How was support?": "Q2"})
    assert [d.id for d in docs] == ["P1", "P2"]
    assert docs[0].metadata == {"role": "Buyer"}
    assert [(x.role, x.text, x.question_id) for x in docs[0].turns] == [
        ("interviewer", "Why did you leave?", "Q1"), ("respondent", "Too expensive.", "Q1"),
        ("interviewer", "How was support?", "Q2"), ("respondent", "Slow.", "Q2")]
    assert [x.text for x in docs[1].turns] == ["How was support?", "Good."]
    check_offsets(docs[0])


def test_table_row_limit(tmp_path):
    path = text_file(tmp_path, "speaker,text\n" + "Bo,hi\n" * 20, "big.csv")
    with pytest.raises(TranscriptFormatError, match="big.csv: has more than 10 rows; split it or "
                                                    "raise the max_table_rows setting"):
        parse(path, max_table_rows=10)


def test_file_size_limit(tmp_path):
    path = text_file(tmp_path, "Interviewer: Hi?\nBo: " + "word " * 300000, "huge.txt")
    with pytest.raises(TranscriptFormatError, match=r"huge.txt: is 1 MB, over the max_file_mb "
                                                    r"limit of 1 MB"):
        parse(path, max_file_mb=1)


def test_cli_ingest_table_and_one_bad_file(make_project):
    from click.testing import CliRunner

    from qualcx.cli import cli
    root = make_project({"a.txt": "Interviewer: Why?\nMaria: The price went up.\n",
                         "notes.rtf": "{\\rtf1 hi}"},
                        metadata="file,role\na.txt,Buyer\n")
    (root / "qualcx.toml").write_text('segment_unit = "turn"\n')
    make_docx(root / "interviews" / "broken.docx", ["x"])
    (root / "interviews" / "broken.docx").write_bytes(b"PK\x03\x04broken")
    result = CliRunner().invoke(cli, ["-p", str(root), "ingest"])
    assert result.exit_code == 1
    out = result.output
    assert "interview  speakers" in out and "resp. words" in out
    row = next(line for line in out.splitlines() if line.startswith("a "))
    assert row.split() == ["a", "Interviewer,", "Maria", "2", "4", "1", "0"]
    assert "broken.docx: not a valid Word .docx file" in out
    assert "notes.rtf: unsupported file type '.rtf'" in out
    assert "metadata.csv" not in out
    assert "Ingested 1 interview(s), 0 unchanged, 2 failed." in out


def test_focus_group_respondents_are_kept_apart(tmp_path):
    text = ("Moderator: What do you think of the new portal?\nAnna: It is faster.\n"
            "Bo: I disagree, it is slower for me.\nAnna: Really?\n"
            "Moderator: Why might that be?\nBo: My old laptop.\n")
    (t,) = parse(text_file(tmp_path, text))
    assert speakers(t) == [("Moderator", "interviewer"), ("Anna", "respondent"),
                           ("Bo", "respondent"), ("Anna", "respondent"),
                           ("Moderator", "interviewer"), ("Bo", "respondent")]


def test_wide_table_column_without_id_links_by_meaning(make_project, blank_nlp, hash_embedder):
    from qualcx.nlp import Embedder
    root = make_project({"answers.csv": "id,Why do customers leave?,team\nP1,Price.,Sales\n"},
                        toml='table_questions = { "Why do customers leave?" = "" }\n')
    project = Project(root)
    result = ingest(project, nlp=blank_nlp, embedder=Embedder("hash", None, model=hash_embedder))
    assert result.errors == []
    rows = project.store.db.execute("SELECT i.id, i.file, i.metadata, t.role, t.question_id "
                                    "FROM turns t JOIN interviews i ON i.id = t.interview_id "
                                    "ORDER BY t.idx").fetchall()
    assert [tuple(r) for r in rows] == [
        ("P1", "answers.csv#P1", '{"team": "Sales"}', "interviewer", "Q1"),
        ("P1", "answers.csv#P1", '{"team": "Sales"}', "respondent", "Q1")]
