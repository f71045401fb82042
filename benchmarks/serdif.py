"""Agreement of the coder with the researchers' own codes on the SERDIF usability study.

Usage: .venv/bin/python benchmarks/serdif.py [--data ../shared/data/serdif-usability]

17 think-aloud sessions (ODT) coded by the study's researchers with a 22-code codebook.
The codebook is converted from its one-line descriptions alone (no examples taken from the
coded passages). The script builds a temporary project, ingests the transcripts, imports the
researchers' codes, codes the transcripts zero-shot and prints agreement (Cohen's kappa,
Krippendorff's alpha, F1) per code and overall; then again with the researchers' codes of
other interviews used as examples, cross-validated by interview folds, so no figure is ever
computed on a segment the coder learned from.

Units: a segment is one sentence of the participant's talk. The researchers' highlights are
anchored by ``qualcx import-codes`` (a highlight codes the segments it covers at least half
of, and the segment holding at least half of it). Highlights on the moderator's own lines
(mostly "Moderator assist") cannot be matched to participant segments: they are counted
and reported, not scored. The ODT files are ingested as they are: only the moderator is
labelled in them, and numbered task prompts are the moderator's (see the ingest docs).
"""

from __future__ import annotations

import argparse
import csv
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from qualcx.code import cross_validate  # noqa: E402
from qualcx.agree import agreement, table_figures  # noqa: E402
from qualcx.humancodes import import_codes  # noqa: E402
from qualcx.project import Project  # noqa: E402

DEFAULT_DATA = ROOT.parent / "shared" / "data" / "serdif-usability"
TRANSCRIPTS = "data/transcripts/raw"
CODEBOOKS = "data/transcripts/thematic-analysis/codebooks"
TAGS = "data/transcripts/thematic-analysis/tags/csv/all_tags_20220303.csv"
TOML = 'segment_unit = "sentence"\n'


