import json

import pytest
from click.testing import CliRunner
from conftest import record_run, text_file

from qualcx.cli import cli
from qualcx.code import code_project
from qualcx.humancodes import HumanCodesError, import_codes, segments_for_span
from qualcx.nlp import Embedder
from qualcx.project import Project
from qualcx.review import import_review, segment_explanation, write_review
from qualcx.transcribe import ingest

TRANSCRIPT = """\
Interviewer: Why do customers leave?

Rita: The price increase made many small customers cancel. A cheaper competitor called them.

Interviewer: And support?

Rita: The support team answers every ticket within two hours. That is our promise to them.
"""


@pytest.fixture
def project(make_project, blank_nlp):
    root = make_project({"rita_2024.txt": TRANSCRIPT}, toml='segment_unit = "sentence"\n')
    project = Project(root)
    ingest(project, nlp=blank_nlp)
    return project


def _human(project):
    return [(r["code"], r["coder"], r["text"]) for r in project.store.db.execute(
        "SELECT * FROM codings WHERE is_machine = 0 ORDER BY segment_id, code")]


def test_text_is_anchored_despite_whitespace_case_and_punctuation(project, tmp_path):
    path = text_file(tmp_path, "interview,code,coder,text\n"
                     "rita_2024,churn.price,ana,\"the PRICE increase  made many small customers "
                     "cancel\"\n", "codes.csv")
    result = import_codes(project, path)
    assert (result.imported, result.passages, result.unanchored) == (1, 1, [])
    assert result.per_coder == {"ana": 1}
    # The stored text is the transcript's own (its punctuation, its case).
    assert _human(project) == [("churn.price", "ana", "The price increase made many small "
                                                      "customers cancel")]


def test_unanchorable_rows_are_listed_with_row_and_reason(project, tmp_path):
    path = text_file(tmp_path, "interview,code,coder,text\n"
                     "rita_2024,churn,ana,Nobody said this at all.\n"
                     "\n"
                     "nobody,churn,ana,The price increase made many small customers cancel.\n"
                     "rita_2024,churn,ana,Why do customers leave?\n"
                     "rita_2024,support,ana,That is our promise to them.\n", "codes.csv")
    result = import_codes(project, path)
    assert result.imported == 1
    assert result.unanchored == [
        (2, "rita_2024", "churn", "passage text not found in the interview"),
        (4, "nobody", "churn", "no ingested interview 'nobody'"),
        (5, "rita_2024", "churn",
         "passage lies in interviewer talk; only respondent segments are coded")]


def test_reimport_adds_nothing_and_unknown_codes_are_reported(project, tmp_path):
    path = text_file(tmp_path, "interview,code,coder,text\n"
                     "rita_2024.txt,support,ana,The support team answers every ticket within two hours.\n"
                     "rita_2024.txt,onboarding,ana,That is our promise to them.\n", "codes.csv")
    first = import_codes(project, path)
    again = import_codes(project, path)
    assert (first.imported, first.unknown_codes) == (2, {"onboarding": 1})
    assert (again.imported, again.already) == (0, 2)
    assert len(_human(project)) == 2


def test_a_passage_over_two_segments_codes_both(project, tmp_path):
    path = text_file(tmp_path, "interview,code,coder,text\n"
                     "rita_2024,support,ana,\"The support team answers every ticket within two hours. "
                     "That is our promise to them.\"\n", "codes.csv")
    import_codes(project, path)
    assert [t for _, _, t in _human(project)] == [
        "The support team answers every ticket within two hours.", "That is our promise to them."]
    ev = json.loads(project.store.human_codings()[0]["evidence"])
    assert ev["source"] == "codes.csv" and ev["row"] == 2 and len(ev["passage"]) == 2


def test_span_rule_majority_overlap():
    segs = [{"id": 1, "start": 0, "end": 100}, {"id": 2, "start": 100, "end": 200}]
    # 10 chars of segment 1 and 60 of segment 2: only segment 2 (holds most of the passage).
    assert [s["id"] for s in segments_for_span(segs, 90, 160)] == [2]
    # 60 chars of each: both (each segment is more than half covered).
    assert [s["id"] for s in segments_for_span(segs, 40, 160)] == [1, 2]
    # inside one segment.
    assert [s["id"] for s in segments_for_span(segs, 10, 20)] == [1]


def test_offsets_taguette_columns_and_encodings(project, tmp_path):
    text = project.store.db.execute("SELECT text FROM interviews").fetchone()[0]
    start = text.index("A cheaper")
    offsets = text_file(tmp_path, "Interview;Code;Coder;Start;End\n"
                        f"rita_2024;churn.price;bo;{start};{start + 10}\n", "offsets.csv")
    assert import_codes(project, offsets).imported == 1
    taguette = text_file(tmp_path, "id,document,tag,content\n7,rita_2024.odt,Support,\"That is our "
                         "promise to them.\"\n", "tags.csv", encoding="utf-16")
    with pytest.raises(HumanCodesError, match="no coder column; give the coder's name"):
        import_codes(project, taguette)
    result = import_codes(project, taguette, coder="cy")
    assert result.imported == 1 and not result.unknown_codes  # 'Support' is the code's name
    assert ("support", "cy", "That is our promise to them.") in _human(project)


