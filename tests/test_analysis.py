"""Matrices, co-occurrence, comparison and saturation against hand-counted fixtures, and the
promise that report counts equal the codings export."""

from collections import defaultdict

import pytest
from conftest import MINI_CODEBOOK

from qualcx.analysis import (Corpus, code_interview_matrix, compare, cooccurrence,
                             default_compare_attribute, interview_order, saturation,
                             segment_code_sets, theme_interview_matrix, top_pairs)
from qualcx.codebook import parse_codebook
from qualcx.export import codings_rows
from qualcx.report import build_context

CODEBOOK = parse_codebook(MINI_CODEBOOK)


def corpus(dates=True, extra_theme_in_d=False) -> Corpus:
    """Four interviews, seven segments, hand-coded; B, C, A, D in date order."""
    meta = {"A": ("Sales", "2026-01-03"), "B": ("Sales", "2026-01-01"),
            "C": ("Support", "2026-01-02"), "D": ("Support", "2026-01-04")}
    interviews = [{"n": n, "id": i, "file": f"{i}.txt", "role": f"Role {i}", "words": 100,
                   "meta": {"department": meta[i][0], **({"date": meta[i][1]} if dates else {})}}
                  for n, i in enumerate("ABCD", start=1)]
    owner = {1: "A", 2: "A", 3: "B", 4: "C", 5: "C", 6: "D", 7: "D"}
    segments = {s: {"id": s, "interview_id": i, "text": f"segment {s}", "start": 0, "end": 9,
                    "turn_id": s} for s, i in owner.items()}
    codes = {1: {"churn.price": 0.9}, 2: {"churn": 0.7, "support": 0.8}, 3: {"support": 1.0},
             4: {"churn.price": 0.6, "support": 0.9}, 6: {"support": 0.7},
             7: {"churn.price": 0.8}}
    themes = [{"key": "t1", "label": "one", "keywords": [], "parent_code": "churn",
               "members": [(1, 0.9), (4, 0.8)]},
              {"key": "t2", "label": "two", "keywords": [], "parent_code": None,
               "members": [(3, 0.9), (6, 0.8)]}]
    if extra_theme_in_d:
        themes.append({"key": "t3", "label": "three", "keywords": [], "parent_code": None,
                       "members": [(7, 0.9)]})
    return Corpus(interviews, segments, codes, ["Ana"], themes)


def test_child_codes_imply_their_parent():
    sets = segment_code_sets(corpus(), CODEBOOK)
    assert sets[1] == {"churn", "churn.price"}
    assert 5 not in sets


def test_code_interview_matrix_matches_hand_counts():
    rows = {r["code"].id: r for r in code_interview_matrix(corpus(), CODEBOOK)}
    assert rows["churn"]["counts"] == {"A": 2, "B": 0, "C": 1, "D": 1}
    assert (rows["churn"]["total"], rows["churn"]["interviewees"]) == (4, 3)
    assert rows["churn.price"]["counts"] == {"A": 1, "B": 0, "C": 1, "D": 1}
    assert rows["support"]["counts"] == {"A": 1, "B": 1, "C": 1, "D": 1}


def test_cooccurrence_counts_segments_with_both_codes():
    rows = cooccurrence(corpus(), CODEBOOK)
    got = {r["code"].id: r["counts"] for r in rows}
    assert got["churn"] == {"churn": 4, "churn.price": 3, "support": 2}
    assert got["churn.price"]["support"] == 1 and got["support"]["support"] == 4
    pairs = top_pairs(rows, CODEBOOK)  # only codes without sub-codes
    assert [(p["a"].id, p["b"].id, p["segments"]) for p in pairs] == [("churn.price", "support", 1)]


def test_comparison_by_department_counts_and_shares():
    c = corpus()
    assert default_compare_attribute(c.interviews) == "department"
    result = compare(c, CODEBOOK, "department")
    assert [(g["name"], g["interviews"], g["segments"]) for g in result["groups"]] == \
        [("Sales", ["A", "B"], 3), ("Support", ["C", "D"], 4)]
    churn = next(r for r in result["rows"] if r["code"].id == "churn")
    sales, support = churn["cells"]
    assert (sales["interviewees"], sales["of"], sales["segments"]) == (1, 2, 2)
    assert sales["share"] == 0.5 and sales["segment_share"] == pytest.approx(2 / 3)
    assert (support["interviewees"], support["of"], support["segments"]) == (2, 2, 2)
    assert support["segment_share"] == 0.5


def test_no_comparison_when_every_interview_is_its_own_group():
    c = corpus()
    for n, row in enumerate(c.interviews):
        row["meta"] = {"country": f"country {n}"}
    assert default_compare_attribute(c.interviews) is None
    assert compare(c, CODEBOOK, None) is None


def test_default_comparison_passes_over_columns_with_a_group_per_interview():
    """As the README says: department comes first, but a department per interviewee makes as
    many groups as interviews, and role is never used, so group is chosen."""
    interviews = [{"id": i, "meta": {"department": d, "role": r, "group": g}}
                  for i, d, r, g in [("P1", "Eng", "new hire", "hires"),
                                     ("P2", "Mobile", "new hire", "hires"),
                                     ("P3", "HR", "manager", "staff")]]
    assert default_compare_attribute(interviews) == "group"


def test_theme_interview_matrix():
    rows = theme_interview_matrix(corpus())
    assert rows[0]["counts"] == {"A": 1, "B": 0, "C": 1, "D": 0}
    assert (rows[1]["total"], rows[1]["interviewees"]) == (2, 2)


A_PRIORI = ("They are a priori codes, so finding them early shows that the codebook fits these "
            "interviews, not that the data are saturated.")


