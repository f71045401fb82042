import pytest
from click.testing import CliRunner

from qualcx.agree import (agreement, agreement_summary, cohen_kappa, krippendorff_alpha,
                          table_figures)
from qualcx.cli import cli
from qualcx.project import Project
from qualcx.transcribe import ingest


def test_figures_match_hand_computation():
    # 10 units: both 3, only A 1, only B 2, neither 4.
    r = table_figures("x", 3, 1, 2, 4)
    # percent agreement = (3 + 4) / 10
    assert r.percent == pytest.approx(0.7)
    # A says yes 4/10, B says yes 5/10; chance agreement pe = .4*.5 + .6*.5 = .5;
    # kappa = (.7 - .5) / (1 - .5) = .4
    assert r.kappa == pytest.approx(0.4)
    # alpha (nominal): N = 20 values, n1 = 2*3 + 1 + 2 = 9 yes, n0 = 2*4 + 1 + 2 = 11 no;
    # alpha = 1 - (N - 1) * (disagreeing units) / (n0 * n1) = 1 - 19 * 3 / 99 = 42 / 99
    assert r.alpha == pytest.approx(42 / 99)
    # B against A: precision 3/5, recall 3/4, F1 = 2*3 / (2*3 + 1 + 2) = 6/9
    assert (r.precision, r.recall, r.f1) == pytest.approx((0.6, 0.75, 6 / 9))
    assert r.n == 10 and r.as_dict()["n"] == 10


def test_undefined_figures_are_none_not_errors():
    nobody = table_figures("x", 0, 0, 0, 5)       # a code neither coder applied
    assert nobody.kappa is None and nobody.alpha is None
    assert nobody.precision is None and nobody.recall is None and nobody.f1 is None
    assert nobody.percent == 1.0
    everybody = table_figures("x", 5, 0, 0, 0)    # both applied it everywhere
    assert everybody.kappa is None and everybody.f1 == 1.0
    assert cohen_kappa(0, 0, 0, 0) is None and krippendorff_alpha(0, 0, 0, 0) is None
    # perfect disagreement: kappa = (0 - .5) / .5 = -1
    assert cohen_kappa(0, 2, 2, 0) == pytest.approx(-1.0)


TRANSCRIPT_A = """\
Interviewer: Tell me about customers.

Rita: They cancelled because of the price. Support was slow. We had lunch.
"""
TRANSCRIPT_B = """\
Interviewer: And you?

Bo: Support answers every ticket. Nothing else to say.
"""


@pytest.fixture
def coded(make_project, blank_nlp):
    root = make_project({"a.txt": TRANSCRIPT_A, "b.txt": TRANSCRIPT_B},
                        toml='segment_unit = "sentence"\n')
    project = Project(root)
    ingest(project, nlp=blank_nlp)
    segs = {(r["interview_id"], r["idx"]): r for r in project.store.respondent_segments()}

    def add(key, code, coder, machine):
        s = segs[key]
        with project.store.transaction() as db:
            db.execute('INSERT INTO codings (segment_id, interview_id, start, "end", text, code, '
                       "coder, is_machine, score, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, "
                       "'now')", (s["id"], s["interview_id"], s["start"], s["end"], s["text"],
                                  code, coder, int(machine), 0.7 if machine else None))
    # Segments: a:0 price, a:1 support slow, a:2 lunch, b:0 support answers, b:1 nothing.
    add(("a", 0), "churn.price", "ana", False)
    add(("a", 0), "churn", "qualcx", True)
    add(("a", 1), "support", "ana", False)
    add(("a", 1), "support", "qualcx", True)
    add(("a", 2), "support", "qualcx", True)
    add(("b", 0), "support", "qualcx", True)
    return project


def _row(result, code):
    return next(r for r in result.codes if r.code == code)


