"""Every transcript format and label shape, on tiny fixtures built in tmp_path."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

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