# -- the study's files to a qualcx project -------------------------------------------------
def slug(tag: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", tag.lower()).strip("_")


def codebook_yaml(csv_path: Path) -> str:
    """The study's codebook (tag, description) as qualcx YAML: name and definition only."""
    import yaml
    with csv_path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    codes = [{"id": slug(r["tag"]), "name": r["tag"].strip(),
              "definition": " ".join(r["description"].split())} for r in rows]
    return yaml.safe_dump({"name": "SERDIF usability study", "version": csv_path.stem,
                           "codes": codes}, sort_keys=False, allow_unicode=True)


def latest_codebook(data: Path) -> Path:
    paths = sorted((data / CODEBOOKS).glob("codebook_*.csv"),
                   key=lambda p: int(p.stem.rsplit("_", 1)[1]))
    return paths[-1]


def build_project(data: Path, root: Path) -> Project:
    (root / "interviews").mkdir(parents=True)
    (root / "codebook").mkdir()
    (root / "reports").mkdir()
    (root / "codebook" / "codebook.yaml").write_text(codebook_yaml(latest_codebook(data)),
                                                     encoding="utf-8")
    (root / "qualcx.toml").write_text(TOML, encoding="utf-8")
    for odt in sorted((data / TRANSCRIPTS).glob("*.odt")):
        shutil.copyfile(odt, root / "interviews" / odt.name)
    return Project(root)


def open_project(data: Path, workdir: Path | None, prefix: str, prepare=None
                 ) -> tuple[Project, object, float | None]:
    """The SERDIF project in ``workdir`` when it was built there before; else built there
    (or in a temporary folder named with ``prefix``, returned to be cleaned up), with
    ``prepare(root)`` run on its files first, ingested and the researchers' codes
    imported. Returns (project, the temporary folder or None, seconds ingesting and
    importing, None when reopened)."""
    from qualcx import pipeline
    tmp = None
    root = workdir
    if root is None:
        tmp = tempfile.TemporaryDirectory(prefix=prefix)
        root = Path(tmp.name) / "serdif"
    if (root / ".qualcx" / "project.db").exists():
        return Project(root), tmp, None
    build_project(data, root)
    if prepare is not None:
        prepare(root)
    project = Project(root)
    start = time.perf_counter()
    pipeline.ingest(project)
    import_researchers(project, data)
    return project, tmp, time.perf_counter() - start


# -- agreement ------------------------------------------------------------------------------
CODER = "researchers"


def import_researchers(project: Project, data: Path) -> dict:
    """The researchers' highlights as human codes, through ``qualcx import-codes``."""
    result = import_codes(project, data / TAGS, coder=CODER)
    reasons: dict[str, int] = {}
    for _, _, _, reason in result.unanchored:
        reasons[reason] = reasons.get(reason, 0) + 1
    return {"highlights": result.passages + len(result.unanchored), "anchored": result.passages,
            "codings": result.imported, "not anchored": reasons}


def figures(truth: np.ndarray, pred: np.ndarray, codes: list[str]) -> tuple[list, object, float]:
    """Per-code and pooled figures of the machine (B) against the researchers (A)."""
    rows = []
    for j, code in enumerate(codes):
        a, b = truth[:, j], pred[:, j]
        rows.append(table_figures(code, int((a & b).sum()), int((a & ~b).sum()),
                                  int((~a & b).sum()), int((~a & ~b).sum())))
    a, b = truth.ravel(), pred.ravel()
    overall = table_figures("(overall)", int((a & b).sum()), int((a & ~b).sum()),
                            int((~a & b).sum()), int((~a & ~b).sum()))
    kappas = [r.kappa for r in rows if r.kappa is not None]
    return rows, overall, float(np.mean(kappas)) if kappas else float("nan")


def _fmt(x) -> str:
    return "   n/a" if x is None or (isinstance(x, float) and np.isnan(x)) else f"{x:6.3f}"


def print_table(title: str, result: tuple, names: dict[str, str]):
    rows, overall, mean_kappa = result
    print(f"\n{title}")
    print(f"{'code':44} {'human':>6} {'machine':>7} {'both':>5} {'kappa':>6} {'alpha':>6} "
          f"{'F1':>6}")
    for r in [*rows, overall]:
        name = names.get(r.code, r.code)
        print(f"{name[:44]:44} {r.both + r.only_a:6d} {r.both + r.only_b:7d} {r.both:5d} "
              f"{_fmt(r.kappa)} {_fmt(r.alpha)} {_fmt(r.f1)}")
    print(f"{'mean of per-code kappas':44} {'':6} {'':7} {'':5} {_fmt(mean_kappa)}")


def write_markdown(path: Path, names: dict, every, cv_zero, cv_learned):
    """Rows: code, human segments, zero-shot kappa (all segments), learned kappa, learned F1."""
    lines = []
    for a, c in zip([*every[0], every[1]], [*cv_learned[0], cv_learned[1]]):
        lines.append(f"| {names.get(a.code, a.code)} | {a.both + a.only_a} | "
                     f"{_fmt(a.kappa).strip()} | {_fmt(c.kappa).strip()} | "
                     f"{_fmt(c.f1).strip()} |")
    lines.append(f"| mean of per-code kappas | | {_fmt(every[2]).strip()} | "
                 f"{_fmt(cv_learned[2]).strip()} | |")
    lines.append(f"\nCV zero-shot overall kappa {_fmt(cv_zero[1].kappa).strip()}, alpha "
                 f"{_fmt(cv_zero[1].alpha).strip()}, F1 {_fmt(cv_zero[1].f1).strip()}; learned "
                 f"alpha {_fmt(cv_learned[1].alpha).strip()}; zero-shot (all) alpha "
                 f"{_fmt(every[1].alpha).strip()}, F1 {_fmt(every[1].f1).strip()}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--markdown", type=Path, default=None,
                        help="also write the per-code table as Markdown rows to this file")
    parser.add_argument("--keep", type=Path, default=None,
                        help="build the project in this (new) folder instead of a temporary one")
    args = parser.parse_args()
    if not (args.data / TAGS).exists():
        sys.exit(f"{args.data}: not the SERDIF data folder (no {TAGS}); pass --data")
    from qualcx import pipeline
    with tempfile.TemporaryDirectory() as tmp:
        root = args.keep or Path(tmp) / "serdif"
        project = build_project(args.data, root)
        start = time.perf_counter()
        pipeline.ingest(project)
        n = project.store.db.execute("SELECT COUNT(*) FROM segments").fetchone()[0]
        print(f"ingested {n} participant segments in {time.perf_counter() - start:.1f} s")
        print(f"researchers' highlights: {import_researchers(project, args.data)}")
        start = time.perf_counter()
        project.settings["learn_from_humans"] = False  # zero-shot: the codebook alone
        pipeline.code(project)
        print(f"coded zero-shot in {time.perf_counter() - start:.1f} s")
        codes = list(project.codebook.codes)
        names = {c.id: c.name for c in project.codebook.codes.values()}
        seg_ids = [s["id"] for s in project.store.respondent_segments()]
        # the figures 'qualcx agree researchers qualcx' prints
        found = agreement(project.store, CODER, project.settings["coder_name"],
                          project.codebook, level="segment")
        every = (list(found.codes), found.overall, found.mean_kappa)
        by_interview = agreement(project.store, CODER, project.settings["coder_name"],
                                 project.codebook, level="interview")
        print(f"interview level (did this interview touch this code): kappa "
              f"{_fmt(by_interview.overall.kappa)}")
        print_table(f"Zero-shot, every participant segment ({len(seg_ids)})", every, names)
        project.settings["learn_from_humans"] = True
        cv = cross_validate(project, folds=args.folds, human_coder=CODER)
        title = (f"on the {len(cv.segment_ids)} segments of the interviews the researchers "
                 "coded (uncoded ones count as 'no code'), "
                 f"{args.folds} folds by interview")
        cv_zero = figures(cv.truth, cv.zero_shot, codes)
        cv_learned = figures(cv.truth, cv.learned, codes)
        print_table(f"Zero-shot, {title}", cv_zero, names)
        print_table(f"Learning from the researchers' codes of the other folds, {title}",
                    cv_learned, names)
        if args.markdown:
            write_markdown(args.markdown, names, every, cv_zero, cv_learned)
        project.close()


if __name__ == "__main__":
    main()