def test_segment_level_counts_hierarchy_and_units(coded):
    cb = coded.codebook
    # ana coded only interview a, so units are a's three segments.
    res = agreement(coded.store, "ana", "qualcx", cb, "segment")
    assert res.units == 3 and res.interviews == ("a",)
    # churn: ana's churn.price implies churn on a:0, the machine gave churn there -> both.
    churn = _row(res, "churn")
    assert (churn.both, churn.only_a, churn.only_b, churn.neither) == (1, 0, 0, 2)
    price = _row(res, "churn.price")
    assert (price.both, price.only_a, price.only_b, price.neither) == (0, 1, 0, 2)
    support = _row(res, "support")
    assert (support.both, support.only_a, support.only_b, support.neither) == (1, 0, 1, 1)
    # support: po = 2/3; A yes 1/3, B yes 2/3; pe = 1/3*2/3 + 2/3*1/3 = 4/9;
    # kappa = (2/3 - 4/9) / (5/9) = 2/5
    assert support.kappa == pytest.approx(0.4)
    # overall pools 3 codes x 3 units: both 2, only A 1, only B 1, neither 5
    o = res.overall
    assert (o.both, o.only_a, o.only_b, o.neither, o.n) == (2, 1, 1, 5, 9)
    # churn.price: po = 2/3, pe = 1/3*0 + 2/3*1 = 2/3, kappa = 0; churn: kappa 1
    assert price.kappa == pytest.approx(0.0) and churn.kappa == pytest.approx(1.0)
    assert res.mean_kappa == pytest.approx((1.0 + 0.0 + 0.4) / 3)
    assert {(d.segment, d.code, d.coded_by) for d in res.disagreements} == {
        (0, "churn.price", "ana"), (2, "support", "qualcx")}
    coded_only = agreement(coded.store, "ana", "qualcx", cb, "segment", units="coded")
    assert coded_only.units == 3  # every segment of a is coded by one of them


def test_interview_level(coded):
    res = agreement(coded.store, "ana", "qualcx", coded.codebook, "interview")
    assert res.units == 1
    support = _row(res, "support")
    assert (support.both, support.n, support.kappa) == (1, 1, None)


def test_summary_for_the_report(coded, make_project):
    summary = agreement_summary(coded)
    assert summary["machine_coder"] == "qualcx" and "child code implies its parent" in summary["note"]
    pair = summary["pairs"][0]
    assert (pair["coder_a"], pair["coder_b"]) == ("ana", "qualcx")
    row = pair["segment"]["codes"][0]
    assert set(row) == {"code", "kappa", "alpha", "percent", "precision", "recall", "f1", "both",
                        "only_a", "only_b", "neither", "n"}
    assert pair["interview"]["units"] == 1 and "mean_kappa" in pair["segment"]["overall"]


def test_no_human_codes_no_summary(make_project, blank_nlp):
    project = Project(make_project({"a.txt": TRANSCRIPT_A}))
    ingest(project, nlp=blank_nlp)
    assert agreement_summary(project) is None
    result = CliRunner().invoke(cli, ["-p", str(project.root), "agree"])
    assert result.exit_code == 1 and "no human codes in the project" in result.output


def test_agree_cli_prints_tables_and_writes_disagreements(coded, tmp_path):
    out = tmp_path / "dis.csv"
    result = CliRunner().invoke(cli, ["-p", str(coded.root), "agree", "--disagreements", str(out)])
    assert result.exit_code == 0, result.output
    assert ("Segment level: ana (A, reference) vs qualcx (B), 3 respondent segments of the 1 "
            "interview both coded\n") in result.output
    assert ("Interview level: ana (A, reference) vs qualcx (B), the 1 interview both coded\n"
            in result.output and "n/a" in result.output and "interview(s)" not in result.output)
    assert "child code implies its parent" in result.output
    lines = out.read_text().splitlines()
    assert lines[0] == "level,interview,segment_id,segment,code,coded_by,not_by,score,text"
    assert len(lines) == 1 + 2 + 1  # two at segment level, churn.price at interview level
    bad = CliRunner().invoke(cli, ["-p", str(coded.root), "agree", "ana", "nobody"])
    assert bad.exit_code == 1 and "no codings by 'nobody'" in bad.output