def test_xlsx_and_missing_columns(project, tmp_path):
    import openpyxl
    book = openpyxl.Workbook()
    book.active.append(["Document name", "Code", "Segment"])
    book.active.append(["rita_2024", "support", "That is our promise to them."])
    book.save(tmp_path / "codes.xlsx")
    assert import_codes(project, tmp_path / "codes.xlsx", coder="di").imported == 1
    bad = text_file(tmp_path, "who,what\nx,y\n", "bad.csv")
    with pytest.raises(HumanCodesError) as err:
        import_codes(project, bad, coder="di")
    assert str(err.value).startswith(f"{bad}, line 1: cannot tell which column holds the "
                                     "interview and the code")


def test_human_codes_survive_the_machine_code_stage(project, tmp_path, hash_embedder, blank_nlp):
    path = text_file(tmp_path, "interview,code,coder,text\n"
                     "rita_2024,churn.price,ana,The price increase made many small customers cancel.\n",
                     "codes.csv")
    import_codes(project, path)
    before = _human(project)
    embedder = Embedder("hash", project.store, model=hash_embedder)
    for _ in range(2):
        summary = code_project(project, embedder, blank_nlp)
    assert summary["codings"] > 0
    assert _human(project) == before
    machine = project.store.db.execute("SELECT COUNT(*) FROM codings WHERE is_machine = 1")
    assert machine.fetchone()[0] == summary["codings"]


def _machine_code(project, hash_embedder, blank_nlp):
    code_project(project, Embedder("hash", project.store, model=hash_embedder), blank_nlp)


def test_review_sheet_round_trip(project, tmp_path, hash_embedder, blank_nlp):
    _machine_code(project, hash_embedder, blank_nlp)
    path, n = write_review(project, tmp_path / "review.csv")
    lines = path.read_text().splitlines()
    assert n == len(lines) - 1 > 0
    import csv
    rows = list(csv.DictReader(path.open()))
    coded = [r for r in rows if r["code"]]
    coded[0]["decision"] = "accept"
    if len(coded) > 1:
        coded[1]["decision"] = "reject"
    rows[-1]["new_codes"] = "support; churn"
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    result = import_review(project, path, "ana")
    assert result.accepted == 1 and result.added == 2
    assert result.rejected == (1 if len(coded) > 1 else 0)
    again = import_review(project, path, "ana")
    assert again.accepted == again.added == again.rejected == 0
    assert len(project.store.rejections()) == result.rejected


def test_review_rows_that_cannot_be_imported_are_listed_and_the_rest_imported(project,
                                                                            tmp_path):
    path = text_file(tmp_path, "segment_id,code,decision,new_codes\n1,support,maybe,\n"
                     "999,support,accept,\n1,,,nonsense\n1,support,accept,\n", "r.csv")
    result = import_review(project, path, "ana")
    assert result.left_out == [
        (2, "decision 'maybe' must be accept, reject or empty"),
        (3, "segment 999 is not in the project, and the row has no interview and text to find "
            "it by; review it again in a new sheet"),
        (4, "new code 'nonsense' is not in the codebook")]
    assert result.accepted == 1 and _human(project)[0][:2] == ("support", "ana")
    out = CliRunner().invoke(cli, ["-p", str(project.root), "review", "--import", str(path),
                                   "--coder", "ben"])
    assert out.exit_code == 0
    assert f"not imported: {path}, line 3: segment 999 is not in the project" in out.output
    assert "1 accepted" in out.output and "3 row(s) not imported." in out.output


def test_a_file_that_is_not_a_review_sheet_is_refused_whole(project, tmp_path):
    path = text_file(tmp_path, "interview,code,text\nrita_2024,support,x\n", "codes.csv")
    with pytest.raises(HumanCodesError) as err:
        import_review(project, path, "ana")
    assert str(err.value) == (f"{path}, line 1: no 'segment_id' column; import a sheet written "
                              "by 'qualcx review'")
    assert _human(project) == []


def test_review_sheet_from_before_a_reingest_is_reanchored_by_text(project, tmp_path,
                                                                   hash_embedder, blank_nlp):
    import csv
    _machine_code(project, hash_embedder, blank_nlp)
    path, _ = write_review(project, tmp_path / "review.csv")
    rows = list(csv.DictReader(path.open()))
    by_text = {r["text"]: r for r in rows}
    support = by_text["The support team answers every ticket within two hours."]
    support.update(decision="", new_codes="support")
    price = by_text["The price increase made many small customers cancel."]
    price.update(decision="", new_codes="churn.price")
    promise = by_text["That is our promise to them."]
    promise.update(decision="", new_codes="support")
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    lines = {r["text"]: n for n, r in enumerate(rows, start=2)}
    # The transcript is edited and re-read: the ids now name other segments; one answer is gone.
    transcript = project.root / "interviews" / "rita_2024.txt"
    transcript.write_text(transcript.read_text().replace(
        "That is our promise to them.", "We promise that.").replace(
        "Rita: The price", "Rita: Hello.\n\nInterviewer: Go on.\n\nRita: The price"))
    ingest(project, nlp=blank_nlp)
    now = {r["id"]: r["text"] for r in project.store.db.execute("SELECT id, text FROM segments")}
    assert now[int(price["segment_id"])] != price["text"]
    result = import_review(project, path, "ana")
    assert result.added == 2 and result.reanchored == 2
    assert result.left_out == [(lines["That is our promise to them."],
                                f"segment {promise['segment_id']} now holds other text, and the "
                                "row's text is not in rita_2024 (the transcript changed there); "
                                "review it again in a new sheet")]
    assert _human(project) == [
        ("churn.price", "ana", "The price increase made many small customers cancel."),
        ("support", "ana", "The support team answers every ticket within two hours.")]


