import csv
import io
import re

import pytest
from conftest import EVIL, record_run

from qualcx.export import CODINGS_COLUMNS, codings_rows, export
from qualcx.project import Project
from qualcx.report import write_atomic, write_report
from qualcx.transcribe import ingest

def test_report_structure_and_attribution(coded_project):
    html_path, md_path = write_report(coded_project)
    html = html_path.read_text()
    assert 'id="rq-RQ1"' in html and 'id="code-churn"' in html and 'id="code-support"' in html
    quotes = re.findall(r"<blockquote>.*?<cite>(.*?) <a class=\"src\" href=\"#seg-(\d+)\">",
                        html, re.S)
    for _, seg in quotes:  # every quote links to its highlighted place in the transcript
        assert f'<mark id="seg-{seg}">' in html
    quotes = [q for q, _ in quotes]
    assert "Account manager, a" in quotes and "Support lead, b" in quotes
    assert "Raised by <b>2 of 2 interviewees</b> in <b>2 segments</b>" in html
    md = md_path.read_text()
    assert "## RQ1: Why do customers leave?" in md
    assert "— Account manager, a" in md


def test_transcript_html_is_escaped_everywhere(coded_project):
    html_path, md_path = write_report(coded_project)
    for text in (html_path.read_text(), md_path.read_text()):
        assert "<script>" not in text and "<img" not in text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "cancel &lt;script&gt;alert(1)&lt;/script&gt; and that hurt \\| a lot" in \
        md_path.read_text()


def test_report_is_byte_identical_with_fixed_date(coded_project):
    first = [p.read_bytes() for p in write_report(coded_project)]
    second = [p.read_bytes() for p in write_report(coded_project)]
    assert first == second
    assert b"2023-11-14" in first[0]


def test_atomic_write_keeps_the_old_file_on_failure(tmp_path):
    target = tmp_path / "r.html"
    write_atomic(target, "good")


    with pytest.raises(TypeError):
        write_atomic(target, 42)  # not text: the write fails half way
    assert target.read_text() == "good"
    assert [p.name for p in tmp_path.iterdir()] == ["r.html"]


def test_codings_csv_contract(coded_project, blank_nlp):
    path, n = export(coded_project)
    rows = list(csv.DictReader(io.StringIO(path.read_text())))
    assert list(rows[0].keys())[:11] == CODINGS_COLUMNS[:11]
    assert list(rows[0].keys())[11] == "theme"
    assert n == len(rows) == 4
    row = rows[0]
    text = (coded_project.interviews_dir / f"{row['interview']}.txt").read_text()
    assert text[int(row["start"]):int(row["end"])] == row["text"]
    assert {r["coder"] for r in rows} == {"Ana"}
    assert {r["code_name"] for r in rows} == {"Price as a reason to leave", "Support"}


def test_uncoded_segments_get_one_row_with_empty_code(make_project, blank_nlp):
    project = Project(make_project({"a.txt": EVIL}))
    ingest(project, nlp=blank_nlp)
    rows = codings_rows(project)
    assert len(rows) == 2 and {r["code"] for r in rows} == {""}


def _docx_text(path) -> str:
    import docx
    doc = docx.Document(str(path))
    cells = [c.text for t in doc.tables for row in t.rows for c in row.cells]
    return "\n".join([p.text for p in doc.paragraphs] + cells)


def test_word_report_shows_markup_as_text(coded_project):
    import zipfile
    (path,) = write_report(coded_project, ("docx",))
    text = _docx_text(path)
    assert "<script>alert(1)</script>" in text and "onerror=alert(2)" in text
    xml = zipfile.ZipFile(path).read("word/document.xml").decode()
    assert "<script" not in xml and "&lt;script&gt;alert(1)&lt;/script&gt;" in xml


def test_word_report_structure_and_quotes(coded_project):
    import docx
    (path,) = write_report(coded_project, ("docx",))
    doc = docx.Document(str(path))
    headings = [p.text for p in doc.paragraphs if p.style.name.startswith("Heading")]
    assert headings[:2] == ["Interviewees", "Method"]
    assert "RQ1: Why do customers leave?" in headings and "Saturation" in headings
    quotes = [p.text for p in doc.paragraphs if p.style.name == "Quote"]
    assert "— Account manager, a" in quotes and "— Support lead, b" in quotes
    assert any(q.startswith("“The price increase made them cancel") for q in quotes)
    assert len(doc.tables) >= 5  # interviewees, codes, matrices, saturation
    assert doc.core_properties.created.year == 2023


def test_all_formats_are_byte_identical_with_a_fixed_date(coded_project):
    formats = ("html", "md", "docx")
    first = [p.read_bytes() for p in write_report(coded_project, formats)]
    second = [p.read_bytes() for p in write_report(coded_project, formats)]
    assert first == second


