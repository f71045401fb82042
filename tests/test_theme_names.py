"""The researcher's names for themes: given with --rename, kept over re-runs, never dropped."""

import csv
import json
import sqlite3

import pytest
from click.testing import CliRunner
from conftest import V5_COLUMNS, code_support_talk

from qualcx import pipeline
from qualcx.cli import cli
from qualcx.project import Project
from qualcx.store import SCHEMA, SCHEMA_VERSION, Store
from qualcx.theme_names import match_names

from test_themes import OFFICE, SUPPORT


@pytest.fixture
def themed(make_project, blank_nlp, hash_embedder, monkeypatch):
    """A project with support sub-themes and emergent themes, and a ``qualcx`` runner."""
    from qualcx.nlp import Embedder
    from qualcx.transcribe import ingest
    turns = [f"Interviewer: Tell me more?\n\nAli: {t} here {i}.\n" for i in range(3)
             for t in SUPPORT + OFFICE]
    root = make_project({"a.txt": "\n".join(turns), "b.txt": "\n".join(turns).replace("Ali", "Bo"),
                         "c.txt": "\n".join(turns).replace("Ali", "Cy")},
                        toml='segment_unit = "turn"\nmin_theme_segments = 6\n')
    ingest(Project(root), nlp=blank_nlp)
    code_support(root)
    monkeypatch.setattr(pipeline, "_embedder",
                        lambda p: Embedder("hash", p.store, model=hash_embedder))
    monkeypatch.setattr("qualcx.nlp.load_spacy", lambda *a, **k: blank_nlp)

    def qualcx(*args):
        return CliRunner().invoke(cli, ["-p", str(root), "-q", *args])
    qualcx.root = root
    result = qualcx("themes")
    assert result.exit_code == 0, result.output
    return qualcx


def code_support(root):
    code_support_talk(Project(root).store)


def stored(root):
    return {r["key"]: dict(r) for r in Project(root).store.db.execute("SELECT * FROM themes")}


def names(root):
    return Project(root).store.db.execute("SELECT * FROM theme_names ORDER BY id").fetchall()


def test_a_name_shows_in_the_table_report_export_and_draft_codes_without_clustering_again(
        themed, monkeypatch):
    themes = stored(themed.root)
    key = next(k for k, t in themes.items() if t["parent_code"] is None)
    machine = themes[key]["label"]
    monkeypatch.setattr(pipeline, "themes", lambda *a, **k: pytest.fail("clustered again"))
    result = themed("themes", "--rename", key, "Customer champions")
    assert result.exit_code == 0, result.output + result.stderr
    assert f"{key}: named 'Customer champions' (machine label: '{machine}')" in result.stdout
    assert "Customer champions*" in result.stdout
    assert "* named by you; machine label in the report" in result.stdout
    row = names(themed.root)[0]
    assert (row["label"], row["parent_code"], row["machine_label"], row["theme_key"]) == \
        ("Customer champions", None, machine, key)
    assert len(json.loads(row["members"])) == \
        Project(themed.root).store.db.execute(
            "SELECT COUNT(*) FROM theme_segments WHERE theme_id = ?",
            (themes[key]["id"],)).fetchone()[0]

    assert themed("export", "--table", "themes").exit_code == 0
    with open(themed.root / "reports" / "themes.csv", encoding="utf-8") as f:
        exported = {r["theme"]: r for r in csv.DictReader(f)}
    assert exported[key]["label"] == "Customer champions"
    assert exported[key]["machine_label"] == machine
    other = next(k for k in exported if k != key)
    assert exported[other]["label"] == exported[other]["machine_label"]

    assert themed("report", "--format", "md", "--format", "html").exit_code == 0
    md = (themed.root / "reports" / "report.md").read_text(encoding="utf-8")
    html = (themed.root / "reports" / "report.html").read_text(encoding="utf-8")
    assert "### Customer champions" in md and f"machine label: {machine}" in md
    assert "Customer champions" in html and f"machine label: {machine}" in html
    assert md.count("machine label:") == 1

    from docx import Document
    assert themed("report", "--format", "docx").exit_code == 0
    docx = "\n".join(p.text for p in Document(themed.root / "reports" / "report.docx").paragraphs)
    assert "Customer champions" in docx and f"machine label: {machine}" in docx


def test_a_re_run_keeps_the_name_and_suggested_codes_use_it(themed):
    key = next(k for k, t in stored(themed.root).items() if t["parent_code"] is None)
    assert themed("themes", "--rename", key, "Customer champions").exit_code == 0
    result = themed("themes", "--suggest-codes")
    assert result.exit_code == 0, result.output + result.stderr
    assert "Customer champions*" in result.stdout and "no theme now matches" not in result.stderr
    again = stored(themed.root)[key]
    assert again["label"] == "Customer champions" and again["name_id"] is not None
    assert again["machine_label"] != "Customer champions"
    draft = (themed.root / "reports" / "suggested-codes.yaml").read_text(encoding="utf-8")
    assert "name: Customer champions" in draft and "emergent.customer-champions" in draft