def test_codes_not_in_the_codebook_are_listed_but_not_pooled(coded):
    seg = next(s for s in coded.store.respondent_segments() if s["text"] == "We had lunch.")
    with coded.store.transaction() as db:
        db.execute('INSERT INTO codings (segment_id, interview_id, start, "end", text, code, '
                   "coder, is_machine, created_at) VALUES (?, 'a', ?, ?, ?, 'smalltalk', 'ana', "
                   "0, 'now')", (seg["id"], seg["start"], seg["end"], seg["text"]))
    res = agreement(coded.store, "ana", "qualcx", coded.codebook, "segment")
    assert res.unknown_codes == ("smalltalk",)
    extra = _row(res, "smalltalk")
    assert (extra.both, extra.only_a, extra.only_b, extra.neither) == (0, 1, 0, 2)
    # The overall and the mean kappa are those of the codebook's three codes alone.
    o = res.overall
    assert (o.both, o.only_a, o.only_b, o.neither, o.n) == (2, 1, 1, 5, 9)
    assert res.mean_kappa == pytest.approx((1.0 + 0.0 + 0.4) / 3)
    result = CliRunner().invoke(cli, ["-p", str(coded.root), "agree", "--level", "segment"])
    assert "smalltalk (not in codebook)" in result.output
    assert "codes not in the codebook are listed but not pooled" in result.output


# -- codes accepted from the machine in review ------------------------------------------------
def _decide(project, key, code, decision, coder="ana"):
    """Record a review decision as 'qualcx review --import' stores it."""
    import json
    s = {(r["interview_id"], r["idx"]): r for r in project.store.respondent_segments()}[key]
    source = json.dumps({"source": "review.csv", "row": 2, "review": decision})
    with project.store.transaction() as db:
        if decision == "reject":
            db.execute('INSERT INTO rejections (segment_id, interview_id, start, "end", text, code, '
                       "coder, source, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'now')",
                       (s["id"], s["interview_id"], s["start"], s["end"], s["text"], code, coder,
                        source))
        else:
            db.execute('INSERT INTO codings (segment_id, interview_id, start, "end", text, code, '
                       "coder, is_machine, evidence, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, 0, "
                       "?, 'now')", (s["id"], s["interview_id"], s["start"], s["end"], s["text"],
                                     code, coder, source))


def test_codes_accepted_in_review_are_left_out_unless_included(coded):
    cb = coded.codebook
    # ana accepts the machine's support on a:2 (an interview she coded in full) and on b:0
    # (an interview she never coded).
    _decide(coded, ("a", 2), "support", "accept")
    _decide(coded, ("b", 0), "support", "accept")
    res = agreement(coded.store, "ana", "qualcx", cb, "segment")
    # a:2 is still a unit, but its support decision is neither agreement nor disagreement:
    # it was not coded independently; b is no unit at all
    assert res.units == 3 and res.interviews == ("a",) and res.reviewed_left_out == 2
    assert res.decisions_left_out == 1
    support = _row(res, "support")
    assert (support.both, support.only_a, support.only_b, support.neither) == (1, 0, 0, 1)
    assert (res.overall.both, res.overall.only_b, res.overall.neither, res.overall.n) == \
        (2, 0, 5, 8)
    assert ("a", 2, "support") not in {(d.interview, d.segment, d.code)
                                       for d in res.disagreements}
    coded_units = agreement(coded.store, "ana", "qualcx", cb, "segment", units="coded")
    assert coded_units.units == 3 and coded_units.interviews == ("a",)
    assert agreement(coded.store, "ana", "qualcx", cb, "interview").interviews == ("a",)
    counted = agreement(coded.store, "ana", "qualcx", cb, "segment", include_reviewed=True)
    assert counted.units == 4 and counted.interviews == ("a", "b")
    assert counted.reviewed_left_out == 0 and counted.decisions_left_out == 0
    support = _row(counted, "support")
    assert (support.both, support.only_a, support.only_b, support.neither) == (3, 0, 0, 1)