def test_review_row_whose_segment_id_now_holds_other_text_follows_its_text(project, tmp_path):
    segs = {r["text"]: r["id"] for r in project.store.db.execute("SELECT id, text FROM segments")}
    wrong = segs["That is our promise to them."]  # the id is reused for other text
    path = text_file(tmp_path, "segment_id,interview,text,code,decision,new_codes\n"
                     f"{wrong},rita_2024,A cheaper competitor called them.,,,churn\n", "r.csv")
    result = import_review(project, path, "ana")
    assert result.reanchored == 1 and result.left_out == []
    assert _human(project) == [("churn", "ana", "A cheaper competitor called them.")]


def test_explain_shows_evidence_and_human_codes(project, tmp_path, hash_embedder, blank_nlp):
    _machine_code(project, hash_embedder, blank_nlp)
    import_codes(project, text_file(tmp_path, "interview,code,coder,text\nrita_2024,support,ana,"
                                    "The support team answers every ticket within two hours.\n",
                                    "codes.csv"))
    seg = project.store.human_codings()[0]["segment_id"]
    info = segment_explanation(project, str(seg))
    assert info["question"] == "And support?" and info["human"][0]["coder"] == "ana"
    result = CliRunner().invoke(cli, ["-p", str(project.root), "explain", "rita_2024:2"])
    assert result.exit_code == 0, result.output
    assert "question: And support?" in result.output
    assert "support (Support) by ana (from codes.csv, row 2; passage at characters 165-220)" \
        in result.output
    if info["machine"]:
        assert "      nearest " in result.output and "cosine" in result.output
        assert "{" not in result.output and "[" not in result.output  # no raw records
    bad = CliRunner().invoke(cli, ["-p", str(project.root), "explain", "rita_2024:99"])
    assert bad.exit_code == 1 and "no segment 'rita_2024:99'" in bad.output


def test_evidence_reads_as_sentences_with_every_figure():
    from qualcx.review import evidence_lines, human_source
    ev = {"score": 0.81, "zero_shot": 0.42, "semantic": 0.55,
          "nearest": {"kind": "example", "text": "We lost the account at renewal.",
                      "similarity": 0.55},
          "keywords": ["renewal"],
          "keyword_matches": [{"word": "renewal", "keyword": "renew", "start": 12, "end": 19}],
          "context": {"question": "Why do they leave?", "similarity": 0.61, "weight": 0.4,
                      "contribution": 0.024},
          "negative": {"kind": "counter_example", "text": "They stayed.", "similarity": 0.58},
          "calibration": {"z": 1.234, "gap": -0.5},
          "learned": {"share": 0.6, "weight": 0.667, "trust": 0.9, "examples": 10,
                      "nearest": {"segment_id": 7, "text": "At renewal they\nleft.",
                                  "similarity": 0.62, "coded": True}},
          "future_part": {"alpha_value": 0.123456, "items": [1, 2]}}
    lines = evidence_lines(ev, offset=100)
    assert lines == [
        "zero-shot score (the codebook's evidence alone): 0.42",
        "nearest example: \"We lost the account at renewal.\" cosine 0.55",
        "negative evidence, nearest counter-example: \"They stayed.\" cosine 0.58",
        "keyword 'renew' as 'renewal' (same lemma) at characters 112-119",
        "context (the question \"Why do they leave?\" and any neighbouring segments of the turn): "
        "cosine 0.61 at weight 0.4; contribution +0.024 (adds 0.024 to the evidence)",
        "calibration: 1.23 standard deviations from the code's median over the project (z); 0.50 "
        "behind the segment's strongest code (gap)",
        "learned: 0.60 of the most similar human-coded segments carry the code "
        "(similarity-weighted share), from 10 human example(s); trust in those neighbours 0.90, "
        "weight in the score 0.67",
        "nearest segment a person coded with it: segment 7 \"At renewal they left.\" cosine 0.62",
        "future part: alpha value 0.1235, items 1, 2"]
    # the strongest code is named when stored; a negative context contribution removes
    ev.update(calibration={"z": 1.234, "gap": -0.5, "strongest": "cx.price"},
              context={"question": None, "similarity": 0.37, "weight": 0.4,
                       "contribution": -0.08})
    lines = evidence_lines(ev, offset=100, code="churn")
    assert "context (no question and any neighbouring segments of the turn): cosine 0.37 at " \
        "weight 0.4; contribution -0.080 (removes 0.080 from the evidence)" in lines
    assert "calibration: 1.23 standard deviations from the code's median over the project (z); " \
        "0.50 behind its strongest rival code, cx.price (gap)" in lines
    ev["calibration"] = {"z": 2.0, "gap": 0.0, "strongest": "support"}
    assert "calibration: 2.00 standard deviations from the code's median over the project (z); " \
        "ahead of its strongest rival code, support, so no gap" in evidence_lines(ev, code="churn")
    ev["calibration"] = {"z": 2.0, "gap": 0.0, "strongest": None}
    assert "calibration: 2.00 standard deviations from the code's median over the project (z); " \
        "no rival code, so no gap" in evidence_lines(ev, code="churn")
    # evidence stored when the strongest code was named whatever its relation to the code
    ev["calibration"] = {"z": 2.0, "gap": 0.0, "strongest": "churn"}
    assert "calibration: 2.00 standard deviations from the code's median over the project (z); " \
        "the segment's strongest code, so no gap" in evidence_lines(ev, code="churn")
    # evidence stored before keyword positions were kept
    old = evidence_lines({"semantic": 0.3, "keywords": ["price", "cancel"], "context": None})
    assert old == ["similarity to the code's closest prototype: 0.30",
                   "keywords matched: 'price', 'cancel'",
                   "context: none (no question and no neighbouring segment in the turn)"]
    assert human_source({"source": "r.xlsx", "row": 4, "review": "accept"}) == \
        " (from r.xlsx, row 4; accepted in review)"
    assert human_source({"source": "c.csv", "row": 2, "passage": [5, 40]}) == \
        " (from c.csv, row 2; passage at characters 5-40)"