AGREEMENT = {"pairs": [{
    "coder_a": "Ana", "coder_b": "qualcx", "interview": {"overall": {"kappa": 0.5}},
    "segment": {"units": 16, "interviews": 2, "overall": {"kappa": 0.61, "alpha": 0.6, "percent": 0.875, "precision": 0.7, "recall": 0.64,
                "f1": 0.67, "both": 9, "only_a": 5, "only_b": 4, "neither": 30, "n": 48},
    "codes": [{"code": "churn", "kappa": 0.8125, "alpha": 0.81, "percent": 0.9375,
               "precision": 1.0, "recall": 0.75, "f1": 0.857, "both": 3, "only_a": 1,
               "only_b": 0, "neither": 12, "n": 16},
              {"code": "support <b>", "kappa": None, "alpha": None, "percent": 1.0,
               "precision": None, "recall": None, "f1": None, "both": 0, "only_a": 0,
               "only_b": 0, "neither": 16, "n": 16}]}}]}


def test_agreement_block_in_the_method_section(coded_project):
    from qualcx.report import build_context, environment
    context = build_context(coded_project, agreement=AGREEMENT)
    env = environment()
    html = env.get_template("report.html.j2").render(**context)
    method = html[html.index('id="method"'):html.index('id="rq-RQ1"')]
    assert "<caption>Ana and qualcx: " in method
    row = re.search(r"<tr><td>churn</td>(.*?)</tr>", method).group(1)
    cells = re.findall(r">([^<]*)</td>", row)
    assert cells == ["0.81", "0.81", "93.8", "1.00", "0.75", "0.86", "3", "1", "0", "16"]
    assert "support &lt;b&gt;" in method and "<td class=\"num\">n/a</td>" in method
    assert "All codes" in method and "87.5" in method
    # the All codes row's Segments cell holds the segments; its 48 decisions are in the caption
    overall = re.findall(r">([^<]*)</td>", re.search(r'<tr class="overall">(.*?)</tr>',
                                                      method).group(1))
    assert overall[0] == "All codes" and overall[-1] == "16"
    assert "48 code &times; segment decisions (16 segments &times; 3 codes, pooled in the All " \
        "codes row)" in method
    md = env.get_template("report.md.j2").render(**context)
    assert "| All codes | 0.61 | 0.60 | 87.5 | 0.70 | 0.64 | 0.67 | 9 | 5 | 4 | 16 |" in md
    assert "48 code × segment decisions (16 segments × 3 codes, pooled in the All codes row)" in md
    assert "| churn | 0.81 | 0.81 | 93.8 | 1.00 | 0.75 | 0.86 | 3 | 1 | 0 | 16 |" in md
    assert "| support &lt;b&gt; | n/a | n/a | 100.0 | n/a |" in md and "–" not in md
    from qualcx.docx_report import render_docx
    path = coded_project.reports_dir / "agree.docx"
    path.write_bytes(render_docx(context))
    assert "Ana and qualcx" in _docx_text(path) and "n/a" in _docx_text(path)
    assert "48 code × segment decisions (16 segments × 3 codes, pooled in the All codes " \
        "row)" in _docx_text(path)
    import docx
    [table] = [t for t in docx.Document(str(path)).tables if t.rows[0].cells[0].text == "Code"
               and t.rows[1].cells[0].text == "All codes"]
    assert table.rows[1].cells[-1].text == "16"
    without = env.get_template("report.html.j2").render(**build_context(coded_project))
    assert "agreement between coders was not measured" in without


def test_agreement_block_says_its_units_and_the_codes_accepted_in_review(coded_project):
    import copy

    from qualcx.docx_report import render_docx
    from qualcx.report import build_context, environment
    agreement = copy.deepcopy(AGREEMENT)
    agreement["units"] = "judged"
    pair = agreement["pairs"][0]
    pair["units_phrase"] = "Ana (the reference) judged, coded or decided in review, in"
    note = ("2 codings accepted from the machine in review are left out: they agree with it by "
            "construction, so 2 code × segment decisions (with the parents they imply) count as "
            "neither agreement nor disagreement (qualcx agree --include-reviewed counts them)")
    pair["reviewed_note"] = note
    pair["segment"]["overall"]["n"] -= 2  # the two decisions left out of the pool
    pair["segment"]["decisions_left_out"] = 2
    context = build_context(coded_project, agreement=agreement)
    env = environment()
    sample = ("respondent segments Ana (the reference) judged, coded or decided in review, in 2 "
              "interviews (human_codes_complete = false")
    assert context["agreement"][0]["codes_compared"] == 3  # 46 pooled + 2 left out = 16 x 3
    pooled = "46 code × segment decisions (16 segments × 3 codes, less 2 left out, pooled in the"
    for name in ("report.html.j2", "report.md.j2"):
        text = env.get_template(name).render(**context)
        assert sample in text and note in text, name
        assert pooled.replace("×", "&times;" if name.endswith("html.j2") else "×") in text, name
    path = coded_project.reports_dir / "agree.docx"
    path.write_bytes(render_docx(context))
    assert sample in _docx_text(path) and note in _docx_text(path) and pooled in _docx_text(path)
    plain = env.get_template("report.md.j2").render(**build_context(coded_project, AGREEMENT))
    assert "respondent segments of 2 interviews" in plain and "in review" not in plain