def test_saturation_in_date_order_when_later_interviews_add_nothing():
    sat = saturation(corpus(), CODEBOOK, window=2, base=2, min_interviews=4)
    assert sat["order"] == "date"
    assert [s["interview"] for s in sat["steps"]] == ["B", "C", "A", "D"]
    assert [(s["codes"], s["themes"]) for s in sat["steps"]] == [(1, 1), (3, 2), (3, 2), (3, 2)]
    assert sat["steps"][1]["new_codes"] == ["churn", "churn.price"]
    assert sat["reached"] is True
    assert sat["statement"] == (
        "The last two interviews (A, D) added no new theme: all 2 themes found had appeared by "
        "interview C (2 of 4). By this rule the interviews reached saturation for these themes. "
        "As for codes: the 3 codes found (of 3 in the codebook) had all appeared by interview C "
        f"(2 of 4). {A_PRIORI}")
    assert "no new theme" in sat["rule"] and "do not decide" in sat["rule"]


def test_saturation_is_decided_by_themes_not_by_a_priori_codes():
    late_code = corpus()
    for seg in (2, 3, 4):  # support first appears in D, the last interview, which adds no theme
        late_code.codes_by_segment[seg].pop("support", None)
    sat = saturation(late_code, CODEBOOK, window=2, base=2, min_interviews=4)
    assert sat["steps"][-1]["new_codes"] == ["support"] and sat["steps"][-1]["new_themes"] == []
    assert sat["reached"] is True
    assert sat["statement"].endswith("had all appeared by interview D (4 of 4). " + A_PRIORI)


def test_saturation_not_reached_when_the_last_interview_adds_a_theme():
    sat = saturation(corpus(dates=False, extra_theme_in_d=True), CODEBOOK, window=2, base=2,
                     min_interviews=4)
    assert sat["order"] == "file"
    assert [s["interview"] for s in sat["steps"]] == ["A", "B", "C", "D"]
    assert sat["reached"] is False
    assert sat["statement"].startswith("The last two interviews (C, D) still added new themes: "
                                       "D added 1 new theme. Saturation is not shown")
    assert sat["statement"].endswith(A_PRIORI)


def test_saturation_needs_more_interviews_than_the_window():
    sat = saturation(corpus(), CODEBOOK, window=4, min_interviews=4)
    assert sat["reached"] is None and sat["statement"].startswith("Too few interviews (4)")
    # two interviews after two others is no initial sample: nothing is claimed
    sat = saturation(corpus(), CODEBOOK, window=2, min_interviews=4)
    assert sat["reached"] is None
    assert sat["statement"] == ("Too few interviews (4) to judge saturation: the rule compares "
                                "the last two interviews with at least 4 interviews before "
                                f"them, so it needs 6. As for codes: the 3 codes found (of 3 in "
                                f"the codebook) had all appeared by interview C (2 of 4). {A_PRIORI}")


def test_saturation_is_not_judged_on_a_small_sample_or_small_groups():
    sat = saturation(corpus(), CODEBOOK, window=2, base=2)  # 4 interviews: fewer than 8
    assert sat["reached"] is None
    assert sat["statement"].startswith(
        "The sample is too small to judge saturation: 4 interviews (at least 8 are needed). The "
        "counts below show when codes and themes first appeared, nothing more: all 2 themes had "
        "appeared by interview C (2 of 4). As for codes:")
    assert [s["codes"] for s in sat["steps"]] == [1, 3, 3, 3]  # the counts are kept
    by_group = saturation(corpus(), CODEBOOK, window=2, base=2, min_interviews=4,
                          attribute="department")  # Sales and Support, two interviews each
    assert by_group["reached"] is None
    assert by_group["statement"].startswith(
        "The sample is too small to judge saturation: its 4 interviews meet the minimum of 4, "
        "but groups with fewer than 3 interviews when compared by department: Sales (2) and "
        "Support (2). The counts")
    assert "by department with" not in by_group["statement"]
    enough = saturation(corpus(), CODEBOOK, window=2, base=2, min_interviews=4,
                        attribute="department", min_per_group=2)
    assert enough["reached"] is True


def test_saturation_is_not_judged_without_themes():
    sat = saturation(Corpus(*[getattr(corpus(), f) for f in ("interviews", "segments",
                                                             "codes_by_segment", "coders")], []),
                     CODEBOOK, window=2, base=2, min_interviews=4)
    assert sat["reached"] is None and sat["statement"].startswith("No themes were found")


def test_undated_interviews_come_last_in_file_order():
    c = corpus()
    del c.interviews[1]["meta"]["date"]  # B
    ordered, how = interview_order(c.interviews)
    assert how == "date" and [i["id"] for i in ordered] == ["C", "A", "D", "B"]


def _from_export(project) -> tuple[dict, dict]:
    """Per code: distinct (interview, segment) and interviews, from the codings export rows."""
    codebook = project.codebook
    segs, people = defaultdict(set), defaultdict(set)
    for row in codings_rows(project):
        for code_id in codebook.codes:
            if row["code"] in codebook.descendants(code_id):
                segs[code_id].add((row["interview"], row["segment"]))
                people[code_id].add(row["interview"])
    return segs, people


def test_report_counts_equal_the_codings_export(coded_project):
    segs, people = _from_export(coded_project)
    context = build_context(coded_project)
    for section in context["sections"]:
        for c in section["codes"]:
            assert c["segments"] == len(segs[c["code"].id])
            assert c["interviewees"] == len(people[c["code"].id])
            for child in c["children"]:
                assert child["segments"] == len(segs[child["code"].id])
    for row in context["matrix"]:
        assert row["total"] == len(segs[row["code"].id])
        for interview, n in row["counts"].items():
            assert n == sum(1 for i, _ in segs[row["code"].id] if i == interview)
    assert segs["churn"] and segs["support"]  # the fixture is not empty