def test_import_codes_cli_lists_unanchored_rows_imports_the_rest_and_exits_1(project, tmp_path):
    path = text_file(tmp_path, "interview,code,text\nrita_2024,churn,Not in the text.\n"
                     "rita_2024,support,That is our promise to them.\n", "codes.csv")
    out = tmp_path / "left.csv"
    result = CliRunner().invoke(cli, ["-p", str(project.root), "import-codes", str(path),
                                      "--coder", "ana", "--unanchored", str(out)])
    assert result.exit_code == 1, result.output  # as ingest with a file it cannot read
    assert f"not anchored: {path}, row 2 (rita_2024, churn): passage text not found" in result.output
    assert out.read_text().splitlines()[1] == "2,rita_2024,churn,passage text not found in the interview"
    assert "Imported 1 passage(s) as 1 new coding(s) (0 already present); 1 row(s) not " \
        "anchored." in result.output
    assert _human(project) == [("support", "ana", "That is our promise to them.")]
    whole = text_file(tmp_path, "interview,code,text\nrita_2024,support,That is our promise "
                      "to them.\n", "whole.csv")
    again = CliRunner().invoke(cli, ["-p", str(project.root), "import-codes", str(whole),
                                     "--coder", "ana"])
    assert again.exit_code == 0, again.output  # every row anchored


def test_review_xlsx_has_a_decision_list_and_reads_back(project, tmp_path, hash_embedder,
                                                        blank_nlp):
    import openpyxl
    _machine_code(project, hash_embedder, blank_nlp)
    path, n = write_review(project, tmp_path / "review.xlsx")
    sheet = openpyxl.load_workbook(path).active
    assert [c.value for c in sheet[1]][:3] == ["segment_id", "interview", "role"]
    assert sheet.max_row == n + 1 and sheet.data_validations.dataValidation
    sheet.cell(row=2, column=11, value="accept" if sheet.cell(row=2, column=7).value else None)
    # Add a code the machine did not give this row (which one depends on the coder).
    machine_code = sheet.cell(row=2, column=7).value
    sheet.cell(row=2, column=12, value="support" if machine_code == "churn" else "churn")
    sheet.parent.save(path)
    result = import_review(project, path, "ana")
    assert result.added == 1


@pytest.mark.parametrize("command", ["import-codes", "review", "agree", "explain"])
def test_new_commands_explain_themselves(command):
    result = CliRunner().invoke(cli, [command, "--help"])
    assert result.exit_code == 0 and "Example" in result.output and "qualcx" in result.output


def test_rejections_follow_their_text_through_a_re_ingest(project, tmp_path, blank_nlp):
    seg = project.store.respondent_segments()[-1]
    path = text_file(tmp_path, f"segment_id,code,decision\n{seg['id']},support,reject\n", "r.csv")
    assert import_review(project, path, "ana").rejected == 1
    transcript = project.interviews_dir / "rita_2024.txt"
    transcript.write_text(TRANSCRIPT.replace("Rita: The price", "Rita: Well. The price"))
    ingest(project, nlp=blank_nlp)  # the old segment is gone; ingest re-attaches the rejection
    [rejection] = project.store.rejections()
    assert rejection["text"] == seg["text"] and rejection["segment_id"] != seg["id"]
    assert rejection["segment_id"] in {s["id"] for s in project.store.respondent_segments()}


def test_importing_codes_before_any_ingest_says_to_ingest_first(make_project, tmp_path):
    from click.testing import CliRunner

    from qualcx.cli import cli
    root = make_project({"a.txt": "Interviewer: Why?\nAnn: The price went up.\n"})
    sheet = tmp_path / "codes.csv"
    sheet.write_text("interview,code,text,coder\na,churn,The price went up,ana\n")
    result = CliRunner().invoke(cli, ["-p", str(root), "import-codes", str(sheet)])
    assert result.exit_code == 1
    assert "no interviews ingested yet" in result.output
    assert "run 'qualcx ingest' before importing codes" in result.output


def test_a_reviewer_is_compared_only_on_the_segments_they_decided(project, tmp_path,
                                                                   hash_embedder, blank_nlp):
    import csv

    from qualcx.agree import agreement, coder_span
    _machine_code(project, hash_embedder, blank_nlp)
    path, _ = write_review(project, tmp_path / "review.csv")
    rows = list(csv.DictReader(path.open()))
    coded = [r for r in rows if r["code"]]
    coded[0]["decision"] = "accept"  # one decision; every other row left blank
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    import_review(project, path, "ana")
    store, machine = project.store, project.settings["coder_name"]
    decided = int(coded[0]["segment_id"])
    assert coder_span(store, "ana", include_reviewed=True) == (set(), {decided})
    assert coder_span(store, "ana") == (set(), set())  # an acceptance is no independent judgement
    assert coder_span(store, machine) is None
    res = agreement(store, "ana", machine, project.codebook, include_reviewed=True)
    assert res.units == 1  # the blank rows are no judgement, not disagreements
    assert agreement(store, "ana", machine, project.codebook).units == 0
    everything = agreement(store, "ana", machine, project.codebook, units="coded",
                           include_reviewed=True)
    assert everything.units >= 1
    # a coder who also imported codes is compared over the interviews they imported codes in
    other = next(s for s in store.respondent_segments() if s["id"] != decided)
    sheet = tmp_path / "codes.csv"
    sheet.write_text(f"interview,code,text,coder\n{other['interview_id']},churn,"
                     f"\"{other['text']}\",ana\n")
    assert import_codes(project, sheet).imported == 1
    assert coder_span(store, "ana") == ({other["interview_id"]}, set())