def test_report_sections_charts_and_saturation(coded_project):
    html_path, md_path = write_report(coded_project)
    html, md = html_path.read_text(), md_path.read_text()
    for anchor in ("interviewees", "method", "emergent", "matrices", "cooccurrence",
                   "comparison", "saturation", "codebook", "transcripts", "transcript-a"):
        assert f'id="{anchor}"' in html, anchor
    assert html.count("<svg") == 3 and "<title id=\"saturation-t\">" in html  # 2 RQs + saturation
    assert "The sample is too small to judge saturation: 2 interviews" in html
    assert "## Saturation" in md and "| Interview | Role | New codes |" in md
    assert "<svg" not in md
    assert "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "https://" not in html
    assert "Names were not pseudonymised" in html


def test_report_says_names_were_pseudonymised_when_redact_is_set(coded_project):
    from qualcx.report import build_context
    coded_project.settings["redact"] = True
    assert build_context(coded_project)["redacted"] is True


def test_report_cli_writes_word(coded_project):
    from click.testing import CliRunner

    from qualcx.cli import cli
    result = CliRunner().invoke(cli, ["-p", str(coded_project.root), "report", "--format",
                                      "docx"])
    assert result.exit_code == 0, result.output
    assert (coded_project.reports_dir / "report.docx").exists()
    assert not (coded_project.reports_dir / "report.html").exists()


def test_charts_are_labelled_escaped_and_deterministic():
    from qualcx.charts import bar_chart, heat_colour, saturation_chart
    steps = [{"interview": "I<1>", "codes": 3, "themes": 1}, {"interview": "I2", "codes": 5,
                                                              "themes": 1}]
    svg = str(saturation_chart(steps))
    assert svg == str(saturation_chart(steps))
    assert '<title id="saturation-t">' in svg and "<desc" in svg and 'role="img"' in svg
    assert "I&lt;1&gt;" in svg and "<1>" not in svg
    assert "after I2: 5 codes, 1 themes" in svg  # the data, readable without the picture
    bars = str(bar_chart([("<b>x</b>", 2, "#123456"), ("· y", 0, "")], 4, "t", "d"))
    assert "&lt;b&gt;x&lt;/b&gt;" in bars and ">2 of 4<" in bars and ">0 of 4<" in bars
    assert heat_colour(0, 5) == "#ffffff" and heat_colour(5, 5) == "rgb(120,163,214)"


def test_write_report_reads_agreement_from_the_agree_module(coded_project, monkeypatch):
    import sys
    import types
    fake = types.ModuleType("qualcx.agree")
    fake.agreement_summary = lambda project: AGREEMENT
    monkeypatch.setitem(sys.modules, "qualcx.agree", fake)
    html_path, _ = write_report(coded_project)
    assert "<caption>Ana and qualcx: " in html_path.read_text()


def test_compare_by_must_name_a_metadata_column(coded_project):
    from qualcx.errors import SettingsError
    coded_project.settings["compare_by"] = "region"
    with pytest.raises(SettingsError, match=r"compare_by names 'region', which is not a column "
                                            r"of interviews/metadata.csv; use one of: role"):
        write_report(coded_project)
    coded_project.settings["compare_by"] = "role"
    html = write_report(coded_project)[0].read_text()
    assert "Comparison by role" in html and "Account manager<br>" in html


def test_report_of_an_uncoded_project(make_project, blank_nlp):
    project = Project(make_project({"a.txt": EVIL}))
    ingest(project, nlp=blank_nlp)
    html_path, md_path, docx_path = write_report(project, ("html", "md", "docx"))
    html = html_path.read_text()
    assert "Raised by <b>0 of 1 interviewees</b> in <b>0 segments</b>" in html
    assert "No human codes are stored" in html and \
        "The sample is too small to judge saturation: 1 interview (at least 8" in html


def test_quotes_name_a_role_never_a_person_and_markdown_stays_literal(make_project, blank_nlp):
    project = Project(make_project({"a.txt": "Interviewer: Why?\n\nRita: It was *really* "
                                             "slow, the support_team said so.\n"}))
    ingest(project, nlp=blank_nlp)
    _, md_path = write_report(project)
    md = md_path.read_text()
    assert "| 1 | a | Interviewee |" in md  # no role given: not the speaker's name
    assert "*really*" not in md and "\\*really\\*" in md and "support\\_team" in md
    assert "No themes were found" in md


def test_report_says_names_were_pseudonymised_after_a_redacting_ingest(coded_project):
    with coded_project.store.transaction() as db:
        db.execute("INSERT OR REPLACE INTO meta VALUES ('redacted', '1')")
    html = write_report(coded_project)[0].read_text()
    assert "Names were not pseudonymised" not in html and "redact = true" in html


