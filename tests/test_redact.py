"""Pseudonymisation: names, e-mails and phones become consistent placeholders."""

from qualcx.project import Project
from qualcx.redact import Redactor
from qualcx.transcribe import ingest

KEEP = ["Interviewer", "Respondent"]


def test_patterns_and_given_names_without_ner():
    r = Redactor(keep=KEEP)
    text = ("Write to maria.lopez@example.com or call +358 40 123 4567 on 12 May 2021. "
            "Maria said 00:01:02 was fine; Maria Lopez agreed.")
    out = r.redact(text, names=["Maria Lopez", "Interviewer"])
    assert out == ("Write to [EMAIL 1] or call [PHONE 1] on 12 May 2021. "
                   "[PERSON 1] said 00:01:02 was fine; [PERSON 1] agreed.")
    # the same original gets the same placeholder later, in another text
    assert r.redact("MARIA LOPEZ, 040-1234567") == "[PERSON 1], [PHONE 2]"
    assert r.redact("On 2021-10-12 and 19.10.2014") == "On 2021-10-12 and 19.10.2014"
    assert ("[PERSON 1]", "PERSON", "Maria Lopez") in r.added


def test_entity_recogniser_finds_names(real_nlp_full):
    r = Redactor(real_nlp_full, keep=KEEP)
    out = r.redact("Yesterday I met John Smith and Sarah Connor at the office in London.")
    assert out == "Yesterday I met [PERSON 1] and [PERSON 2] at the office in London."


TRANSCRIPT = """\
Interviewer: Hello Maria, how is support?

Maria Lopez: Slow. My manager Peter Jansen wrote to peter@acme.example about it.

Interviewer: Thanks, Maria.
"""


def test_ingest_redact_replaces_everywhere_and_keeps_mapping(make_project, blank_nlp,
                                                             real_nlp_full, monkeypatch):
    from qualcx import redact
    monkeypatch.setattr(redact, "load_ner", lambda name: real_nlp_full)
    root = make_project({"a.txt": TRANSCRIPT, "b.txt": "Interviewer: Who helped?\n"
                         "Juha: Peter Jansen did.\n"}, toml="redact = true\n")
    project = Project(root)
    result = ingest(project, nlp=blank_nlp)
    assert result.errors == []
    db = project.store.db
    text = db.execute("SELECT text FROM interviews WHERE id = 'a'").fetchone()[0]
    assert "Maria" not in text and "Peter" not in text and "peter@" not in text
    speakers = [r[0] for r in db.execute("SELECT DISTINCT speaker FROM turns ORDER BY speaker")]
    assert "Maria Lopez" not in speakers and "Interviewer" in speakers
    assert all("Peter" not in r[0] for r in db.execute("SELECT text FROM segments"))
    mapping = {r["original"]: r["placeholder"] for r in db.execute("SELECT * FROM redactions")}
    b = db.execute("SELECT text FROM turns WHERE interview_id = 'b' AND role = 'respondent'"
                   ).fetchone()[0]
    assert b == f"{mapping['Peter Jansen']} did."  # the same placeholder across interviews
    assert mapping["peter@acme.example"] == "[EMAIL 1]"


def test_words_to_keep_are_not_redacted(real_nlp_full):
    text = "I then asked Cork about it, and Firefox crashed."
    assert Redactor(real_nlp_full, keep=KEEP).redact(text) == \
        "I then asked [PERSON 1] about it, and [PERSON 2] crashed."  # the model's mistakes
    assert Redactor(real_nlp_full, keep=KEEP + ["Firefox", "cork"]).redact(text) == text


def test_cli_redact_flag_stays_on_for_the_project(make_project, real_nlp_full, monkeypatch):
    from click.testing import CliRunner

    from qualcx import redact
    from qualcx.cli import cli
    monkeypatch.setattr(redact, "load_ner", lambda name: real_nlp_full)
    root = make_project({"a.txt": TRANSCRIPT}, toml='segment_unit = "turn"\n')
    result = CliRunner().invoke(cli, ["-p", str(root), "ingest", "--redact"])
    assert result.exit_code == 0, result.output
    assert "Maria" not in result.output and "[PERSON 1]" in result.output  # speakers column
    result = CliRunner().invoke(cli, ["-p", str(root), "ingest"])
    assert "0 interview(s), 1 unchanged" in result.output.replace("Ingested ", "")
    project = Project(root)
    text = project.store.db.execute("SELECT text FROM interviews").fetchone()[0]
    assert "Maria" not in text and "Peter" not in text