def test_explain_names_the_strongest_rival_and_says_why_a_segment_has_no_machine_code(
        project, hash_embedder, blank_nlp):
    before = CliRunner().invoke(cli, ["-p", str(project.root), "explain", "rita_2024:0"])
    assert "Machine codes: none\n  the project has no machine codes by qualcx yet; run " \
        "'qualcx code'" in before.output
    _machine_code(project, hash_embedder, blank_nlp)
    codings = project.store.db.execute("SELECT segment_id, code, evidence FROM codings "
                                       "WHERE is_machine = 1").fetchall()
    assert codings
    codebook = project.codebook
    for c in codings:
        strongest = json.loads(c["evidence"])["calibration"]["strongest"]
        kin = {c["code"], *codebook.ancestors(c["code"]), *codebook.descendants(c["code"])}
        assert strongest in codebook.codes and strongest not in kin
    bare = project.store.db.execute(
        "SELECT interview_id, idx FROM segments WHERE id NOT IN (SELECT segment_id FROM codings "
        "WHERE is_machine = 1)").fetchone()
    assert bare is not None
    result = CliRunner().invoke(cli, ["-p", str(project.root), "explain",
                                      f"{bare['interview_id']}:{bare['idx']}"])
    assert "Machine codes: none\n  no code's score reached its threshold (the 'threshold' " \
        "setting, 0.5)\nNear misses (scored, below the threshold):" in result.output


def _churn_on_first_segment(project, tmp_path):
    """A codes file: ana's churn on the project's first respondent segment."""
    seg = project.store.respondent_segments()[0]
    return text_file(tmp_path, f"interview,code,text,coder\n{seg['interview_id']},churn,"
                     f"\"{seg['text']}\",ana\n", "codes.csv")


def test_importing_codes_says_the_coder_learns_from_them_at_the_next_run(project, tmp_path):
    sheet = _churn_on_first_segment(project, tmp_path)
    runner = CliRunner()
    first = runner.invoke(cli, ["-p", str(project.root), "import-codes", str(sheet)])
    assert "run 'qualcx run'" in first.output and "so the coder learns from them" in first.output
    again = runner.invoke(cli, ["-p", str(project.root), "import-codes", str(sheet)])
    assert "so the coder learns" not in again.output  # nothing new was imported


def test_importing_codes_says_whether_uncoded_segments_count_as_no_code(project, tmp_path):
    sheet = _churn_on_first_segment(project, tmp_path)
    runner = CliRunner()
    complete = runner.invoke(cli, ["-p", str(project.root), "import-codes", str(sheet)])
    assert ("Segments you left uncoded in this interview count as 'no code' when the coder "
            "learns (human_codes_complete = true); if you coded a sample, set "
            "human_codes_complete = false in qualcx.toml.") in complete.output
    (project.root / "qualcx.toml").write_text('segment_unit = "sentence"\n'
                                              "human_codes_complete = false\n")
    sample = runner.invoke(cli, ["-p", str(project.root), "import-codes", str(sheet)])
    assert ("Segments you left uncoded in this interview are no judgement when the coder learns "
            "(human_codes_complete = false: your codes are a sample)") in sample.output
    from qualcx.cli import _completeness_note
    assert _completeness_note(6, True).startswith("Segments you left uncoded in these 6 "
                                                  "interviews count as 'no code'")


def test_coding_with_sampled_human_codes_learns_no_negatives(project, tmp_path, hash_embedder,
                                                             blank_nlp):
    seg = project.store.respondent_segments()[0]
    import_codes(project, text_file(tmp_path, f"interview,code,coder,text\n"
                                    f"{seg['interview_id']},churn,ana,\"{seg['text']}\"\n",
                                    "codes.csv"))
    emb = Embedder("hash", project.store, model=hash_embedder)
    complete = code_project(project, emb, blank_nlp)
    assert complete["learned_complete"] and complete["learned_negatives"] >= 1
    project.settings["human_codes_complete"] = False
    sample = code_project(project, emb, blank_nlp)
    assert not sample["learned_complete"] and sample["learned_negatives"] == 0
    assert sample["learned_from"] == complete["learned_from"] == 1


# -- the report says when human decisions came after the last coding run ---------------------

NOT_LEARNED = ("after the last coding run; the machine codes have not learned from them yet. "
               "Run 'qualcx code', 'qualcx themes' and 'qualcx report', or 'qualcx run' for all "
               "of them.")


def _import(project, tmp_path):
    return CliRunner().invoke(cli, ["-p", str(project.root), "import-codes", str(text_file(
        tmp_path, "interview,code,coder,text\nrita_2024,support,ana,That is our promise to "
        "them.\n", "codes.csv"))])