def test_report_says_how_much_small_talk_was_set_aside(coded_project):
    import docx

    from qualcx.docx_report import render_docx
    from qualcx.report import build_context, small_talk
    store = coded_project.store
    assert small_talk(store) is None  # no themes run recorded yet: nothing is claimed
    run = store.start_run("themes", {}, {}, "2023-11-14T00:00:00")
    store.finish_run(run, "2023-11-14T00:00:01",
                     {"themes": 3, "small_talk": 2, "small_talk_segments": 7})
    assert small_talk(store)["segments"] == 7
    context = build_context(coded_project)
    note = context["small_talk_note"]
    word = docx.Document(io.BytesIO(render_docx(context)))
    assert note in [p.text for p in word.paragraphs]
    assert note.startswith("7 uncoded segments in 2 clusters were set aside as small talk")
    assert "first 10% or last 5%" in note
    html_path, md_path = write_report(coded_project)
    assert note in html_path.read_text() and note in md_path.read_text()
    first = [p.read_bytes() for p in write_report(coded_project)]
    assert first == [p.read_bytes() for p in write_report(coded_project)]


def _method_section(html: str) -> str:
    return html[html.index('id="method"'):html.index('<ol class="stages">')]


def test_report_says_which_interviews_were_read_after_the_last_coding_run(coded_project):
    import docx

    from qualcx.report import stale_notice
    store = coded_project.store
    record_run(store, "ingest", {"interviews": 2, "skipped": 0, "read": ["a", "b"], "removed": []})
    record_run(store, "code")
    record_run(store, "themes")
    assert stale_notice(store) == ""
    html_path, md_path, docx_path = write_report(coded_project, ("html", "md", "docx"))
    assert "Out of date" not in html_path.read_text() + md_path.read_text()
    assert "Out of date" not in _docx_text(docx_path)

    record_run(store, "ingest", {"interviews": 2, "skipped": 1, "read": ["b"], "removed": []})
    notice = stale_notice(store)
    assert notice == ("interview b was read anew after the last coding run and has no machine "
                      "codes yet, so its machine codes are missing from the counts and quotes; "
                      "the themes were found before the last ingest changed the interviews. Run "
                      "'qualcx code', 'qualcx themes' and 'qualcx report', or 'qualcx run' for "
                      "all of them.")
    html_path, md_path, docx_path = write_report(coded_project, ("html", "md", "docx"))
    assert f'<p class="stale" role="note"><b>Out of date:</b> {notice}'.replace(
        "'", "&#39;") in _method_section(html_path.read_text())
    md = md_path.read_text()
    assert md.index("## Method\n\n> **Out of date:** interview b was read anew") < \
        md.index("The study followed")
    word = docx.Document(str(docx_path))
    texts = [p.text for p in word.paragraphs]
    assert texts[texts.index("Method") + 1] == f"Out of date: {notice}"
    assert [p.read_bytes() for p in write_report(coded_project, ("html", "md", "docx"))] == \
        [p.read_bytes() for p in write_report(coded_project, ("html", "md", "docx"))]

    record_run(store, "code")  # coded again: only the themes are older now
    assert stale_notice(store) == ("the themes were found before the last coding run. Run "
                                   "'qualcx themes' and 'qualcx report', or 'qualcx run' for "
                                   "all of them.")
    record_run(store, "themes")
    assert stale_notice(store) == ""
    assert "Out of date" not in write_report(coded_project)[0].read_text()


def test_stale_notice_names_a_few_interviews_and_counts_the_rest(coded_project):
    from qualcx.analysis import prose_list
    from qualcx.report import stale_notice
    store = coded_project.store
    record_run(store, "code")
    record_run(store, "ingest", {"interviews": 2, "skipped": 0, "read": ["b", "a", "gone"]})
    assert stale_notice(store).startswith("interviews a and b were read anew after the last "
                                          "coding run and have no machine codes yet, so their")
    assert prose_list(["a", "b", "c"], shown=3) == "a, b and c"
    assert prose_list(["a", "b", "c", "d", "e"], shown=3) == "a, b, c and 2 more"


def test_stale_notice_needs_a_coding_run_and_a_change(coded_project):
    from qualcx.report import stale_notice
    store = coded_project.store
    record_run(store, "ingest", {"interviews": 2, "skipped": 0, "read": ["a", "b"]})
    assert stale_notice(store) == ""  # never coded by the machine: human codes only
    record_run(store, "themes")
    record_run(store, "ingest", {"interviews": 2, "skipped": 2, "read": [], "removed": []})
    record_run(store, "ingest", {"interviews": 2, "skipped": 2, "errors": 1})  # an older record: no lists
    assert stale_notice(store) == ""  # nothing changed since the themes
    record_run(store, "ingest", {"interviews": 2, "skipped": 2, "read": [], "removed": ["c.txt"]})
    assert stale_notice(store).startswith("the themes were found before the last ingest "
                                          "changed the interviews.")
    unfinished = store.start_run("code", {}, {}, "2023-11-14T00:00:02")
    assert unfinished and "last coding run" not in stale_notice(store)  # failed: not a run


