"""Agreement of the coder with the researchers' own codes on the SERDIF usability study.

Usage: .venv/bin/python benchmarks/serdif.py [--data ../shared/data/serdif-usability]

17 think-aloud sessions (ODT) coded by the study's researchers with a 22-code codebook.
The codebook is converted from its one-line descriptions alone (no examples taken from the
coded passages). The script builds a temporary project, ingests the transcripts, imports the
researchers' codes, codes the transcripts zero-shot and prints agreement (Cohen's kappa,
Krippendorff's alpha, F1) per code and overall; then again with the researchers' codes of
other interviews used as examples, cross-validated by interview folds, so no figure is ever
computed on a segment the coder learned from.

Units: a segment is one sentence of the participant's talk. A segment carries a code when a
researcher's highlight with that code covers most of it. Highlights on the moderator's own
lines (mostly "Moderator assist") cannot be matched to participant segments: they are
counted and reported, not scored.
"""

from __future__ import annotations

import argparse
import csv
import re
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from qualcx.code import cross_validate  # noqa: E402
from qualcx.project import Project  # noqa: E402

DEFAULT_DATA = ROOT.parent / "shared" / "data" / "serdif-usability"
TRANSCRIPTS = "data/transcripts/raw"
CODEBOOKS = "data/transcripts/thematic-analysis/codebooks"
TAGS = "data/transcripts/thematic-analysis/tags/csv/all_tags_20220303.csv"
TOML = 'segment_unit = "sentence"\ninterviewer_labels = ["Moderator"]\n'


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


def odt_paragraphs(path: Path) -> list[str]:
    from odf import teletype, text
    from odf.opendocument import load
    return [teletype.extractText(p) for p in load(str(path)).getElementsByType(text.P)]


def odt_as_transcript(path: Path) -> str:
    """A think-aloud ODT as a labelled transcript.

    Task prompts (numbered, not tab-indented) and 'MODERATOR:' lines are the moderator's;
    everything else is the participant thinking aloud, one paragraph per line.
    """
    lines, last = [], None
    for para in odt_paragraphs(path):
        body = " ".join(para.split())
        if not body:
            continue
        moderator = body.upper().startswith("MODERATOR:") or "\t" not in para
        body = re.sub(r"^MODERATOR:\s*", "", body, flags=re.I)
        speaker = "Moderator" if moderator else "Participant"
        if speaker != last:
            lines.append("")
            lines.append(f"{speaker}: {body}")
        else:
            lines.append(body)
        last = speaker
    return "\n".join(lines).strip() + "\n"


def build_project(data: Path, root: Path) -> Project:
    (root / "interviews").mkdir(parents=True)
    (root / "codebook").mkdir()
    (root / "reports").mkdir()
    (root / "codebook" / "codebook.yaml").write_text(codebook_yaml(latest_codebook(data)),
                                                     encoding="utf-8")
    (root / "qualcx.toml").write_text(TOML, encoding="utf-8")
    for odt in sorted((data / TRANSCRIPTS).glob("*.odt")):
        (root / "interviews" / f"{odt.stem}.txt").write_text(odt_as_transcript(odt),
                                                               encoding="utf-8")
    return Project(root)


def _norm(text: str) -> tuple[str, list[int]]:
    """Lower-cased text with whitespace runs collapsed, and each character's original offset."""
    out, where, space = [], [], False
    for i, ch in enumerate(text):
        if ch.isspace():
            if not space and out:
                out.append(" ")
                where.append(i)
            space = True
            continue
        space = False
        out.append(ch.lower())
        where.append(i)
    return "".join(out), where


def import_tags(project: Project, data: Path, coder: str = "researchers") -> dict:
    """Anchor each highlight to the participant segments it covers and store human codings.

    A segment gets the highlight's code when the highlight covers at least half of it.
    """
    store = project.store
    with (data / TAGS).open(encoding="utf-8", newline="") as fh:
        tags = list(csv.DictReader(fh))
    texts = {r["id"]: r["text"] for r in store.interviews()}
    norm = {k: _norm(v) for k, v in texts.items()}
    segs: dict[str, list] = {}
    for s in store.respondent_segments():
        segs.setdefault(s["interview_id"], []).append(s)
    rows, unanchored, moderator_only, cursor = [], [], 0, {}
    for tag in tags:
        iid = Path(tag["document"]).stem
        needle = " ".join(re.sub(r"^MODERATOR:\s*", "", tag["content"].strip(), flags=re.I)
                          .split()).lower()
        if iid not in norm or not needle:
            unanchored.append(tag["id"])
            continue
        hay, where = norm[iid]
        at = hay.find(needle, cursor.get(iid, 0))
        if at < 0:
            at = hay.find(needle)
        if at < 0:
            unanchored.append(tag["id"])
            continue
        cursor[iid] = at
        start, end = where[at], where[at + len(needle) - 1] + 1
        hit = False
        for s in segs.get(iid, []):
            overlap = min(end, s["end"]) - max(start, s["start"])
            if overlap > 0 and overlap >= 0.5 * (s["end"] - s["start"]):
                rows.append((s["id"], iid, s["start"], s["end"], s["text"],
                             slug(tag["tag"]), coder))
                hit = True
        moderator_only += not hit
    with store.transaction() as db:
        db.execute("DELETE FROM codings WHERE is_machine = 0 AND coder = ?", (coder,))
        db.executemany('INSERT INTO codings (segment_id, interview_id, start, "end", text, code, '
                       "coder, is_machine, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, 0, 'import')",
                       sorted(set(rows)))
    return {"highlights": len(tags), "unanchored": len(unanchored),
            "moderator_only": moderator_only, "codings": len(set(rows))}


