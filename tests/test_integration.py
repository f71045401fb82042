"""The whole pipeline with the real spaCy and sentence-transformers models on a small project."""

import csv
import io
import json

import pytest
from click.testing import CliRunner

from qualcx.cli import cli
from qualcx.project import Project

pytestmark = pytest.mark.integration

INTERVIEWS = {
    "p1.txt": """\
Interviewer: Thanks for joining. Why do customers leave you?

Sara: Mostly the price, honestly. After the price increase in spring, several small plumbing firms cancelled their subscription and moved to a cheaper competitor.
The big customers grumbled but they stayed, because switching is expensive for them.

Interviewer: And how is support doing?

Sara: Support is quick. Our agents answer most tickets within two hours, and customers tell us the support people are friendly and patient on the phone.

Interviewer: Anything else?

Sara: We moved into a new office in the city centre this year, and the coffee machine is a big improvement, everybody comes in on Tuesdays now.
""",
    "p2.txt": """\
Interviewer: Why do customers leave you?

Jussi: I think when their champion leaves the company, the new manager does not know us and they do not renew the contract.
Also the price. A competitor called them with a cheaper offer and they cancelled.

Interviewer: How do customers experience support?

Jussi: The response time on tickets is good, but complicated cases wait for days in the queue, and then customers get frustrated with support.

Interviewer: Anything else?

Jussi: Well, the new office is nice. We have a sauna on Fridays and the whole team goes there after work, it really helps with team spirit.
""",
    "p3.txt": """\
Interviewer: What makes customers cancel?

Mette: Price is the main reason. The increase hit the smallest customers hardest and some of them cancelled at renewal.

Interviewer: And support?

Mette: Support answered my last ticket within an hour. The team escalates urgent tickets quickly and keeps customers updated.

Interviewer: Anything to add?

Mette: Only that the office move went well. The new office has a big kitchen and people like coming in on Tuesdays.
""",
}


@pytest.fixture
def project_dir(make_project, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    return make_project(INTERVIEWS, toml="min_theme_segments = 3\n",
                        metadata="file,id,role\np1.txt,P1,Sales lead\np2.txt,P2,Account manager\n"
                                 "p3.txt,P3,Support agent\n")


def _codings(root):
    result = CliRunner().invoke(cli, ["-p", str(root), "-q", "export", "-o",
                                      str(root / "out.csv")])
    assert result.exit_code == 0, result.output
    return list(csv.DictReader(io.StringIO((root / "out.csv").read_text())))


def test_run_end_to_end_with_real_models_is_deterministic(project_dir):
    runner = CliRunner()
    result = runner.invoke(cli, ["-p", str(project_dir), "-q", "run"])
    assert result.exit_code == 0, result.output
    assert "Report written to" in result.output and "report.html" in result.output
    html = (project_dir / "reports" / "report.html").read_text()
    assert 'id="rq-RQ1"' in html and 'id="code-churn"' in html and "<cite>Sales lead, P1" in html
    rows = _codings(project_dir)

    # The real models must put the price talk under churn and the ticket talk under support.
    by_text = {}
    for row in rows:
        by_text.setdefault(row["text"], set()).add(row["code"])
    price = [codes for text, codes in by_text.items() if "price increase" in text]
    tickets = [codes for text, codes in by_text.items() if "answer most tickets" in text]
    assert price and price[0] & {"churn", "churn.price"}
    assert tickets and "support" in tickets[0]
    office = [codes for text, codes in by_text.items() if "sauna" in text]
    assert office and office[0] == {""}
    # the words a keyword took the place of are stored with it, as it writes them
    stored = Project(project_dir).store.db.execute("SELECT keywords, keyword_words FROM themes")
    for row in stored.fetchall():
        keywords, words = json.loads(row["keywords"]), json.loads(row["keyword_words"])
        assert set(words) <= set(keywords)
        assert all(ws and set(ws) <= set(k.split()) for k, ws in words.items())

    report_before = (project_dir / "reports" / "report.html").read_bytes()
    result = runner.invoke(cli, ["-p", str(project_dir), "-q", "run"])
    assert result.exit_code == 0, result.output
    assert "0 interview(s), 3 unchanged" in result.output.replace("Ingested ", "")
    assert _codings(project_dir) == rows
    assert (project_dir / "reports" / "report.html").read_bytes() == report_before


def test_run_records_settings_and_versions(project_dir):
    CliRunner().invoke(cli, ["-p", str(project_dir), "-q", "run"])
    project = Project(project_dir)
    runs = project.store.db.execute("SELECT command, versions, settings FROM runs").fetchall()
    assert [r["command"] for r in runs] == ["ingest", "code", "themes"]
    assert '"spacy"' in runs[1]["versions"] and '"embedding_model"' in runs[1]["settings"]


def test_real_sentence_segmentation(real_nlp):
    doc = real_nlp("Um, yes. I think so. The CRM is, you know, where everything lives.")
    assert [s.text for s in doc.sents] == ["Um, yes.", "I think so.",
                                           "The CRM is, you know, where everything lives."]