def test_sub_themes_say_how_many_of_the_code_segments_they_hold(coded_project):
    import json
    store = coded_project.store
    churn = [r["segment_id"] for r in store.codings() if r["code"].startswith("churn")]
    text = {s["id"]: s["text"] for s in store.respondent_segments()}
    with store.transaction() as db:
        db.execute("DELETE FROM themes")
        cur = db.execute("INSERT INTO themes (key, label, keywords, parent_code, ordinal) "
                         "VALUES ('churn-1', 'Price increase', ?, 'churn', 0)",
                         (json.dumps(["price increase", "contract"]),))
        db.execute("INSERT INTO theme_segments VALUES (?, ?, 0.9)", (cur.lastrowid, churn[0]))
    html_path, md_path = write_report(coded_project)
    md = md_path.read_text()
    n = len(set(churn))
    assert f"The sub-themes hold 1 of the code's {n} segments" in md
    assert "A theme's counts are those of its own segments" in md  # the method says so
    uses = int("price increase" in text[churn[0]].lower())
    assert f"keywords (segments using each): price increase ({uses}), contract (" in md
    assert f"The sub-themes hold 1 of the code&#39;s {n} segments" in html_path.read_text() \
        or f"The sub-themes hold 1 of the code's {n} segments" in html_path.read_text()


def _headings_without_a_blank_line(md: str) -> list[str]:
    lines = md.splitlines()
    return [line for before, line in zip(lines, lines[1:]) if line.startswith("#") and before]


def test_every_markdown_heading_has_a_blank_line_before_it(coded_project):
    md = write_report(coded_project)[1].read_text()
    assert "## Emergent themes" in md and "## Appendix B: transcripts" in md
    assert _headings_without_a_blank_line(md) == []
    assert "Raised by every interviewee" not in md  # "2 of 2 interviewees" says it already
    assert "Warnings when" not in md  # nothing to warn about, nothing said


def test_a_heading_after_too_few_emergent_themes_has_a_blank_line(make_project, blank_nlp):
    project = Project(make_project({"a.txt": EVIL}))
    ingest(project, nlp=blank_nlp)
    md = write_report(project)[1].read_text()
    assert "Too few uncoded segments to form themes." in md
    assert _headings_without_a_blank_line(md) == []


def test_coverage_says_whose_codes_it_counts(coded_project):
    from qualcx.report import build_context
    html, md = (p.read_text() for p in write_report(coded_project))
    sentence = ("4 of 4 segments (100%) received at least one code, counting every coder's codes, "
                "human and machine (0 received a machine code).")
    assert build_context(coded_project)["coverage"] == sentence
    assert sentence in md and sentence.replace("'", "&#39;") in html
    with coded_project.store.transaction() as db:
        db.execute("UPDATE codings SET is_machine = 1")
    assert build_context(coded_project)["coverage"] == ("4 of 4 segments (100%) received at "
                                                        "least one code.")


def test_the_small_talk_rule_is_stated_only_when_something_was_set_aside(coded_project):
    from qualcx.report import small_talk, small_talk_sentence
    store = coded_project.store
    record_run(store, "themes", {"themes": 1, "small_talk": 0, "small_talk_segments": 0})
    assert small_talk_sentence(small_talk(store)) == "No uncoded talk was set aside as small talk."


def test_sub_codes_no_one_raised_are_listed_with_or():
    from qualcx.analysis import prose_list
    assert prose_list(["“A”"], "or") == "“A”"
    assert prose_list(["“A”", "“B”"], "or") == "“A” or “B”"
    assert prose_list(["“A”", "“B”", "“C”"], "or") == "“A”, “B” or “C”"


def test_interviewees_section_lists_ingest_warnings(make_project, blank_nlp):
    root = make_project({"a.txt": EVIL, "notes.txt": "Long notes with no speaker labels at all."},
                        metadata="file,role\na.txt,Account manager\ngone.txt,Analyst\n")
    project = Project(root)
    ingest(project, nlp=blank_nlp)
    html_path, md_path, docx_path = write_report(project, ("html", "md", "docx"))
    md = md_path.read_text()
    section = md[md.index("## Interviewees"):md.index("## Method")]
    assert "Warnings when the transcripts were read:" in section
    assert ("- notes.txt: no speaker labels found; read as one respondent's monologue"
            in section)
    assert "- metadata.csv, line 3: no transcript matches 'gone.txt'" in section
    assert str(root) not in section  # where the project sits on disk is not shown
    html = html_path.read_text()
    assert html.index("notes.txt: no speaker labels found") < html.index('id="method"')
    assert "notes.txt: no speaker labels found" in _docx_text(docx_path)


CHURN_CODES = """
name: t
version: "1"
codes:
  - id: churn
    name: Churn
    definition: Leaving.
    codes:
      - id: churn.price
        name: Price
        definition: Price as a reason.
      - id: churn.signals
        name: Signals
        definition: Warning signs.
      - id: churn.people
        name: People
        definition: A champion leaving.
"""


