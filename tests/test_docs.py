"""The README stays true: commands, settings and contracts it names exist."""

import re
from pathlib import Path

from qualcx.cli import cli
from qualcx.export import CODINGS_COLUMNS, THEMES_COLUMNS
from qualcx.settings import SETTINGS, _toml_value

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def test_readme_two_commands_exist_and_ci_runs_the_test_command():
    assert "./scripts/demo.sh" in README and "./scripts/test.sh" in README
    for script in ("demo.sh", "test.sh", "setup.sh"):
        assert (ROOT / "scripts" / script).stat().st_mode & 0o111
    assert "scripts/test.sh" in (ROOT / ".ci" / "run").read_text()


def test_readme_lists_every_command():
    for name in cli.commands:
        assert f"`qualcx {name}" in README, name


def test_readme_settings_table_matches_the_settings():
    for s in SETTINGS:
        assert f"| `{s.name}` | `{_toml_value(s.default)}` | {s.help} |" in README, s.name


def test_readme_states_the_csv_contracts():
    assert ", ".join(CODINGS_COLUMNS) in README
    assert ", ".join(THEMES_COLUMNS[:4]) in README


def test_project_speaks_only_of_itself():
    banned = re.compile(r"\b(chatgpt|openai|claude|llm|copilot)\b", re.I)
    for path in [ROOT / "README.md", *ROOT.glob("qualcx/**/*.py")]:
        assert not banned.search(path.read_text()), path