def test_an_accepted_code_never_makes_a_unit_where_the_reviewer_coded_nothing_else(coded):
    cb = coded.codebook
    # b:0: ana accepts support and rejects churn; b:1: she only accepts support (which the
    # machine did not give there any more).
    _decide(coded, ("b", 0), "support", "accept")
    _decide(coded, ("b", 0), "churn", "reject")
    _decide(coded, ("b", 1), "support", "accept")
    res = agreement(coded.store, "ana", "qualcx", cb, "segment")
    assert res.units == 4  # a's three segments and b:0, where she rejected a code; not b:1
    support = _row(res, "support")
    # b:0's accepted support is not compared (not a "no" from ana): a's figures only
    assert (support.both, support.only_a, support.only_b, support.neither, support.n) == \
        (1, 0, 1, 1, 3)
    churn = _row(res, "churn")  # her rejection on b:0 is compared: neither coded churn there
    assert (churn.both, churn.neither, churn.n) == (1, 3, 4)
    interview = agreement(coded.store, "ana", "qualcx", cb, "interview")
    assert _row(interview, "support").n == 1  # b touches support only through an acceptance
    counted = agreement(coded.store, "ana", "qualcx", cb, "segment", include_reviewed=True)
    assert counted.units == 5 and _row(counted, "support").both == 2  # a:1 and b:0


def test_codes_added_in_review_and_imported_codes_always_count(coded):
    cb = coded.codebook
    _decide(coded, ("b", 1), "churn", "add")
    for include in (False, True):
        res = agreement(coded.store, "ana", "qualcx", cb, "segment", include_reviewed=include)
        assert res.units == 4 and res.interviews == ("a", "b") and res.reviewed_left_out == 0
        churn = _row(res, "churn")  # a:0 (imported churn.price) both; b:1 (added) only ana
        assert (churn.both, churn.only_a, churn.only_b, churn.neither) == (1, 1, 0, 2)


def test_agree_says_how_many_accepted_codes_it_leaves_out(coded):
    _decide(coded, ("a", 2), "support", "accept")
    runner = CliRunner()
    result = runner.invoke(cli, ["-p", str(coded.root), "agree", "--level", "segment"])
    assert result.exit_code == 0, result.output
    assert ("1 coding accepted from the machine in review is left out: they agree with it by "
            "construction; each such code decision is compared on neither side (see \"left "
            "out\" under the tables); --include-reviewed counts them.") in result.output
    support = next(line for line in result.output.splitlines() if line.startswith("support "))
    assert support.split()[1:5] == ["1", "0", "0", "1"]  # a:2 is compared on neither side
    assert ("left out: 1 code × segment decision of codes accepted in review (neither "
            "agreement nor disagreement)") in result.output
    included = runner.invoke(cli, ["-p", str(coded.root), "agree", "--level", "segment",
                                   "--include-reviewed"])
    assert "is counted as coded by both (--include-reviewed)" in included.output
    assert "left out:" not in included.output
    support = next(line for line in included.output.splitlines() if line.startswith("support "))
    assert support.split()[1:5] == ["2", "0", "0", "1"]
    pair = agreement_summary(coded)["pairs"][0]
    assert pair["reviewed_left_out"] == 1 and pair["reviewed_note"].startswith(
        "1 coding accepted from the machine in review is left out: they agree with it by "
        "construction, so 1 code × segment decision (with the parents they imply) count as "
        "neither agreement nor disagreement")