def test_a_sub_theme_says_which_sub_codes_code_most_of_it():
    from qualcx.analysis import Corpus
    from qualcx.codebook import parse_codebook
    from qualcx.report import _sub_codes
    codebook = parse_codebook(CHURN_CODES)
    segments = {i: {"interview_id": "I1", "text": "t"} for i in range(1, 9)}
    codes = {1: {"churn.price": 1}, 2: {"churn.price": 1}, 3: {"churn.price": 1},
             4: {"churn.signals": 1}, 5: {"churn.signals": 1}, 6: {"churn.people": 1},
             7: {"churn": 1}, 8: {"churn": 1}}
    corpus = Corpus([], segments, codes, [])
    theme = {"parent_code": "churn", "members": [(i, 0.5) for i in range(1, 9)]}
    # 3 and 2 of 8 reach a quarter; 1 of 8 does not
    assert _sub_codes(corpus, codebook, theme) == "Price (3 of 8), Signals (2 of 8)"
    assert _sub_codes(corpus, codebook, {"parent_code": None, "members": []}) == ""
    # a sub-code the label is named after is shown however few segments it codes
    named = dict(theme, label="Signals and people")
    assert _sub_codes(corpus, codebook, named) == \
        "Price (3 of 8), Signals (2 of 8), People (1 of 8)"
    # a pair is named most carried first, so either order of the codebook's
    reverse = dict(theme, label="People and signals: phone calls")
    assert _sub_codes(corpus, codebook, reverse) == \
        "Price (3 of 8), Signals (2 of 8), People (1 of 8)"


def test_a_sub_theme_named_where_two_codes_meet_shows_the_other_code_s_sub_codes():
    from qualcx.analysis import Corpus
    from qualcx.codebook import parse_codebook
    from qualcx.report import _carrying_named_child, _named_children, _sub_codes
    codebook = parse_codebook(CHURN_CODES + """\
  - id: service
    name: Service
    definition: Service.
    codes:
      - id: service.instrumental
        name: Instrumental performance (the software works)
        definition: Works.
      - id: service.expressive
        name: Expressive performance
        definition: Treatment.
""")
    label = "Mobile app: instrumental and expressive performance"
    assert _named_children(codebook, "churn", label) == \
        ["service.instrumental", "service.expressive"]
    assert _named_children(codebook, "churn", "Mobile app: expressive performance") == \
        ["service.expressive"]
    assert _named_children(codebook, "churn", "Mobile app") == []
    segments = {i: {"interview_id": "I1", "text": "t"} for i in range(1, 7)}
    codes = {1: {"churn.price": 1, "service.instrumental": 1},
             2: {"churn.price": 1, "service.expressive": 1},
             3: {"churn.price": 1}, 4: {"churn.signals": 1}, 5: {"churn": 1}, 6: {"churn": 1}}
    corpus = Corpus([], segments, codes, [])
    theme = {"parent_code": "churn", "label": label, "members": [(i, 0.5) for i in range(1, 7)]}
    assert _sub_codes(corpus, codebook, theme) == (
        "Price (3 of 6), Instrumental performance (the software works) (1 of 6), "
        "Expressive performance (1 of 6)")
    assert _carrying_named_child(corpus, codebook, theme) == {1, 2}


def test_a_sub_theme_says_which_sub_themes_of_other_codes_share_its_segments():
    from types import SimpleNamespace
    from qualcx.report import _overlaps

    def theme(key, parent, ids):
        return {"key": key, "label": key.title(), "parent_code": parent,
                "members": [(i, 1.0) for i in ids]}
    app = theme("cx-2", "cx", range(12))
    themes = [app, theme("cx-1", "cx", range(12)),  # same code: its themes never overlap
              theme("service-1", "service", range(7, 26)),
              theme("churn-1", "churn", range(10, 40)), theme("emergent-1", None, [50])]
    corpus = SimpleNamespace(themes=themes)
    assert _overlaps(corpus, app) == "Service-1 (5)"  # 5 of 12; churn-1 holds 2
    # most shared first, at most two (cx-1 shares 5 too)
    assert _overlaps(corpus, themes[2]) == "Churn-1 (16), Cx-2 (5)"
    assert _overlaps(corpus, themes[4]) == ""


def test_the_emergent_section_accounts_for_every_uncoded_segment():
    from types import SimpleNamespace
    from qualcx.report import uncoded_sentence
    long = "one two three four five six seven eight nine ten eleven twelve"
    segments = {i: {"text": "Yes." if i < 3 else long} for i in range(12)}
    codes = {10: {"cx": 1.0}, 11: {"cx": 1.0}}  # 10 uncoded: 3 short, 7 long
    themes = [{"parent_code": None, "members": [(3, 1.0), (4, 1.0), (5, 1.0)]},
              {"parent_code": "cx", "members": [(10, 1.0), (11, 1.0)]}]
    corpus = SimpleNamespace(segments=segments, codes_by_segment=codes, themes=themes)
    assert uncoded_sentence(corpus, {"segments": 2}) == (
        "Of the 10 segments no coder coded, 3 are shorter than 12 words and were not "
        "clustered, 2 were set aside as small talk, 3 are in the emergent theme below and 2 "
        "fit none of them.")
    assert uncoded_sentence(corpus, None).endswith("and 4 fit none of them.")
    # codes changed after the themes were found: the counts would not add up, so none is given
    assert uncoded_sentence(corpus, {"segments": 9}) == ""


def test_the_method_says_what_themes_need_and_how_quotes_are_cut(coded_project):
    from qualcx.report import themes_method
    md = write_report(coded_project)[1].read_text()  # no themes run yet
    assert "No themes were found" in md
    assert "when longer than 60 words; … marks talk of the same turn left out." in md
    found = themes_method({"min_theme_segments": 12, "seed": 42}, 16)
    assert "within each top-level code (with its sub-codes) holding at least 12 segments of 12 " \
        "words or more" in found
    assert "fewer than 3 interviewees or holding fewer than 5 segments" in found
    assert ": 16 themes." in found
    assert ": 16 themes (15 sub-themes and 1 emergent)." in themes_method(
        {"min_theme_segments": 12, "seed": 42}, 16, 1)


