import csv
import io
import re

import pytest

from qualcx.export import CODINGS_COLUMNS, codings_rows, export
from qualcx.nlp import Embedder
from qualcx.project import Project
from qualcx.report import write_atomic, write_report
from qualcx.themes import themes_project
from qualcx.transcribe import ingest

EVIL = """\
Interviewer: Why do they leave?

Rita: The price increase made them cancel <script>alert(1)</script> and that hurt | a lot.

Interviewer: What else?

Rita: Support <img src=x onerror=alert(2)> answered every ticket within two hours for them.
"""


@pytest.fixture
def coded_project(make_project, blank_nlp, hash_embedder, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    root = make_project({"a.txt": EVIL, "b.txt": EVIL.replace("Rita", "Olli")},
                        metadata="file,role\na.txt,Account manager\nb.txt,Support lead\n")
    project = Project(root)
    ingest(project, nlp=blank_nlp)
    with project.store.transaction() as db:
        for seg in db.execute("SELECT * FROM segments").fetchall():
            code = "churn.price" if "price" in seg["text"] else "support"
            db.execute('INSERT INTO codings (segment_id, interview_id, start, "end", text, code, '
                       "coder, is_machine, score, created_at) VALUES (?, ?, ?, ?, ?, ?, 'Ana', 0, "
                       "NULL, 'now')", (seg["id"], seg["interview_id"], seg["start"], seg["end"],
                                        seg["text"], code))
    themes_project(project, Embedder("hash", project.store, model=hash_embedder))
    return project


def test_report_structure_and_attribution(coded_project):
    html_path, md_path = write_report(coded_project)
    html = html_path.read_text()
    assert 'id="rq-RQ1"' in html and 'id="code-churn"' in html and 'id="code-support"' in html
    quotes = re.findall(r"<blockquote>.*?<cite>(.*?)</cite></blockquote>", html, re.S)
    assert "Account manager, a" in quotes and "Support lead, b" in quotes
    assert "Raised by <b>2 of 2 interviewees</b> in <b>2 segments</b>" in html
    md = md_path.read_text()
    assert "## RQ1: Why do customers leave?" in md
    assert "— Account manager, a" in md


def test_transcript_html_is_escaped_everywhere(coded_project):
    html_path, md_path = write_report(coded_project)
    for text in (html_path.read_text(), md_path.read_text()):
        assert "<script>" not in text and "<img" not in text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "cancel &lt;script&gt;alert(1)&lt;/script&gt; and that hurt \\| a lot" in \
        md_path.read_text()


def test_report_is_byte_identical_with_fixed_date(coded_project):
    first = [p.read_bytes() for p in write_report(coded_project)]
    second = [p.read_bytes() for p in write_report(coded_project)]
    assert first == second
    assert b"2023-11-14" in first[0]


def test_atomic_write_keeps_the_old_file_on_failure(tmp_path):
    target = tmp_path / "r.html"
    write_atomic(target, "good")


    with pytest.raises(TypeError):
        write_atomic(target, 42)  # not text: the write fails half way
    assert target.read_text() == "good"
    assert [p.name for p in tmp_path.iterdir()] == ["r.html"]


def test_codings_csv_contract(coded_project, blank_nlp):
    path, n = export(coded_project)
    rows = list(csv.DictReader(io.StringIO(path.read_text())))
    assert list(rows[0].keys())[:11] == CODINGS_COLUMNS[:11]
    assert list(rows[0].keys())[11] == "theme"
    assert n == len(rows) == 4
    row = rows[0]
    text = (coded_project.interviews_dir / f"{row['interview']}.txt").read_text()
    assert text[int(row["start"]):int(row["end"])] == row["text"]
    assert {r["coder"] for r in rows} == {"Ana"}
    assert {r["code_name"] for r in rows} == {"Price as a reason to leave", "Support"}


def test_uncoded_segments_get_one_row_with_empty_code(make_project, blank_nlp):
    project = Project(make_project({"a.txt": EVIL}))
    ingest(project, nlp=blank_nlp)
    rows = codings_rows(project)
    assert len(rows) == 2 and {r["code"] for r in rows} == {""}
