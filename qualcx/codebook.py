"""Read and validate a codebook YAML file.

Every problem is reported with the file, the line and what to fix.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from .errors import CodebookError

ID_RE = re.compile(r"^[A-Za-z0-9_.\-]+$")
TOP_KEYS = {"name", "version", "description", "research_questions", "guide", "codes"}
CODE_KEYS = {"id", "name", "definition", "include", "exclude", "keywords", "examples",
             "counter_examples", "color", "codes"}
RQ_KEYS = {"id", "text", "codes"}
GUIDE_KEYS = {"id", "text"}
PALETTE = ("#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1",
           "#ff9da7", "#9c755f", "#bab0ac")


@dataclass(frozen=True)
class Code:
    id: str
    name: str
    definition: str
    include: str = ""
    exclude: str = ""
    keywords: tuple[str, ...] = ()
    examples: tuple[str, ...] = ()
    counter_examples: tuple[str, ...] = ()
    color: str = ""
    parent: str | None = None
    children: tuple[str, ...] = ()


@dataclass(frozen=True)
class ResearchQuestion:
    id: str
    text: str
    codes: tuple[str, ...]


@dataclass(frozen=True)
class GuideQuestion:
    id: str
    text: str


@dataclass(frozen=True)
class Codebook:
    name: str
    version: str
    path: str
    description: str = ""
    codes: dict[str, Code] = field(default_factory=dict)
    research_questions: tuple[ResearchQuestion, ...] = ()
    guide: tuple[GuideQuestion, ...] = ()

    @property
    def top_level(self) -> list[Code]:
        return [c for c in self.codes.values() if c.parent is None]

    def descendants(self, code_id: str) -> list[str]:
        """The code's own id followed by all its descendants' ids."""
        out = [code_id]
        for child in self.codes[code_id].children:
            out.extend(self.descendants(child))
        return out

    def ancestors(self, code_id: str) -> list[str]:
        out = []
        parent = self.codes[code_id].parent
        while parent is not None:
            out.append(parent)
            parent = self.codes[parent].parent
        return out

    def root(self, code_id: str) -> str:
        chain = self.ancestors(code_id)
        return chain[-1] if chain else code_id


class _LineLoader(yaml.SafeLoader):
    """A safe loader that remembers the line of every mapping and of its keys."""


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> dict:
    mapping = yaml.SafeLoader.construct_mapping(loader, node, deep=True)
    mapping["__line__"] = node.start_mark.line + 1
    mapping["__keylines__"] = {k.value: k.start_mark.line + 1 for k, _ in node.value
                               if isinstance(k, yaml.ScalarNode)}
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _fail(path: Path, node: dict | None, message: str, key: str | None = None):
    line = None
    if isinstance(node, dict):
        line = node.get("__keylines__", {}).get(key) if key else None
        line = line or node.get("__line__")
    raise CodebookError(path, message, line)


def _text(path, node, key, required=False) -> str:
    value = node.get(key)
    if value is None:
        if required:
            _fail(path, node, f"missing required key '{key}'")
        return ""
    if not isinstance(value, (str, int, float)):
        _fail(path, node, f"'{key}' must be text", key)
    return str(value).strip()


def _texts(path, node, key) -> tuple[str, ...]:
    value = node.get(key)
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, (str, int, float)) for v in value):
        _fail(path, node, f"'{key}' must be a list of texts", key)
    return tuple(str(v).strip() for v in value if str(v).strip())


def _check_keys(path, node, allowed: set[str], what: str):
    if not isinstance(node, dict):
        raise CodebookError(path, f"each {what} must be a mapping of keys to values")
    for key in node:
        if key.startswith("__"):
            continue
        if key not in allowed:
            _fail(path, node, f"unknown key '{key}' in {what}; allowed keys: "
                  + ", ".join(sorted(allowed)), key)


def _read_codes(path, nodes, parent, out: dict, depth=0) -> list[str]:
    if not isinstance(nodes, list):
        raise CodebookError(path, "'codes' must be a list of codes")
    ids = []
    for node in nodes:
        _check_keys(path, node, CODE_KEYS, "code")
        code_id = _text(path, node, "id", required=True)
        if not ID_RE.match(code_id):
            _fail(path, node, f"code id '{code_id}' may contain only letters, digits, _ . -", "id")
        if code_id in out:
            _fail(path, node, f"duplicate code id '{code_id}'; every code id must be unique", "id")
        out[code_id] = None  # reserve the id before reading children
        children = _read_codes(path, node.get("codes") or [], code_id, out, depth + 1)
        color = _text(path, node, "color") or (PALETTE[len(ids) % len(PALETTE)] if depth == 0 else "")
        out[code_id] = Code(
            id=code_id, name=_text(path, node, "name", required=True),
            definition=_text(path, node, "definition", required=True),
            include=_text(path, node, "include"), exclude=_text(path, node, "exclude"),
            keywords=tuple(k.lower() for k in _texts(path, node, "keywords")),
            examples=_texts(path, node, "examples"),
            counter_examples=_texts(path, node, "counter_examples"),
            color=color, parent=parent, children=tuple(children))
        ids.append(code_id)
    return ids


def _read_list(path, data, key, allowed, what) -> list[dict]:
    nodes = data.get(key) or []
    if not isinstance(nodes, list):
        _fail(path, data, f"'{key}' must be a list", key)
    seen = set()
    for node in nodes:
        _check_keys(path, node, allowed, what)
        item_id = _text(path, node, "id", required=True)
        if item_id in seen:
            _fail(path, node, f"duplicate {what} id '{item_id}'", "id")
        seen.add(item_id)
        _text(path, node, "text", required=True)
    return nodes


def parse_codebook(text: str, path: Path | str = "<codebook>") -> Codebook:
    """Parse codebook YAML text. See :func:`load_codebook`."""
    path = Path(path)
    try:
        data = yaml.load(text, Loader=_LineLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = mark.line + 1 if mark else None
        raise CodebookError(path, f"YAML syntax error: {exc.problem}; check indentation and "
                            "quote texts that contain ':' or '#'", line) from exc
    except yaml.YAMLError as exc:
        raise CodebookError(path, f"YAML syntax error: {exc}") from exc
    if not isinstance(data, dict):
        raise CodebookError(path, "a codebook must be a mapping with name, version and codes")
    _check_keys(path, data, TOP_KEYS, "codebook")
    name = _text(path, data, "name", required=True)
    version = _text(path, data, "version", required=True)
    if not data.get("codes"):
        _fail(path, data, "the codebook needs a non-empty 'codes' list", "codes")
    codes: dict[str, Code] = {}
    _read_codes(path, data["codes"], None, codes)
    rqs = []
    for node in _read_list(path, data, "research_questions", RQ_KEYS, "research question"):
        linked = _texts(path, node, "codes")
        for code_id in linked:
            if code_id not in codes:
                _fail(path, node, f"research question '{node['id']}' names unknown code "
                      f"'{code_id}'; use one of the code ids defined under 'codes'", "codes")
        rqs.append(ResearchQuestion(str(node["id"]), _text(path, node, "text"), linked))
    guide = [GuideQuestion(str(n["id"]), _text(path, n, "text"))
             for n in _read_list(path, data, "guide", GUIDE_KEYS, "guide question")]
    return Codebook(name=name, version=version, path=str(path),
                    description=_text(path, data, "description"), codes=codes,
                    research_questions=tuple(rqs), guide=tuple(guide))


def load_codebook(path: Path) -> Codebook:
    """Read and validate a codebook file.

    Raises:
        CodebookError: with the file and line of the first problem found.
    """
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise CodebookError(path, f"cannot read the codebook ({exc})") from exc
    return parse_codebook(text, path)


def find_codebook(folder: Path) -> Path:
    """The project's codebook: the one YAML file in ``codebook/``.

    With several files, ``codebook/codebook.yaml`` (or ``.yml``) wins; otherwise it is an error.
    """
    files = sorted(p for p in Path(folder).glob("*.y*ml") if p.suffix in (".yaml", ".yml"))
    files = [p for p in files if not p.name.startswith(".")]
    if not files:
        raise CodebookError(folder, "no codebook found; put one codebook .yaml file in this folder")
    if len(files) == 1:
        return files[0]
    for name in ("codebook.yaml", "codebook.yml"):
        if (Path(folder) / name).exists():
            return Path(folder) / name
    names = ", ".join(p.name for p in files)
    raise CodebookError(folder, f"several codebooks found ({names}); keep one, or name the one "
                        "to use codebook.yaml")