def test_a_name_no_theme_matches_is_kept_reported_and_applied_when_it_matches_again(themed):
    key = next(k for k, t in stored(themed.root).items() if t["parent_code"] == "support")
    members = len(Project(themed.root).store.db.execute(
        "SELECT * FROM theme_segments ts JOIN themes t ON t.id = ts.theme_id WHERE t.key = ?",
        (key,)).fetchall())
    assert themed("themes", "--rename", key, "Fast answers").exit_code == 0
    with Project(themed.root).store.transaction() as db:  # the support code is taken back
        db.execute("DELETE FROM codings WHERE code = 'support'")
    result = themed("themes")
    assert result.exit_code == 0
    assert (f"warning: no theme now matches your name 'Fast answers' (support; it held {members} "
            "segments): rename the theme that fits, or remove the name with --rename "
            "'Fast answers' ''") in result.stderr
    assert "Fast answers" not in {t["label"] for t in stored(themed.root).values()}
    kept = names(themed.root)
    assert [(n["label"], len(json.loads(n["members"]))) for n in kept] == [("Fast answers", members)]
    code_support(themed.root)  # coded again: the same theme comes back and takes its name
    result = themed("themes")
    assert "no theme now matches" not in result.stderr
    assert stored(themed.root)[key]["label"] == "Fast answers"


def test_an_unmatched_name_is_removed_by_its_label_or_replaced_by_naming_the_theme_that_fits(
        themed):
    key = next(k for k, t in stored(themed.root).items() if t["parent_code"] == "support")
    assert themed("themes", "--rename", key, "Fast answers").exit_code == 0
    with Project(themed.root).store.transaction() as db:  # as if the segments were re-ingested
        db.execute("UPDATE theme_names SET members = '[9001, 9002]'")
    assert "no theme now matches" in themed("themes").stderr
    result = themed("themes", "--rename", key, "Fast answers")  # naming the theme that fits
    assert result.exit_code == 0 and "no theme now matches" not in result.stderr
    assert len(names(themed.root)) == 1
    with Project(themed.root).store.transaction() as db:
        db.execute("UPDATE theme_names SET members = '[9001, 9002]'")
    assert "no theme now matches" in themed("themes").stderr
    result = themed("themes", "--rename", "Fast answers", "")
    assert result.exit_code == 0, result.stderr
    assert "removed your name 'Fast answers' (it matched no theme)" in result.stdout
    assert names(themed.root) == []


def test_an_empty_label_removes_the_name(themed):
    key = next(iter(stored(themed.root)))
    machine = stored(themed.root)[key]["label"]
    assert themed("themes", "--rename", key, "Customer champions").exit_code == 0
    result = themed("themes", "--rename", key, "")
    assert result.exit_code == 0
    assert f"{key}: name 'Customer champions' removed; label back to '{machine}'" in result.stdout
    assert "*" not in result.stdout
    assert stored(themed.root)[key]["label"] == machine and names(themed.root) == []
    assert "Customer champions" not in themed("themes").stdout


def test_an_unknown_key_is_one_line_listing_the_keys_and_changes_nothing(themed):
    key = next(iter(stored(themed.root)))
    result = themed("themes", "--rename", key, "Customer champions", "--rename", "cx-99", "X")
    assert result.exit_code == 1
    message = result.stderr.strip()
    assert "\n" not in message and "no theme 'cx-99'; themes: " in message
    assert all(k in message for k in stored(themed.root))
    assert names(themed.root) == [] and stored(themed.root)[key]["name_id"] is None


def test_names_match_by_overlap_one_to_one_best_first_ties_by_theme_order():
    named = [(1, "cx", {1, 2, 3, 4}), (2, "cx", {1, 2, 3, 4}), (3, None, {7, 8})]
    themes = [("cx", {1, 2, 3, 9}),  # 3/5
              ("cx", {1, 2, 3, 4, 5}),  # 4/5: best, to the first name
              ("cx", {1, 2, 3, 4, 6}),  # 4/5 too: the second name
              ("journey", {7, 8}),  # another parent: no name
              (None, {7, 8, 10, 11, 12})]  # 2/5: below half
    assert match_names(named, themes) == {1: 1, 2: 2}
    assert match_names(named[:1], [("cx", {1, 2}), ("cx", {3, 4})]) == {0: 1}  # tie: first