def test_a_code_summary_says_a_tie_as_one():
    from types import SimpleNamespace
    from qualcx.report import _summary
    segs = {1: "I1", 2: "I1", 3: "I2", 4: "I2", 5: "I3"}
    corpus = SimpleNamespace(
        segments={k: {"interview_id": v} for k, v in segs.items()},
        segments_for=lambda ids: list(segs), role=lambda i: f"Role {i}",
        order=lambda i: int(i[1:]))
    codebook = SimpleNamespace(descendants=lambda c: [c])

    def child(name, people, n):
        return {"code": SimpleNamespace(name=name), "interviewees": people, "segments": n}
    text = _summary(corpus, codebook, SimpleNamespace(id="cx"), 3, 5, ["I1", "I2", "I3"], 3,
                    [child("A", 2, 4), child("B", 2, 4), child("C", 2, 3), child("D", 0, 0)])
    assert text == ("It came up most often with Role I1 (I1) and Role I2 (I2), 2 segments each. "
                    "Of its sub-codes, “A” and “B” were the most widespread (2 of 3 interviewees "
                    "and 4 segments each); no one raised “D”.")
    text = _summary(corpus, codebook, SimpleNamespace(id="cx"), 3, 5, ["I1", "I2", "I3"], 3,
                    [child("A", 2, 4), child("C", 2, 3)])
    assert "“A” was the most widespread (2 of 3 interviewees)." in text


def test_the_theme_matrix_says_how_many_segments_two_themes_share():
    from types import SimpleNamespace
    from qualcx.report import theme_matrix_note
    themes = [{"members": [(1, 1.0), (2, 1.0), (3, 1.0)]}, {"members": [(3, 1.0), (4, 1.0)]}]
    assert theme_matrix_note(SimpleNamespace(themes=themes)) == (
        "Segments per theme and interview. A segment coded under two codes can be in a "
        "sub-theme of each: 1 segment is in two themes or more, so the themes hold 4 distinct segments, "
        "not the 5 their rows add up to.")
    assert theme_matrix_note(SimpleNamespace(themes=themes[:1])) == \
        "Segments per theme and interview."


def test_the_comparison_says_when_it_chose_its_column_itself(make_project, blank_nlp):
    from qualcx.report import build_context
    root = make_project({"a.txt": EVIL, "b.txt": EVIL, "c.txt": EVIL},
                        metadata="file,role,department\na.txt,AM,Sales\nb.txt,AE,Sales\n"
                                 "c.txt,Agent,Support\n")
    project = Project(root)
    ingest(project, nlp=blank_nlp)
    context = build_context(project)
    assert context["comparison"]["attribute"] == "department"
    assert context["compare_note"].startswith("The groups are by department, the first")
    project.settings["compare_by"] = "department"
    assert build_context(project)["compare_note"] == ""


def test_a_sub_theme_named_after_a_sub_code_quotes_segments_carrying_it_first():
    from qualcx.analysis import Corpus, theme_quotes
    from qualcx.codebook import parse_codebook
    from qualcx.report import _carrying_named_child
    codebook = parse_codebook(CHURN_CODES.replace("name: Price", "name: Price (what it costs)"))
    texts = ["The price went up and they left us for a cheaper tool last spring.",
             "Nobody called them for three weeks and then they were simply gone.",
             "It was the price, they told me so on the phone the very same day."]
    segments = {i + 1: {"interview_id": f"I{i + 1}", "text": t, "start": 0, "end": len(t)}
                for i, t in enumerate(texts)}
    codes = {1: {"churn.price": 1.0}, 2: {"churn.signals": 1.0}, 3: {"churn.price": 1.0}}
    corpus = Corpus([{"id": f"I{i}", "role": "r"} for i in (1, 2, 3)], segments, codes, [])
    theme = {"label": "Price: cheaper tool", "parent_code": "churn", "machine_label": "",
             "members": [(2, 0.9), (1, 0.8), (3, 0.7)]}
    prefer = _carrying_named_child(corpus, codebook, theme)
    assert prefer == {1, 3}  # the bracketed aside of the name is not part of the label
    assert [q.segment_id for q in theme_quotes(corpus, theme, 2, prefer)] == [1, 3]
    assert [q.segment_id for q in theme_quotes(corpus, theme, 3, prefer)] == [1, 3, 2]
    assert [q.segment_id for q in theme_quotes(corpus, theme, 2)][0] == 2  # the most central
    # two carriers from one interviewee: the other interviewee is quoted before a second
    same = {**segments, 3: dict(segments[3], interview_id="I1")}
    corpus2 = Corpus(corpus.interviews, same, codes, [])
    assert [q.interview for q in theme_quotes(corpus2, theme, 2, prefer)] == ["I1", "I2"]
    renamed = dict(theme, machine_label="Price: cheaper tool", label="Switching on price")
    assert _carrying_named_child(corpus, codebook, renamed) == set()
    assert _carrying_named_child(corpus, codebook, dict(theme, label="Cheaper tool")) == set()


