"""Sub-theme names on human-coded data with a two-level codebook: the SERDIF study's codes
grouped into parent codes.

Usage: .venv/bin/python benchmarks/subthemes.py [--data ../shared/data/serdif-usability]
                                                [--workdir DIR]

The study's 22 codes are flat. This script groups 15 of them under 7 parent codes by the
part of the tool they are about (query, visualization, metadata, export, search, navigation
and task flow, comprehension; the grouping is ours, not the study's researchers'), keeps the
other 7 top-level, ingests the 17 think-aloud sessions, imports the researchers' highlights
as human codes, codes the sessions and finds themes. It prints every sub-theme of a parent
code with its label and how the label was made:

- one sub-code: named after the sub-code its segments carry (and people applied most);
- two sub-codes: named after the two it is about;
- phrase: named by its own phrases, no sub-code passing the test;

and, for every sub-theme named after sub-codes, to how many of its segments the researchers
applied the sub-code (for two, the less applied one), of those they coded. Then the time each stage took. The sub-code
rules are otherwise only exercised on the demo project; this is real talk and real codes.
``--workdir`` keeps the project (and its embedding cache) between runs.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from serdif import DEFAULT_DATA, open_project  # noqa: E402

PARENTS = [
    ("query", "Query", "Building and running a query for data about events: its inputs, "
     "options and the process.",
     ["query_inputs_and_elements_useful", "query_process_complex", "query_process_clear"]),
    ("visualization", "Visualization", "The plots of the queried data (heat map, box plot, "
     "polar plot) and how they are designed.", ["visualization_useful", "plot_design_complex"]),
    ("metadata", "Metadata", "The metadata shown about the data and its provenance, and "
     "whether it is clear and useful.",
     ["metadata_content_clear_and_useful", "metadata_content_not_useful_or_confusing"]),
    ("export", "Export", "Exporting the data and metadata for later analysis.",
     ["simple_export", "export_meta_data_useful"]),
    ("search", "Search", "Searching for elements in the metadata and other information.",
     ["search_feature_simple", "search_information_process_complex"]),
    ("navigation", "Navigation and task flow", "Moving through the tool, its tabs and the "
     "sequence of the tasks.",
     ["navigation_complex", "task_sequence_complex", "home_tab_elements_useful"]),
    ("comprehension", "Comprehension", "Understanding the wording, concepts and explanations "
     "in the tool.",
     ["wording_not_clear", "additional_explanation", "event_concept_and_approach_not_clear"]),
]


def group_codebook(path: Path) -> None:
    """Rewrite the flat codebook at ``path`` with :data:`PARENTS` above their codes."""
    import yaml
    book = yaml.safe_load(path.read_text(encoding="utf-8"))
    flat = {c["id"]: c for c in book["codes"]}
    grouped = [{"id": pid, "name": name, "definition": definition,
                "codes": [flat[k] for k in kids]} for pid, name, definition, kids in PARENTS]
    used = {k for *_, kids in PARENTS for k in kids}
    book["codes"] = grouped + [c for c in book["codes"] if c["id"] not in used]
    path.write_text(yaml.safe_dump(book, sort_keys=False, allow_unicode=True), encoding="utf-8")


def kind(theme, codebook) -> tuple[str, set[str], str]:
    """How a sub-theme's label was made, the sub-codes it names and the code they belong to
    (another code's, where the two meet)."""
    from qualcx.report import _named_children
    named = _named_children(codebook, theme.parent_code, theme.label)
    owner = codebook.codes[named[0]].parent if named else theme.parent_code
    if owner != theme.parent_code:
        return "codes meet", set(named), owner
    return {1: "one sub-code", 2: "two sub-codes"}.get(len(named), "phrase"), set(named), owner


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args()
    os.environ["HF_HUB_OFFLINE"] = "1"
    from qualcx import pipeline
    from qualcx.themes import SECOND_PHRASE_SEGMENTS, child_counts, people_codes

    project, tmp, took = open_project(
        args.data, args.workdir, "qualcx-subthemes-",
        lambda root: group_codebook(root / "codebook" / "codebook.yaml"))
    timings = {} if took is None else {"ingest and import": took}
    start = time.perf_counter()
    pipeline.code(project)
    timings["code"] = time.perf_counter() - start
    start = time.perf_counter()
    found = pipeline.themes(project)
    timings["themes"] = time.perf_counter() - start

    store = project.store
    codebook = project.codebook
    segments = store.respondent_segments()
    people = [codes or set() for codes in people_codes(store, segments)]
    codes_of: dict[int, set[str]] = {}  # any coder's
    for row in store.codings():
        codes_of.setdefault(row["segment_id"], set()).add(row["code"])
    kinds: Counter = Counter()
    agreed = named = 0
    print(f"\n{'theme':18} {'n':>4}  {'made from':13}  {'people':>7}  label")
    for theme in found.themes:
        if theme.parent_code not in {p for p, *_ in PARENTS}:
            continue
        how, codes, owner = kind(theme, codebook)
        kinds[how] += 1
        theirs = [people[m] for m in theme.members]
        if owner != theme.parent_code:  # of the segments the other code carries, where met
            wanted = set(codebook.descendants(owner))
            theirs = [s for m, s in zip(theme.members, theirs)
                      if wanted & codes_of.get(segments[m]["id"], set())]
        applied = {c: n for n, c in child_counts(theirs, codebook, owner)}
        given = sum(1 for s in theirs if s)
        least = min((applied.get(c, 0) for c in codes), default=0)
        hit = f"{least}/{given}" if codes else "-"
        if codes:
            named += 1
            agreed += least >= SECOND_PHRASE_SEGMENTS * given
        print(f"{theme.key:18} {len(theme.members):4d}  {how:13}  {hit:>7}  {theme.label}")
    total = sum(kinds.values())
    print(f"\n{total} sub-themes of {len(PARENTS)} parent codes: "
          + ", ".join(f"{kinds[k]} {k}" for k in ("one sub-code", "two sub-codes", "phrase",
                                                   "codes meet") if k != "codes meet" or kinds[k])
          + f"; of the {named} named after sub-codes, {agreed} name sub-codes the researchers "
          f"applied to at least {SECOND_PHRASE_SEGMENTS:.0%} of the segments they coded")
    print("; ".join(f"{stage} {seconds:.1f} s" for stage, seconds in timings.items()))
    if tmp is not None:
        tmp.cleanup()


if __name__ == "__main__":
    main()