def test_report_says_imported_codes_are_not_learned_until_the_next_coding_run(project, tmp_path):
    from qualcx.report import stale_notice
    assert _import(project, tmp_path).exit_code == 0
    assert stale_notice(project.store) == ""  # never coded by the machine: nothing lags
    record_run(project.store, "code")
    assert _import(project, tmp_path).exit_code == 0  # adds nothing: nothing to learn
    assert stale_notice(project.store) == ""
    project.store.db.execute("DELETE FROM codings")
    project.store.db.commit()
    assert _import(project, tmp_path).exit_code == 0
    [run] = project.store.db.execute("SELECT summary FROM runs WHERE command = 'import-codes' "
                                     "ORDER BY id DESC LIMIT 1")
    assert json.loads(run["summary"]) == {"file": "codes.csv", "imported": 1, "already": 0,
                                          "unanchored": 0}
    report = CliRunner().invoke(cli, ["-p", str(project.root), "report", "--format", "md"])
    assert report.exit_code == 0, report.output
    notice = f"human codes were imported {NOT_LEARNED}"
    assert f"warning: report out of date: {notice}" in report.output
    assert "> **Out of date:** human codes were imported after the last coding run" in \
        (project.reports_dir / "report.md").read_text()
    record_run(project.store, "code")  # coded again: learned from them
    assert stale_notice(project.store) == ""


def test_human_codes_make_no_notice_when_the_coder_does_not_learn_from_them(make_project,
                                                                             blank_nlp, tmp_path):
    from qualcx.report import stale_notice
    root = make_project({"rita_2024.txt": TRANSCRIPT},
                        toml='segment_unit = "sentence"\nlearn_from_humans = false\n')
    project = Project(root)
    ingest(project, nlp=blank_nlp)
    record_run(project.store, "code")
    result = _import(project, tmp_path)
    assert result.exit_code == 0 and "Imported 1 passage(s)" in result.output
    assert stale_notice(project.store, learn_from_humans=False) == ""
    report = CliRunner().invoke(cli, ["-p", str(root), "report", "--format", "md"])
    assert report.exit_code == 0 and "out of date" not in report.output
    assert stale_notice(project.store).startswith("human codes were imported")  # the setting


def test_report_says_review_decisions_are_not_learned_until_the_next_coding_run(
        project, tmp_path, hash_embedder, blank_nlp):
    from qualcx.report import stale_notice
    _machine_code(project, hash_embedder, blank_nlp)
    record_run(project.store, "code")
    record_run(project.store, "themes")
    seg = project.store.respondent_segments()[0]
    path = text_file(tmp_path, f"segment_id,code,decision\n{seg['id']},support,reject\n", "r.csv")
    out = CliRunner().invoke(cli, ["-p", str(project.root), "review", "--import", str(path),
                                   "--coder", "ben"])
    assert out.exit_code == 0, out.output
    assert stale_notice(project.store) == f"review decisions were read {NOT_LEARNED}"
    [run] = project.store.db.execute("SELECT summary FROM runs WHERE command = 'review'")
    assert json.loads(run["summary"]) == {"file": "r.csv", "coder": "ben", "accepted": 0,
                                          "rejected": 1, "added": 0, "unchanged": 0}
    assert _import(project, tmp_path).exit_code == 0
    assert stale_notice(project.store) == \
        f"human codes were imported and review decisions were read {NOT_LEARNED}"
    for command in ("ingest", "code", "themes"):  # what 'qualcx run' records, in its order
        record_run(project.store, command, {"interviews": 1, "skipped": 1} if command == "ingest"
                   else None)
    assert stale_notice(project.store) == ""
def _near_misses(project):
    return [(r["segment_id"], r["code"], r["coder"], r["score"], r["threshold"], r["evidence"])
            for r in project.store.db.execute("SELECT * FROM near_misses ORDER BY segment_id, "
                                              "score DESC, code")]


def _strict_price(project) -> Project:
    """The project with churn.price's threshold raised to 0.95, so its 0.91 on the first
    segment is a near miss (and its parent churn is applied there instead)."""
    toml = project.root / "qualcx.toml"
    toml.write_text(toml.read_text() + 'thresholds = { "churn.price" = 0.95 }\n')
    return Project(project.root)


def test_near_misses_are_stored_once_and_explained(project, hash_embedder, blank_nlp):
    project = _strict_price(project)
    _machine_code(project, hash_embedder, blank_nlp)
    first = _near_misses(project)
    _machine_code(project, hash_embedder, blank_nlp)
    assert _near_misses(project) == first  # replaced, not added to; the same rows again
    seg = {r["idx"]: r["id"] for r in project.store.respondent_segments()}
    assert [m[:5] for m in first] == [(seg[0], "churn.price", "qualcx", 0.9149, 0.95)]
    ev = json.loads(first[0][5])
    # measured against support, its strongest rival, not against its parent churn
    assert ev["score"] == 0.9149 and ev["calibration"]["strongest"] == "support"
    assert {"zero_shot", "nearest", "keywords", "context", "learned"} <= ev.keys()
    result = CliRunner().invoke(cli, ["-p", str(project.root), "explain", "rita_2024:0"])
    assert ("Near misses (scored, below the threshold):\n"
            "  churn.price (Price as a reason to leave) by qualcx: score 0.91, threshold 0.95\n"
            "      zero-shot score (the codebook's evidence alone): 0.91\n"
            "      nearest example: \"The price increase made them cancel.\" cosine 0.72\n"
            "      keyword 'price' at characters 48-53\n") in result.output
    assert "ahead of its strongest rival code, support, so no gap" in result.output
    assert result.output.index("Machine codes:") < result.output.index("Near misses") \
        < result.output.index("Human codes:")
    none = CliRunner().invoke(cli, ["-p", str(project.root), "explain", "rita_2024:2"])
    assert ("Near misses (scored, below the threshold): none\n  no other code came within 0.25 "
            "(a score of at least 0.25, below its threshold)\n") in none.output