def test_a_theme_says_which_guide_questions_its_segments_answer():
    from types import SimpleNamespace
    from qualcx.report import _questions
    guide = [SimpleNamespace(id="Q1", text="Why do they leave?"),
             SimpleNamespace(id="Q2", text="What keeps them?")]
    codebook = SimpleNamespace(guide=guide)
    asked = ["Q2", "Q2", "Q2", None, None, None, "Q1", "Q1"]
    corpus = SimpleNamespace(segments={i: {"question_id": q} for i, q in enumerate(asked)})
    theme = {"members": [(i, 1.0) for i in range(8)]}
    # a tie puts the guide's question first; 2 of 8 reach the quarter but a third is not shown
    assert _questions(corpus, codebook, theme) == \
        "question 2 “What keeps them?” (3 of 8), no guide question (3 of 8)"
    aside = {"members": [(3, 1.0), (4, 1.0)]}
    assert _questions(corpus, codebook, aside) == "no guide question (2 of 2)"
    assert _questions(corpus, SimpleNamespace(guide=[]), theme) == ""


def test_a_segment_quoted_once_is_not_quoted_again_when_others_can_be():
    from qualcx.analysis import Corpus
    from qualcx.report import _fresh_quotes
    texts = {i: f"Segment number {i} says something about the renewal and the price." for i in
             range(1, 6)}
    segments = {i: {"interview_id": f"I{i}", "text": t, "start": 0, "end": len(t)}
                for i, t in texts.items()}
    corpus = Corpus([{"id": f"I{i}", "role": "r"} for i in range(1, 6)], segments, {}, [])
    theme = {"label": "Renewal", "parent_code": None, "machine_label": "",
             "members": [(1, 0.9), (2, 0.8), (3, 0.7), (4, 0.6)]}
    quoted = {1, 2}
    got = [q.segment_id for q in _fresh_quotes(corpus, theme, 2, None, quoted)]
    assert got == [3, 4] and quoted == {1, 2, 3, 4}
    # fewer than two others: the theme is quoted as it stands
    few = dict(theme, members=[(1, 0.9), (2, 0.8), (3, 0.7)])
    assert [q.segment_id for q in _fresh_quotes(corpus, few, 2, None, {1, 2})] == [1, 2]


def test_a_theme_keyword_counts_the_answers_to_a_follow_up_naming_it(make_project, blank_nlp):
    from qualcx.analysis import load_corpus
    from qualcx.project import Project
    from qualcx.report import _theme_view
    from qualcx.transcribe import ingest
    talk = ("Interviewer: Were you working during the February outage?\n\n"
            "Rita: Yes, the whole day, and the phones never stopped ringing.\n\n"
            "Interviewer: And the status page?\n\n"
            "Rita: The status page was updated late, after the outage had started.\n")
    project = Project(make_project({"a.txt": talk}))
    ingest(project, nlp=blank_nlp)
    corpus = load_corpus(project.store)
    by_text = {s["text"][:8]: s for s in corpus.segments.values()}
    assert by_text["Yes, the"]["follow_up"] == "Were you working during the February outage?"
    assert by_text["The stat"]["follow_up"] == "And the status page?"
    theme = {"key": "service-1", "label": "Status page and outage", "parent_code": None,
             "keywords": ["status page", "outage", "phones"],
             "members": [(s, 0.9) for s in corpus.segments]}
    # "outage": said in one segment, asked about in the other, which does not say it
    assert _theme_view(corpus, theme, 2)["keyword_text"] == \
        "status page (1), outage (1 + 1 asked), phones (1)"
    # "February outage" took the place of "outage": a reader sees the count the label rests on
    theme = dict(theme, keywords=["February outage", "status page"],
                 keyword_words={"February outage": ["outage"]})
    assert _theme_view(corpus, theme, 2)["keyword_text"] == \
        "February outage (0 + 1 asked, 2 with “outage”), status page (1)"


def test_a_sub_theme_named_after_two_sub_codes_quotes_segments_carrying_either_first():
    from qualcx.analysis import Corpus
    from qualcx.codebook import parse_codebook
    from qualcx.report import _carrying_named_child
    codebook = parse_codebook(CHURN_CODES)
    segments = {i: {"interview_id": f"I{i}", "text": "t", "start": 0, "end": 1}
                for i in (1, 2, 3, 4)}
    codes = {1: {"churn.price": 1.0}, 2: {"churn.people": 1.0}, 3: {"churn.signals": 1.0},
             4: {"churn": 1.0}}
    corpus = Corpus([], segments, codes, [])
    theme = {"label": "Price and people", "parent_code": "churn", "machine_label": "",
             "members": [(i, 0.5) for i in (1, 2, 3, 4)]}
    assert _carrying_named_child(corpus, codebook, theme) == {1, 2}
    assert _carrying_named_child(corpus, codebook, dict(theme, label="Price and people: x")) \
        == {1, 2}