def test_a_version_3_store_gains_theme_names_and_keeps_its_themes(tmp_path):
    v3 = SCHEMA[:SCHEMA.index("CREATE TABLE IF NOT EXISTS theme_names")] \
        + SCHEMA[SCHEMA.index("CREATE TABLE IF NOT EXISTS theme_segments"):]
    v3 = v3.replace(V5_COLUMNS, "").replace(
        ",\n    machine_label TEXT NOT NULL DEFAULT '', name_id INTEGER", "")
    assert "machine_label" not in v3 and "theme_names" not in v3 and "keyword_words" not in v3
    db = sqlite3.connect(tmp_path / "p.db")
    db.executescript(v3)
    db.execute("INSERT INTO meta VALUES ('schema_version', '3')")
    db.execute("INSERT INTO themes (key, label, keywords, parent_code, ordinal) "
               "VALUES ('cx-1', 'Field operations', '[]', 'cx', 0)")
    db.commit()
    db.close()
    store = Store(tmp_path / "p.db")
    assert store.meta_value("schema_version") == str(SCHEMA_VERSION)
    row = store.db.execute("SELECT * FROM themes").fetchone()
    assert (row["label"], row["machine_label"], row["name_id"], row["keyword_words"]) == \
        ("Field operations", "Field operations", None, "{}")
    assert store.db.execute("SELECT COUNT(*) FROM theme_names").fetchone()[0] == 0


def test_explain_shows_how_a_theme_s_label_was_made(themed):
    from qualcx.export import themes_rows
    rows = themes_rows(Project(themed.root))
    row = next(r for r in rows if r["parent_code"])
    key = row["theme"]
    why = json.loads(stored(themed.root)[key]["label_reason"])
    assert why and why[0].startswith("Named after ") and row["label_reason"] == " ".join(why)
    assert why[-1] == "“Support” has no sub-codes to name it after."
    result = themed("explain", key)
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"Theme {key}: {row['label']}\n")
    assert "  why:      Named after " in result.output
    assert "keywords, with the segments using each:" in result.output
    assert "most central segments" in result.output and "{" not in result.output
    # a name the researcher gives keeps the machine's reasons beside it
    assert themed("themes", "--rename", key, "My name").exit_code == 0
    named = themed("explain", key)
    assert named.output.startswith(f"Theme {key}: My name\n")
    assert f"your name for it; the machine's label is “{row['label']}”" in " ".join(
        named.output.split())
    bad = themed("explain", "cx-99")
    assert bad.exit_code == 1 and "or a theme as 'qualcx themes' lists it" in " ".join(
        bad.output.split())


def test_explain_shows_how_people_and_the_machine_applied_each_sub_code(make_project, blank_nlp):
    from qualcx.review import sub_code_agreement
    from qualcx.transcribe import ingest

    from test_themes import CHILDREN
    turns = "".join(f"Interviewer: And then?\n\nAli: Point number {i} about leaving.\n\n"
                    for i in range(6))
    root = make_project({"a.txt": turns, "b.txt": turns.replace("Ali", "Bo")},
                        codebook=CHILDREN, toml='segment_unit = "turn"\n')
    project = Project(root)
    ingest(project, nlp=blank_nlp)
    ids = [r["id"] for r in project.store.respondent_segments()]
    a_ids = ids[:6]  # interview a: people coded it; b: nobody did

    def code(seg, code, machine):
        with project.store.transaction() as db:
            row = db.execute("SELECT * FROM segments WHERE id = ?", (seg,)).fetchone()
            db.execute('INSERT INTO codings (segment_id, interview_id, start, "end", text, code, '
                       "coder, is_machine, score, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, "
                       "?, 'now')", (seg, row["interview_id"], row["start"], row["end"],
                                     row["text"], code, "qualcx" if machine else "Ana",
                                     int(machine), 0.9 if machine else None))
    for seg in a_ids[:3]:
        code(seg, "churn.causes.price", machine=False)  # a grandchild counts for its child
        code(seg, "churn.causes", machine=True)
    code(a_ids[3], "churn.causes", machine=True)
    code(a_ids[4], "churn.signals", machine=False)
    for seg in ids[6:]:
        code(seg, "churn.signals", machine=True)  # not judged: nobody coded interview b
    parent = project.codebook.codes["churn"]
    line = sub_code_agreement(project, parent, ids)
    assert line == ("the segments each sub-code was applied to, of the 6 of its 12 in "
                    "interviews people coded: “Causes of churn”, people 3, machine 4, both 3 "
                    "(agreeing on 5 of 6, kappa 0.67); “Warning signs of churn”, people 1, "
                    "machine 0, both 0 (agreeing on 5 of 6, kappa 0.00).")
    assert sub_code_agreement(project, project.codebook.codes["churn.signals"], ids) == ""
