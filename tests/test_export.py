"""Exports: the xlsx workbook carries the CSV contract's columns and the report's matrices."""

import csv
import io

from click.testing import CliRunner

from qualcx.cli import cli
from qualcx.export import (CODINGS_COLUMNS, THEMES_COLUMNS, THEMES_EXPORT_COLUMNS, export,
                           export_xlsx)


def test_xlsx_has_codings_themes_and_matrices(coded_project):
    from openpyxl import load_workbook
    path, sheets = export_xlsx(coded_project)
    assert path.name == "qualcx.xlsx"
    wb = load_workbook(path)
    assert wb.sheetnames == sheets
    assert sheets[:5] == ["codings", "themes", "code_x_interview", "theme_x_interview",
                          "cooccurrence"] and "saturation" in sheets
    rows = list(wb["codings"].values)
    assert list(rows[0]) == CODINGS_COLUMNS
    csv_path, n = export(coded_project)
    csv_rows = list(csv.DictReader(io.StringIO(csv_path.read_text())))
    assert len(rows) - 1 == n == len(csv_rows)
    # the same text, markup and all, as the CSV (no formula, nothing dropped)
    assert [r[CODINGS_COLUMNS.index("text")] for r in rows[1:]] == [r["text"] for r in csv_rows]
    assert list(next(wb["themes"].values)) == THEMES_EXPORT_COLUMNS
    assert THEMES_EXPORT_COLUMNS == [*THEMES_COLUMNS, "machine_label", "label_reason"]
    matrix = {r[0]: r for r in list(wb["code_x_interview"].values)[1:]}
    header = list(next(wb["code_x_interview"].values))
    assert header[:2] == ["code", "code_name"] and header[-2:] == ["segments", "interviewees"]
    assert matrix["churn"][header.index("a")] == 1 and matrix["churn"][-2] == 2


def test_xlsx_keeps_formula_like_text_as_text(coded_project):
    from openpyxl import load_workbook
    with coded_project.store.transaction() as db:
        db.execute("UPDATE segments SET text = '=1+1 said nobody' WHERE id = 1")
    path, _ = export_xlsx(coded_project)
    cell = load_workbook(path)["codings"]["G2"]
    assert cell.value == "=1+1 said nobody" and cell.data_type == "s"


def test_export_cli_xlsx(coded_project, tmp_path):
    out = tmp_path / "all.xlsx"
    result = CliRunner().invoke(cli, ["-p", str(coded_project.root), "export", "--format",
                                      "xlsx", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert out.exists() and "sheets (codings, themes" in result.output
