from pathlib import Path

import pytest
from click.testing import CliRunner

from qualcx.cli import cli

COMMANDS = ["init", "ingest", "code", "themes", "report", "run", "export"]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_explains_itself_with_an_example(command):
    result = CliRunner().invoke(cli, [command, "--help"])
    assert result.exit_code == 0
    assert "Example" in result.output and "qualcx" in result.output


def test_top_level_help_lists_commands():
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    for command in COMMANDS:
        assert command in result.output


def test_init_scaffolds_a_project(tmp_path):
    result = CliRunner().invoke(cli, ["init", str(tmp_path / "study")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "study" / "codebook" / "cx.yaml").exists()
    toml = (tmp_path / "study" / "qualcx.toml").read_text()
    assert all(line.startswith("#") or not line for line in toml.splitlines())
    assert "Project ready" in result.output


def test_missing_project_is_one_line_and_exit_1(tmp_path):
    result = CliRunner().invoke(cli, ["-p", str(tmp_path / "nope"), "ingest"])
    assert result.exit_code == 1
    assert result.output.strip().count("\n") == 0
    assert "no such folder" in result.output and "Traceback" not in result.output


def test_bad_codebook_names_file_and_line(make_project):
    root = make_project({"a.txt": "Interviewer: Hi?\nBo: Hello.\n"},
                        codebook="name: x\nversion: '1'\ncodes:\n  - id: a\n    name: A\n")
    result = CliRunner().invoke(cli, ["-p", str(root), "code"])
    assert result.exit_code == 1
    assert "codebook.yaml, line 4: missing required key 'definition'" in result.output


def test_ingest_prints_table_and_fails_at_the_end_on_a_bad_file(make_project):
    root = make_project({"a.txt": "Interviewer: Hi?\nBo: Hello there, all good.\n",
                         "b.docx": "not really a docx"},
                        toml='segment_unit = "turn"\n')
    result = CliRunner().invoke(cli, ["-p", str(root), "-q", "ingest"])
    assert result.exit_code == 1
    assert "interview" in result.output and "segments" in result.output
    assert "Ingested 1 interview(s), 0 unchanged, 1 failed." in result.output


def test_reingest_says_when_interviews_need_coding_and_repeats_no_warnings(make_project):
    root = make_project({"a.txt": "Hello there, all good.\n"},  # no labels: a warning
                        toml='segment_unit = "turn"\n')
    runner = CliRunner()
    first = runner.invoke(cli, ["-p", str(root), "-q", "ingest"])
    assert "warning:" in first.output and "run 'qualcx code'" not in first.output
    from qualcx.project import Project
    project = Project(root)
    seg = project.store.respondent_segments()[0]
    with project.store.transaction() as db:  # as if the machine had coded before
        db.execute('INSERT INTO codings (segment_id, interview_id, start, "end", text, code, '
                   "coder, is_machine, created_at) VALUES (?, ?, 0, 1, 'x', 'churn', 'qualcx', "
                   "1, 'now')", (seg["id"], seg["interview_id"]))
        db.execute("INSERT INTO runs (command, settings, versions, started_at, finished_at) "
                   "VALUES ('code', '{}', '{}', 'now', 'now')")
    project.close()
    again = runner.invoke(cli, ["-p", str(root), "-q", "ingest"])
    assert "warning:" not in again.output and "1 unchanged" in again.output
    (root / "interviews" / "a.txt").write_text("Hello there, all fine.\n")
    changed = runner.invoke(cli, ["-p", str(root), "-q", "ingest"])
    assert "1 interview(s) were read anew and have no machine codes yet" in changed.output


def test_metadata_conflict_is_said_once_and_again_when_metadata_csv_changes(make_project):
    root = make_project({"a.md": "---\nrole: Buyer\n---\nInterviewer: Why?\nBo: Price.\n"},
                        toml='segment_unit = "turn"\n', metadata="file,role\na.md,Seller\n")
    runner = CliRunner()
    first = runner.invoke(cli, ["-p", str(root), "-q", "ingest"])
    assert "warning:" in first.output and "'role' is 'Buyer' in its front matter but " \
        "'Seller' in" in first.output and "metadata.csv wins" in first.output
    again = runner.invoke(cli, ["-p", str(root), "-q", "ingest"])
    assert "warning:" not in again.output and "1 unchanged" in again.output
    (root / "interviews" / "metadata.csv").write_text("file,role\na.md,Agent\n")
    changed = runner.invoke(cli, ["-p", str(root), "-q", "ingest"])
    assert "'Buyer' in its front matter but 'Agent' in" in changed.output
    assert "'Seller'" not in changed.output and "1 unchanged" in changed.output
    (root / "interviews" / "metadata.csv").write_text("file,role\na.md,Buyer\n")
    agreed = runner.invoke(cli, ["-p", str(root), "-q", "ingest"])
    assert "warning:" not in agreed.output
    row = next(line for line in agreed.output.splitlines() if line.startswith("a "))
    assert row.split()[-1] == "0"  # no warnings stored any more


def test_run_on_a_project_without_transcripts_says_what_to_do(tmp_path):
    runner = CliRunner()
    runner.invoke(cli, ["init", str(tmp_path / "s")])
    result = runner.invoke(cli, ["-p", str(tmp_path / "s"), "-q", "run"])
    assert result.exit_code == 1
    assert "no interviews ingested yet" in result.output and "Traceback" not in result.output


def test_report_warns_when_results_are_stale_and_run_never_does(make_project, hash_embedder,
                                                                 monkeypatch):
    import docx

    from qualcx import nlp
    monkeypatch.setattr(nlp, "load_sentence_model", lambda name: hash_embedder)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    talk = "Interviewer: Why do they leave?\n{}: The price went up, so they cancel.\n"
    root = make_project({f"{name}.txt": talk.format(name.title())
                         for name in ("ann", "bo", "cy", "di", "ed")},
                        toml='spacy_model = "blank"\nsegment_unit = "turn"\n')
    runner = CliRunner()
    result = runner.invoke(cli, ["-p", str(root), "-q", "run"])
    assert result.exit_code == 0, result.output
    assert "out of date" not in result.output and "report.docx" not in result.output
    assert not (root / "reports" / "report.docx").exists()
    result = runner.invoke(cli, ["-p", str(root), "-q", "report", "--format", "docx"])
    assert result.output.splitlines() == [f"Report written to {root / 'reports' / 'report.docx'}"]

    for name in ("bo", "cy", "di", "ed"):
        (root / "interviews" / f"{name}.txt").write_text(
            talk.format(name.title()).replace("price", "cost"))
    runner.invoke(cli, ["-p", str(root), "-q", "ingest"])
    result = runner.invoke(cli, ["-p", str(root), "-q", "report"])
    assert result.exit_code == 0, result.output
    assert ("warning: report out of date: interviews bo, cy, di and 1 more were read anew after "
            "the last coding run") in result.output
    assert "Run 'qualcx code', 'qualcx themes' and 'qualcx report', or 'qualcx run'" in \
        result.output
    assert "Out of date:" in (root / "reports" / "report.html").read_text()

    result = runner.invoke(cli, ["-p", str(root), "-q", "run"])
    assert result.exit_code == 0, result.output
    assert "out of date" not in result.output.lower()
    written = [line for line in result.output.splitlines() if line.startswith("Report written")]
    assert [w.rsplit(".", 1)[1] for w in written] == ["html", "md", "docx"]
    html = (root / "reports" / "report.html").read_text()
    word = "\n".join(p.text for p in docx.Document(str(root / "reports" / "report.docx"))
                     .paragraphs)
    assert "Out of date" not in html and "Out of date" not in word
    assert "The cost went up" in html and "The cost went up" in word  # the docx is current


def test_init_says_to_write_your_own_questions_and_run_warns_until_you_do(tmp_path, monkeypatch,
                                                                          hash_embedder):
    from qualcx import nlp
    monkeypatch.setattr(nlp, "load_sentence_model", lambda name: hash_embedder)
    root = tmp_path / "study"
    runner = CliRunner()
    result = runner.invoke(cli, ["init", str(root)])
    assert "its research_questions and guide are the demo study's" in result.output
    (root / "interviews" / "a.txt").write_text("Interviewer: Why did you leave?\n"
                                               "Ann: The price went up and support was slow.\n")
    (root / "qualcx.toml").write_text('spacy_model = "blank"\nsegment_unit = "turn"\n')
    result = runner.invoke(cli, ["-p", str(root), "-q", "run"])
    assert result.exit_code == 0, result.output
    assert "still holds the default research questions and interview guide" in result.output
    book = root / "codebook" / "cx.yaml"
    text = book.read_text()
    import yaml
    first = yaml.safe_load(text)["research_questions"][0]["text"]
    book.write_text(text.replace(first, "Why do small agencies cancel?"))
    result = runner.invoke(cli, ["-p", str(root), "-q", "report"])
    assert "default interview guide" in result.output
    assert "default research questions" not in result.output
    # the demo project's own codebook is the default itself, not a copy made by init
    from qualcx.project import Project, default_questions_unchanged
    assert default_questions_unchanged(Project(Path(__file__).resolve().parents[1])) == []


def test_code_summary_says_the_counts_are_the_machine_s_and_what_it_learned_from(capsys):
    from qualcx.cli import _print_code
    _print_code({"segments": 291, "codings": 251, "coded_segments": 216, "learned_from": 230,
                 "learned_negatives": 61, "learned_interviews": 8})
    out = capsys.readouterr().out.splitlines()
    assert out == [
        "Coded 291 segments: 251 machine codings, 216 segments with at least one machine code.",
        "Learned from the human codes of 8 interviews: 230 segments a person coded (positive "
        "examples) and 61 they left uncoded (negative examples);",
        "each segment of those interviews is decided only from other interviews' codes."]
    _print_code({"segments": 291, "codings": 251, "coded_segments": 216, "learned_from": 230,
                 "learned_negatives": 0, "learned_interviews": 8, "learned_complete": False})
    assert capsys.readouterr().out.splitlines()[1] == (
        "Learned from the human codes of 8 interviews: 230 segments a person coded (positive "
        "examples) and none they left uncoded (human_codes_complete = false: the codes are a "
        "sample, so uncoded segments are not negative examples);")
    _print_code({"segments": 3, "codings": 0, "coded_segments": 0, "learned_from": 0})
    assert capsys.readouterr().out == ("Coded 3 segments: 0 machine codings, 0 segments with at "
                                       "least one machine code.\n")
    _print_code({"segments": 3, "codings": 1, "coded_segments": 1, "withheld": 2})
    assert capsys.readouterr().out.splitlines()[1] == (
        "2 codes a person rejected in review reached their threshold and were not applied "
        "(kept as near misses; 'qualcx explain' shows them).")


def test_themes_lists_the_most_shared_pairs_and_counts_the_rest(capsys):
    from types import SimpleNamespace
    from qualcx.cli import _print_shared
    from qualcx.themes import Theme

    def theme(key, parent, members):
        return Theme(key=key, label=key, keywords=(), parent_code=parent, members=tuple(members))
    # ten codes, each with a sub-theme sharing all of its 10 segments with the next code's
    themes = [theme(f"c{i}-1", f"c{i}", range(10 * i, 10 * i + 10)) for i in range(10)]
    themes += [theme(f"d{i}-1", f"d{i}", range(10 * i, 10 * i + 10 - i)) for i in range(10)]
    _print_shared(SimpleNamespace(themes=themes), shown=3)
    out = capsys.readouterr().out
    assert out.count(" and d") == 3 and "most shared first: c0-1 and d0-1 (10)" in out
    assert "; and 7 more pairs ('qualcx explain KEY' lists the sub-themes" in out
    _print_shared(SimpleNamespace(themes=themes[:2] + themes[10:12]))
    assert "more pairs" not in capsys.readouterr().out
