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