def test_near_misses_are_not_stored_before_coding(project):
    result = CliRunner().invoke(cli, ["-p", str(project.root), "explain", "rita_2024:0"])
    assert ("Near misses (scored, below the threshold): none\n  not stored; 'qualcx code' "
            "stores them\n") in result.output


def test_near_misses_are_not_codings(project, tmp_path, hash_embedder, blank_nlp):
    from qualcx.agree import agreement
    from qualcx.analysis import load_corpus
    project = _strict_price(project)
    _machine_code(project, hash_embedder, blank_nlp)
    missed = {(m[0], m[1]) for m in _near_misses(project)}
    assert missed
    out = tmp_path / "codings.csv"
    result = CliRunner().invoke(cli, ["-p", str(project.root), "export", "--table", "codings",
                                      "-o", str(out)])
    assert result.exit_code == 0, result.output
    import csv
    seg = {r["idx"]: r["id"] for r in project.store.respondent_segments()}
    exported = {(seg[int(r["segment"])], r["code"]) for r in csv.DictReader(out.open())
                if r["code"]}
    assert exported and not exported & missed
    counted = {(s, c) for s, codes in load_corpus(project.store).codes_by_segment.items()
               for c in codes}
    assert counted == exported
    # ana codes churn.price where it was the machine's near miss: a disagreement, not a match.
    import_codes(project, text_file(tmp_path, "interview,code,coder,text\nrita_2024,churn.price,"
                                    "ana,The price increase made many small customers cancel.\n",
                                    "codes.csv"))
    price = next(r for r in agreement(project.store, "ana", "qualcx", project.codebook).codes
                 if r.code == "churn.price")
    assert (price.both, price.only_a) == (0, 1)


def _machine(project):
    seg = {r["id"]: r["idx"] for r in project.store.respondent_segments()}
    return sorted((seg[r["segment_id"]], r["code"], r["score"]) for r in project.store.db.execute(
        "SELECT * FROM codings WHERE is_machine = 1"))


def test_a_code_rejected_in_review_is_not_applied_but_kept_as_a_near_miss(project, tmp_path,
                                                                          hash_embedder,
                                                                          blank_nlp):
    import csv
    from qualcx.analysis import load_corpus
    _machine_code(project, hash_embedder, blank_nlp)
    before = _machine(project)
    assert [m[:2] for m in before] == [(0, "churn.price"), (1, "churn.price"), (2, "support")]
    seg = {r["idx"]: r["id"] for r in project.store.respondent_segments()}
    # ana rejects churn.price on the first segment and churn (the parent) on the second, and
    # accepts support on the third
    path = text_file(tmp_path, f"segment_id,code,decision\n{seg[0]},churn.price,reject\n"
                     f"{seg[1]},churn,reject\n{seg[2]},support,accept\n", "r.csv")
    assert import_review(project, path, "ana").rejected == 2
    summary = code_project(project, Embedder("hash", project.store, model=hash_embedder),
                           blank_nlp)
    # the rejected child is gone and implies nothing: its parent (0.98) is applied alone; the
    # rejected parent leaves its child; the accept changes nothing
    assert [m[:2] for m in _machine(project)] == [(0, "churn"), (1, "churn.price"),
                                                  (2, "support")]
    assert summary["withheld"] == 1
    [(seg_id, code, _, score, threshold, evidence)] = _near_misses(project)
    assert (seg_id, code, threshold) == (seg[0], "churn.price", 0.5) and score >= threshold
    assert json.loads(evidence)["rejected_by"] == ["ana"]
    out = tmp_path / "codings.csv"
    assert CliRunner().invoke(cli, ["-p", str(project.root), "export", "--table", "codings",
                                    "-o", str(out)]).exit_code == 0
    exported = {(int(r["segment"]), r["code"]) for r in csv.DictReader(out.open()) if r["code"]}
    assert (0, "churn.price") not in exported and (0, "churn") in exported
    assert "churn.price" not in load_corpus(project.store).codes_by_segment[seg[0]]
    result = CliRunner().invoke(cli, ["-p", str(project.root), "explain", "rita_2024:0"])
    assert ("Near misses (scored below the threshold, or rejected in review):\n"
            f"  churn.price (Price as a reason to leave) by qualcx: score {score:.2f}, "
            "threshold 0.50\n"
            "      rejected by ana in review; not applied\n") in result.output
    # a rejection that lost its segment in a re-ingest rejects nothing
    project.store.db.execute("UPDATE rejections SET segment_id = NULL WHERE code = 'churn.price'")
    _machine_code(project, hash_embedder, blank_nlp)
    assert [m[:2] for m in _machine(project)] == [m[:2] for m in before]
    assert _near_misses(project) == []