# -- agreement ------------------------------------------------------------------------------
def label_matrix(project: Project, machine: bool, coder: str) -> tuple[list[int], list[str], np.ndarray]:
    seg_ids = [s["id"] for s in project.store.respondent_segments()]
    codes = list(project.codebook.codes)
    pos = {s: i for i, s in enumerate(seg_ids)}
    col = {c: j for j, c in enumerate(codes)}
    y = np.zeros((len(seg_ids), len(codes)), dtype=bool)
    for r in project.store.db.execute("SELECT segment_id, code FROM codings WHERE is_machine = ? "
                                      "AND coder = ?", (int(machine), coder)):
        if r["segment_id"] in pos and r["code"] in col:
            y[pos[r["segment_id"]], col[r["code"]]] = True
    return seg_ids, codes, y


def agreement(truth: np.ndarray, pred: np.ndarray, codes: list[str]) -> list[dict]:
    """Per code and overall (pooled over every segment x code decision)."""
    import krippendorff
    from sklearn.metrics import cohen_kappa_score, f1_score

    def one(name, a, b):
        a, b = a.astype(int).ravel(), b.astype(int).ravel()
        both = a.any() or b.any()
        kappa = cohen_kappa_score(a, b) if both and len(set(a) | set(b)) > 1 else float("nan")
        alpha = (krippendorff.alpha(reliability_data=np.vstack([a, b]),
                                    level_of_measurement="nominal")
                 if len(set(a) | set(b)) > 1 else float("nan"))
        return {"code": name, "human": int(a.sum()), "machine": int(b.sum()),
                "both": int((a & b).sum()), "kappa": kappa, "alpha": alpha,
                "f1": f1_score(a, b, zero_division=0)}
    rows = [one(c, truth[:, j], pred[:, j]) for j, c in enumerate(codes)]
    rows.append(one("ALL (pooled)", truth, pred))
    kappas = [r["kappa"] for r in rows[:-1] if not np.isnan(r["kappa"])]
    rows.append({"code": "mean over codes", "human": 0, "machine": 0, "both": 0,
                 "kappa": float(np.mean(kappas)), "alpha": float("nan"),
                 "f1": float(np.mean([r["f1"] for r in rows[:-1]]))})
    return rows


def print_table(title: str, rows: list[dict]):
    print(f"\n{title}")
    print(f"{'code':44} {'human':>6} {'machine':>7} {'both':>5} {'kappa':>6} {'alpha':>6} {'F1':>5}")
    for r in rows:
        print(f"{r['code'][:44]:44} {r['human']:6d} {r['machine']:7d} {r['both']:5d} "
              f"{r['kappa']:6.3f} {r['alpha']:6.3f} {r['f1']:5.3f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--keep", type=Path, default=None,
                        help="build the project in this folder instead of a temporary one")
    args = parser.parse_args()
    if not (args.data / TAGS).exists():
        sys.exit(f"{args.data}: not the SERDIF data folder (no {TAGS}); pass --data")
    from qualcx import pipeline
    with tempfile.TemporaryDirectory() as tmp:
        root = args.keep or Path(tmp) / "serdif"
        project = build_project(args.data, root)
        start = time.perf_counter()
        pipeline.ingest(project)
        imported = import_tags(project, args.data)
        n = project.store.db.execute("SELECT COUNT(*) FROM segments").fetchone()[0]
        print(f"ingested {n} participant segments in {time.perf_counter() - start:.1f} s; "
              f"highlights: {imported}")
        start = time.perf_counter()
        pipeline.code(project)
        print(f"coded in {time.perf_counter() - start:.1f} s")
        coder = project.settings["coder_name"]
        _, codes, truth = label_matrix(project, False, "researchers")
        _, _, zero = label_matrix(project, True, coder)
        print_table("Zero-shot (codebook descriptions only)", agreement(truth, zero, codes))
        cv = cross_validate(project, folds=args.folds, human_coder="researchers")
        print_table(f"Learning from the researchers' codes ({args.folds} folds by interview; "
                    "scored only on held-out interviews)", agreement(cv.truth, cv.learned, codes))
        print_table("Same folds, zero-shot (for comparison)", agreement(cv.truth, cv.zero_shot,
                                                                        codes))
        project.close()


if __name__ == "__main__":
    main()
