
import pytest

from qualcx.codebook import find_codebook, load_codebook, parse_codebook
from qualcx.errors import CodebookError
from qualcx.project import DEFAULT_CODEBOOK

from conftest import MINI_CODEBOOK


def test_mini_codebook_parses_with_hierarchy():
    cb = parse_codebook(MINI_CODEBOOK, "cb.yaml")
    assert list(cb.codes) == ["churn", "churn.price", "support"]
    assert cb.codes["churn.price"].parent == "churn"
    assert cb.descendants("churn") == ["churn", "churn.price"]
    assert cb.root("churn.price") == "churn"
    assert [rq.id for rq in cb.research_questions] == ["RQ1", "RQ2"]


def test_default_codebook_is_valid_and_complete():
    cb = load_codebook(DEFAULT_CODEBOOK)
    assert {c.id for c in cb.top_level} == {"cx", "journey", "crm", "service", "churn"}
    assert 3 <= len(cb.research_questions) <= 5
    assert cb.guide
    for code in cb.codes.values():
        assert code.definition and len(code.examples) >= 3, code.id


@pytest.mark.parametrize("text, message, line", [
    ("name: x\nversion: '1'\ncodes:\n  - id: a\n    name: A\n    definition: d\n    colour: red\n",
     "unknown key 'colour' in code", 7),
    ("name: x\nversion: '1'\ncodes:\n  - id: a\n    name: A\n    definition: d\n"
     "  - id: a\n    name: B\n    definition: d\n", "duplicate code id 'a'", 7),
    ("name: x\nversion: '1'\nresearch_questions:\n  - id: RQ1\n    text: t\n    codes: [b]\n"
     "codes:\n  - id: a\n    name: A\n    definition: d\n",
     "research question 'RQ1' names unknown code 'b'", 6),
    ("name: x\nversion: '1'\ncodes:\n  - id: a\n    name: A\n", "missing required key 'definition'",
     4),
    ("name: x\nversion: '1'\ncodes: []\n", "needs a non-empty 'codes' list", 3),
    ("name: x\nversion: '1'\ncodes:\n  - id: a b\n    name: A\n    definition: d\n",
     "code id 'a b' may contain only letters", 4),
    ("name: x\nversion: '1'\ncodes:\n  - id: a\n    name: A\n   definition: d\n",
     "YAML syntax error", 6),
])
def test_codebook_errors_name_file_and_line(text, message, line):
    with pytest.raises(CodebookError) as info:
        parse_codebook(text, "book.yaml")
    assert info.value.line == line
    assert str(info.value).startswith(f"book.yaml, line {line}: ")
    assert message in str(info.value)


def test_several_codebooks_need_one_named_codebook_yaml(tmp_path):
    (tmp_path / "a.yaml").write_text(MINI_CODEBOOK)
    (tmp_path / "b.yaml").write_text(MINI_CODEBOOK)
    with pytest.raises(CodebookError, match="several codebooks found \\(a.yaml, b.yaml\\)"):
        find_codebook(tmp_path)
    (tmp_path / "codebook.yaml").write_text(MINI_CODEBOOK)
    assert find_codebook(tmp_path) == tmp_path / "codebook.yaml"


def test_no_codebook_is_an_error(tmp_path):
    with pytest.raises(CodebookError, match="no codebook found"):
        find_codebook(tmp_path)