def test_importing_a_code_accepted_in_review_makes_it_independent(coded, tmp_path):
    from qualcx.humancodes import import_codes
    _decide(coded, ("a", 2), "support", "accept")
    assert agreement(coded.store, "ana", "qualcx", coded.codebook).reviewed_left_out == 1
    sheet = tmp_path / "codes.csv"
    sheet.write_text("interview,code,text,coder\na,support,We had lunch.,ana\n")
    assert import_codes(coded, sheet).already == 1
    res = agreement(coded.store, "ana", "qualcx", coded.codebook)
    assert res.reviewed_left_out == 0 and _row(res, "support").both == 2


# -- human codes that are a sample ---------------------------------------------------------------
def test_agree_compares_judged_segments_when_human_codes_are_a_sample(coded):
    runner = CliRunner()
    complete = runner.invoke(cli, ["-p", str(coded.root), "agree", "--level", "segment"])
    assert "Segment units:" not in complete.output
    (coded.root / "qualcx.toml").write_text('segment_unit = "sentence"\n'
                                            "human_codes_complete = false\n")
    sample = runner.invoke(cli, ["-p", str(coded.root), "agree", "--level", "segment"])
    assert sample.exit_code == 0, sample.output
    assert ("Segment units: only the segments the reference coder (A) judged, coded or decided "
            "in review, since human_codes_complete = false (the human codes are a sample): "
            "precision and recall both hold for those segments. --units coded adds the segments "
            "only B coded (as A's \"no\"); --units interviews counts every segment of the "
            "interviews both coded.") in sample.output
    # a:2 has only the machine's support: ana never judged it, so it is no unit
    assert ("2 respondent segments ana (the reference) judged, coded or decided in review, in "
            "the 1 interview both coded") in sample.output
    coded_units = runner.invoke(cli, ["-p", str(coded.root), "agree", "--level", "segment",
                                      "--units", "coded"])
    assert "3 respondent segments either coder coded in the 1 interview both coded" in \
        coded_units.output and "Segment units:" not in coded_units.output
    every = runner.invoke(cli, ["-p", str(coded.root), "agree", "--level", "segment", "--units",
                                "interviews"])
    assert "3 respondent segments of the 1 interview both coded" in every.output
    summary = agreement_summary(Project(coded.root))
    assert summary["units"] == "judged" and summary["pairs"][0]["segment"]["units"] == 2
    assert summary["pairs"][0]["units_phrase"] == \
        "ana (the reference) judged, coded or decided in review, in"


def test_judged_units_make_precision_meaningful_for_a_sample(coded):
    cb = coded.codebook
    judged = agreement(coded.store, "ana", "qualcx", cb, "segment", units="judged")
    either = agreement(coded.store, "ana", "qualcx", cb, "segment", units="coded")
    # "coded" counts a:2, which only the machine coded, as ana's "no": precision 1/2
    assert _row(either, "support").precision == pytest.approx(0.5)
    assert judged.units == 2 and judged.unit_choice == "judged"
    support = _row(judged, "support")
    assert (support.both, support.only_a, support.only_b, support.neither) == (1, 0, 0, 1)
    assert support.precision == 1.0 and support.recall == 1.0
    # review decisions make their segments judged: a rejection (b:1) and an acceptance (b:0),
    # whose accepted code is compared on neither side; the rest of b:0 is compared
    _decide(coded, ("b", 1), "churn", "reject")
    _decide(coded, ("b", 0), "support", "accept")
    judged = agreement(coded.store, "ana", "qualcx", cb, "segment", units="judged")
    assert judged.units == 4 and judged.interviews == ("a", "b")
    assert judged.decisions_left_out == 1
    support = _row(judged, "support")
    assert (support.both, support.only_a, support.only_b, support.neither) == (1, 0, 0, 2)
    assert _row(judged, "churn").n == 4
    counted = agreement(coded.store, "ana", "qualcx", cb, "segment", units="judged",
                        include_reviewed=True)
    assert counted.units == 4 and counted.decisions_left_out == 0
    assert _row(counted, "support").both == 2
    with pytest.raises(ValueError, match="units must be one of"):
        agreement(coded.store, "ana", "qualcx", cb, "segment", units="read")