def test_a_parent_implied_by_an_applied_child_is_no_near_miss(project, hash_embedder,
                                                              blank_nlp):
    toml = project.root / "qualcx.toml"
    toml.write_text(toml.read_text() + 'thresholds = { churn = 0.99 }\n')
    project = Project(project.root)  # churn scores 0.98 and 0.95, below; churn.price applies
    _machine_code(project, hash_embedder, blank_nlp)
    assert [m[1] for m in _machine(project)] == ["churn.price", "churn.price", "support"]
    assert _near_misses(project) == []
    result = CliRunner().invoke(cli, ["-p", str(project.root), "explain", "rita_2024:0"])
    assert "Near misses (scored, below the threshold): none" in result.output


def test_reingest_removes_the_near_misses_of_replaced_segments(project, hash_embedder,
                                                               blank_nlp):
    project = _strict_price(project)
    _machine_code(project, hash_embedder, blank_nlp)
    assert _near_misses(project)
    path = project.root / "interviews" / "rita_2024.txt"
    path.write_text(path.read_text().replace("cheaper", "cheap"))
    ingest(project, nlp=blank_nlp)
    assert _near_misses(project) == []


def test_a_rejection_follows_its_corrected_text_and_keeps_the_old(project, tmp_path, blank_nlp):
    seg = project.store.respondent_segments()[-1]
    path = text_file(tmp_path, f"segment_id,code,decision\n{seg['id']},support,reject\n", "r.csv")
    assert import_review(project, path, "ana").rejected == 1
    words = seg["text"].split()
    words.insert(len(words) // 2, "really")
    transcript = project.interviews_dir / "rita_2024.txt"
    transcript.write_text(TRANSCRIPT.replace(seg["text"], " ".join(words)))
    result = ingest(project, nlp=blank_nlp)
    [rejection] = project.store.rejections()
    assert rejection["text"] == " ".join(words)
    assert rejection["segment_id"] in {s["id"] for s in project.store.respondent_segments()}
    source = json.loads(rejection["source"])
    assert source["review"] == "reject" and source["reanchored"][0]["from"] == seg["text"]
    [moved] = result.reanchored
    assert (moved["kind"], moved["file"], moved["code"], moved["coder"]) == (
        "review rejection", "rita_2024.txt", "support", "ana")
    assert result.lost_rejections == []


def test_review_import_says_what_its_unchanged_decisions_were(project, tmp_path):
    """Two new_codes cells filled, one naming a code the reviewer had already coded there:
    one new code added, and the other counted as unchanged with the reason said."""
    codes = text_file(tmp_path, "interview,code,coder,text\nrita_2024,churn.price,ana,The price "
                      "increase made many small customers cancel.\n", "codes.csv")
    assert import_codes(project, codes).imported == 1
    first, second = [s["id"] for s in project.store.respondent_segments()][:2]
    path = text_file(tmp_path, f"segment_id,code,decision,new_codes\n{first},,,churn.price\n"
                     f"{second},,,churn\n", "r.csv")
    out = CliRunner().invoke(cli, ["-p", str(project.root), "review", "--import", str(path),
                                   "--coder", "ana"])
    assert out.exit_code == 0, out.output
    assert (f"Read {path} as ana's decisions: 0 accepted, 0 rejected, 1 new code(s) added. "
            "1 unchanged: 1 new code(s) ana had already coded there.") in out.output
    again = import_review(project, path, "ana")
    assert (again.added, again.unchanged, again.already) == (0, 2, {"added": 2})


def test_agree_and_explain_say_an_interview_was_read_anew_after_the_last_coding_run(
        make_project, tmp_path, hash_embedder, blank_nlp):
    project = Project(make_project({"rita_2024.txt": TRANSCRIPT, "sam_2024.txt": TRANSCRIPT.replace(
        "Rita", "Sam")}, toml='segment_unit = "sentence"\n'))
    ingest(project, nlp=blank_nlp)
    _machine_code(project, hash_embedder, blank_nlp)
    record_run(project.store, "code")
    assert _import(project, tmp_path).exit_code == 0
    record_run(project.store, "code")  # learned from: only the re-ingest below lags
    runner = CliRunner()
    fresh = runner.invoke(cli, ["-p", str(project.root), "agree", "--level", "segment"])
    assert fresh.exit_code == 0, fresh.output
    assert "out of date" not in fresh.stderr
    (project.root / "interviews" / "rita_2024.txt").write_text(
        TRANSCRIPT.replace("two hours", "three hours"), encoding="utf-8")
    ingest(project, nlp=blank_nlp)  # drops the interview's machine codes
    record_run(project.store, "ingest", {"interviews": 1, "skipped": 0, "read": ["rita_2024"]})
    record_run(project.store, "themes")  # themes newer than the ingest: agree does not use them
    stale = runner.invoke(cli, ["-p", str(project.root), "agree", "--level", "segment"])
    assert stale.exit_code == 0, stale.output
    assert stale.stderr == (
        "warning: agreement out of date: interview rita_2024 was read anew after the last coding "
        "run and has no machine codes yet, so its machine codes are missing from the counts and "
        "quotes. Run 'qualcx code', 'qualcx themes' and 'qualcx report', or 'qualcx run' for all "
        "of them.\n")
    assert stale.output.index("agreement out of date") < stale.output.index("Segment level")
    explained = runner.invoke(cli, ["-p", str(project.root), "explain", "rita_2024:0"])
    assert ("Machine codes: none\n  interview rita_2024 was read anew after the last coding run, "
            "so this segment has not been coded since; run 'qualcx code' (or 'qualcx run')\n"
            "Near misses (scored, below the threshold): none\n  not coded since its interview "
            "was read anew; 'qualcx code' stores them\n") in explained.output
    assert "no code's score reached" not in explained.output
