"""New projects and chapters from the built-in templates (``templates/new/``).

The built-in templates live in the repository's ``templates/`` folder, next to
the ``pipeline`` package; a paper project's own ``templates/new/`` overrides
the ones `paper new` uses, file by file.

`paper new` writes a chapter whose every piece of guidance is a ``[[TODO: ...]]``
placeholder, so `paper check` at once lists what is left to write and nothing
else. When it has to register a peer or extend ``contents:``, it edits
paper.yml as text, guided by the positions PyYAML's node tree gives: a
round trip through a YAML library would lose the editors' comments and order,
and paper.yml is the one file every editor reads.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import jinja2
import jinja2.sandbox
import yaml

from pipeline import BUILTIN_TEMPLATES

# --- paper init -------------------------------------------------------------------------------


def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(BUILTIN_TEMPLATES / "new")),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,
        # Markdown labels look like Jinja comments ({#fig:x}); give comments another spelling
        comment_start_string="{##",
        comment_end_string="##}",
    )


def init_project(target: Path, title: str = "Untitled paper") -> list[Path]:
    """Write a paper project that checks clean; returns the files created."""
    env = _environment()
    files = {
        "paper.yml": env.get_template("paper.yml.j2").render(title=title),
        "chapters/01-introduction.md": env.get_template("chapter.md.j2").render(),
        "references.bib": env.get_template("references.bib.j2").render(),
        ".gitignore": "build/\n.cache/\n.venv/\n",
    }
    created = []
    for rel, text in files.items():
        path = target / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists():
            continue
        path.write_text(text, encoding="utf-8")
        created.append(path)
    for folder in ("case_studies", "figures"):
        (target / folder).mkdir(parents=True, exist_ok=True)
        keep = target / folder / ".gitkeep"
        if not keep.exists():
            keep.write_text("", encoding="utf-8")
    return created


# --- paper new: names and values --------------------------------------------------------------

# The pattern paper.yml already demands of peer ids (pipeline.project), also used for chapter
# file names: it is safe on every file system and in a URL, and needs no quoting in YAML.
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]*$")
SLUG_MAX = 80  # a file name, an edition id and a folder in build/ are made from it
URL = re.compile(r"^https?://[^\s/]+\.[^\s]+$")  # what pipeline.project accepts for a peer's url
TEMPLATES = {"case-study": "case_study.md.j2", "chapter": "new_chapter.md.j2"}
FOLDERS = {"case-study": "case_studies", "chapter": "chapters"}
# Characters YAML refuses in a file even inside quotes, or reads as a line break.
_UNSAFE_IN_YAML = re.compile("[\u007f-\u009f\u2028\u2029\ufeff\ud800-\udfff\ufffe\uffff]")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def bad_slug(slug: str) -> str | None:
    """Why ``slug`` cannot name a chapter file or a peer, or None when it can."""
    if not SLUG.match(slug):
        return ("use lower-case letters, digits and '-' only, starting with a letter or digit "
                "(for example 'acme' or 'acme-foundation')")
    if len(slug) > SLUG_MAX:
        return f"keep it to {SLUG_MAX} characters"
    return None


def yaml_str(value: str) -> str:
    """``value`` as a YAML double-quoted scalar, whatever it holds (': ', '#', quotes, accents).

    A JSON string is a valid YAML double-quoted scalar; the few characters JSON leaves raw but
    YAML refuses or reads as line breaks are escaped as well.
    """
    quoted = json.dumps(value, ensure_ascii=False)
    return _UNSAFE_IN_YAML.sub(lambda m: f"\\u{ord(m.group()):04x}", quoted)


def yaml_scalar(value: str) -> str:
    """``value`` plain when YAML reads it back unchanged as text (as editors write), else quoted."""
    plain_ok = (
        value == value.strip() and value
        and not _CONTROL.search(value)
        and value[0] not in "-?:,[]{}#&*!|>'\"%@`"
        and ": " not in value and " #" not in value and not value.endswith(":")
    )
    if plain_ok:
        try:
            if yaml.safe_load(f"x: {value}\n") == {"x": value}:
                return value
        except yaml.YAMLError:
            pass
    return yaml_str(value)


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]@<>$^~{}|&])")


def markdown_text(value: str) -> str:
    """A plain name as Markdown that prints it unchanged: front matter is read as Markdown, where
    '@x' would be a citation, '\\word' raw TeX and '<b>' raw HTML."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", value)


def title_from_slug(slug: str) -> str:
    """'03-cross-case-synthesis' -> 'Cross case synthesis': a start the author will rename."""
    words = re.sub(r"^[0-9]+-", "", slug).replace("-", " ").strip() or slug
    return words[0].upper() + words[1:]


# --- paper new: templates ---------------------------------------------------------------------


def template_source(root: Path, name: str) -> str:
    """A project's templates/new/<name> if it has one inside the project, else the built-in one."""
    local = root / "templates" / "new" / name
    if local.is_file() and local.resolve().is_relative_to(root.resolve()):
        return local.read_text(encoding="utf-8")
    return (BUILTIN_TEMPLATES / "new" / name).read_text(encoding="utf-8")


def render(source: str, **values: object) -> str:
    """Render a chapter template; sandboxed, because a project may bring its own."""
    env = jinja2.sandbox.SandboxedEnvironment(
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,
        comment_start_string="{##",  # Markdown labels such as {#fig:x} are not Jinja comments
        comment_end_string="##}",
    )
    env.filters["yaml_str"] = yaml_str
    text = env.from_string(source).render(**values)
    return text.lstrip("\n")


def section_keys(headings: Sequence[str]) -> list[dict[str, str]]:
    """Each required heading with the key the template matches its guidance by."""
    from pipeline.rules.structure import normalise

    return [{"heading": h, "key": normalise(h)} for h in headings]


def default_case_study_sections() -> tuple[str, ...]:
    """The sections a fresh `paper init` project asks for: paper.yml may list none."""
    text = (BUILTIN_TEMPLATES / "new" / "paper.yml.j2").read_text(encoding="utf-8")
    try:
        data = yaml.safe_load(text.replace("{{ title }}", "x"))
        sections = data["rules"]["case_study_sections"]
        return tuple(str(s) for s in sections)
    except (yaml.YAMLError, KeyError, TypeError):
        return ()


# --- paper new: editing paper.yml as text -----------------------------------------------------


class EditError(Exception):
    """paper.yml has a shape the text edit cannot follow; the user is told to edit by hand."""


@dataclass(frozen=True)
class Entry:
    """One item to add to a list in paper.yml, in both YAML styles."""

    block: tuple[str, ...]  # 'id: acme', 'name: Acme' (a mapping) or one scalar line
    flow: str  # '{id: acme, name: Acme}' or '"chapters/x.md"'


def peer_entry(peer_id: str, name: str, country: str | None, url: str | None) -> Entry:
    fields = [("id", peer_id), ("name", name), ("country", country), ("url", url)]
    pairs = [(k, yaml_scalar(v)) for k, v in fields if v]
    return Entry(tuple(f"{k}: {v}" for k, v in pairs),
                 "{" + ", ".join(f"{k}: {yaml_str(v)}" for k, v in fields if v) + "}")


def path_entry(rel: str) -> Entry:
    return Entry((yaml_scalar(rel),), yaml_str(rel))


def _leaf_end(node: yaml.Node) -> int:
    """Where a list item's text ends: its last scalar or flow collection, not the trailing comments
    that PyYAML counts into a block collection."""
    if isinstance(node, yaml.ScalarNode) or getattr(node, "flow_style", False):
        return node.end_mark.index
    children: list[yaml.Node] = []
    if isinstance(node, yaml.SequenceNode):
        children = list(node.value)
    elif isinstance(node, yaml.MappingNode):
        children = [n for pair in node.value for n in pair]
    return max((_leaf_end(c) for c in children), default=node.end_mark.index)


def _line_after(text: str, index: int) -> int:
    """The start of the line after the one holding ``index`` (or ``index`` if it starts a line)."""
    if index == 0 or text[index - 1] == "\n":
        return index
    newline = text.find("\n", index)
    return len(text) if newline < 0 else newline + 1


def _block(entry: Entry, dash_col: int, inner_col: int, nl: str) -> str:
    inner_col = max(inner_col, dash_col + 2)
    first, *rest = entry.block
    lines = [" " * dash_col + "-" + " " * (inner_col - dash_col - 1) + first]
    lines += [" " * inner_col + line for line in rest]
    return nl.join(lines) + nl


def _insert_lines(text: str, at: int, lines: str, nl: str) -> str:
    if at == len(text) and text and not text.endswith("\n"):
        return text + nl + lines
    return text[:at] + lines + text[at:]


def add_to_list(text: str, key: str, entry: Entry, after: Callable[[yaml.Node], bool] | None = None) -> str:
    """``text`` (a YAML mapping) with ``entry`` added to its top-level list ``key``.

    The entry goes after the last item ``after`` accepts (default: the last item), in the style
    the list is written in; everything else, comments included, stays byte for byte. A missing
    or empty key becomes a block list.
    """
    nl = "\r\n" if "\r\n" in text else "\n"
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as err:
        raise EditError(f"paper.yml cannot be read: {err}") from None
    if not isinstance(root, yaml.MappingNode):
        raise EditError("paper.yml is not a mapping of fields")
    found = [(k, v) for k, v in root.value if isinstance(k, yaml.ScalarNode) and k.value == key]
    if not found:
        tail = "" if not text or text.endswith("\n") else nl
        return text + tail + f"{key}:" + nl + _block(entry, 2, 4, nl)
    key_node, value = found[-1]
    empty_scalar = isinstance(value, yaml.ScalarNode) and value.tag == "tag:yaml.org,2002:null"
    empty_flow = isinstance(value, yaml.SequenceNode) and value.flow_style and not value.value
    if empty_scalar or empty_flow:
        start, end = value.start_mark.index, value.end_mark.index
        if text[start:end].strip():  # '[]', '~' or 'null' written out: remove it, keep any comment
            while start > key_node.end_mark.index and text[start - 1] in " \t":
                start -= 1
            text = text[:start] + text[end:]
        at = _line_after(text, key_node.end_mark.index)
        col = key_node.start_mark.column + 2
        return _insert_lines(text, at, _block(entry, col, col + 2, nl), nl)
    if not isinstance(value, yaml.SequenceNode):
        raise EditError(f"'{key}' in paper.yml is not a list")
    chosen = [i for i, item in enumerate(value.value) if after is None or after(item)]
    item = value.value[chosen[-1] if chosen else -1]
    if value.flow_style:
        at = item.end_mark.index
        return text[:at] + ", " + entry.flow + text[at:]
    at = _line_after(text, _leaf_end(item))
    return _insert_lines(text, at, _block(entry, value.start_mark.column, item.start_mark.column, nl), nl)


def expected_after(old: dict, peer: dict | None, rel: str | None, folder: str) -> dict:
    """What paper.yml must read as after the edit: the old values plus the new peer and file."""
    new = copy.deepcopy(old)
    if peer is not None:
        new["peers"] = list(new.get("peers") or []) + [peer]
    if rel is not None:
        contents = list(new.get("contents") or [])
        same = [i for i, p in enumerate(contents) if isinstance(p, str) and p.startswith(folder + "/")]
        contents.insert((same[-1] + 1) if same else len(contents), rel)
        new["contents"] = contents
    return new


def edit_paper_yml(text: str, peer: dict | None, rel: str | None, folder: str) -> str:
    """paper.yml's text with the peer and the contents line added; verified by reading it back.

    The read-back is the safety net of editing YAML as text: if the result does not mean exactly
    the old file plus the two additions, nothing is written.
    """
    from pipeline.sources.yamlnodes import YamlError, parse_yaml

    bom = "\ufeff" if text.startswith("\ufeff") else ""
    body = text[len(bom):]
    new = body
    if peer is not None:
        new = add_to_list(new, "peers", peer_entry(peer["id"], peer["name"], peer.get("country"), peer.get("url")))
    if rel is not None:
        def in_folder(node: yaml.Node) -> bool:  # a new case study joins the others, not the end
            return isinstance(node, yaml.ScalarNode) and str(node.value).startswith(folder + "/")

        new = add_to_list(new, "contents", path_entry(rel), in_folder)
    try:
        old_value = parse_yaml(body.replace("\r\n", "\n")).value
        new_value = parse_yaml(new.replace("\r\n", "\n")).value
    except YamlError as err:
        raise EditError(f"the edited paper.yml would not read back ({err.message})") from None
    if not isinstance(old_value, dict) or new_value != expected_after(old_value, peer, rel, folder):
        raise EditError("the edited paper.yml would not read back as intended")
    return bom + new


# --- paper new: the command -------------------------------------------------------------------


def _fail(message: str, code: int) -> int:
    print(f"paper: {message}", file=sys.stderr)
    return code


def _shown(path: Path) -> str:
    """A path as the user can type it: relative below the current folder, else absolute."""
    absolute, here = path.resolve(), Path.cwd().resolve()
    return os.path.relpath(absolute, here) if absolute.is_relative_to(here) else str(absolute)


def unknown_peer_message(peer_id: str, known: Sequence[str]) -> str:
    """What to do about a peer paper.yml does not list: add it with --name, or fix a typo."""
    from pipeline.rules.context import suggest

    best = suggest(peer_id, known, 0.6) if known else None
    hint = f"; did you mean '{best}'?" if best else "."
    listed = f"Known peers: {', '.join(known)}." if known else "paper.yml lists no peers yet."
    return (f"'{peer_id}' is not a peer in paper.yml{hint} To add it, give its full name: "
            f"paper new case-study {peer_id} --name \"Full name\" [--country COUNTRY] [--url https://...]. "
            f"{listed}")


def _new_peer_values(args: argparse.Namespace) -> dict | str:
    """The peer to add from --name, --country, --url, or why they cannot go into paper.yml."""
    values = {"id": args.slug}
    for field in ("name", "country", "url"):
        value = getattr(args, field, None)
        if value is None:
            continue
        value = value.strip()
        if not value:
            return f"--{field} is empty"
        if _CONTROL.search(value):
            return f"--{field} holds a line break or another control character"
        values[field] = value
    if "url" in values and not URL.match(values["url"]):
        return f"--url must be a web address starting with https://, not '{values['url']}'"
    return values


def _existing_case_study(root: Path, peer_id: str, langs: tuple[str, ...] = ()) -> str | None:
    """Another file in case_studies/ already written for this peer (FM011 allows one; translations aside)."""
    from pipeline.sources.chapters import parse_chapter
    from pipeline.sources.translations import split_name

    folder = root / "case_studies"
    if not folder.is_dir():
        return None
    for path in sorted(folder.glob("*.md")):
        if split_name(f"case_studies/{path.name}", langs) is not None:
            continue
        try:
            if path.stat().st_size > 1024 * 1024:
                continue
            chapter = parse_chapter(f"case_studies/{path.name}", "case-study", path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError):
            continue
        if chapter.meta.get("peer") == peer_id:
            return chapter.path
    return None


def _word_note(project, rel: str, kind: str, text: str) -> str | None:
    """A scaffold cannot promise rules.chapter_words; say so rather than surprise the author."""
    from pipeline.sources.chapters import parse_chapter

    words = parse_chapter(rel, kind, text).scan.words
    rules = project.rules
    if rules.chapter_words_min is not None and words < rules.chapter_words_min:
        return (f"note: paper.yml asks for at least {rules.chapter_words_min} words per chapter; the guidance "
                f"counts {words}, so the check reports STR002 until you have written more")
    if rules.chapter_words_max is not None and words > rules.chapter_words_max:
        return (f"note: paper.yml allows at most {rules.chapter_words_max} words per chapter; the guidance "
                f"counts {words}, so the check reports STR002 until you have replaced it")
    return None


def _command_prefix(root: Path) -> str:
    from pipeline.project import find_root

    here = find_root(Path.cwd())
    return "paper" if here is not None and here.resolve() == root.resolve() else f"paper -C {_shown(root)}"


def next_edition(project, kind: str, slug: str) -> str:
    """The edition to build next: the peer's offprint, else the whole paper ('' for all editions)."""
    if project.editions is None:
        return f"case-study-{slug}" if kind == "case-study" else "paper"
    for edition in project.editions:
        if kind == "case-study" and edition.kind == "offprint" and edition.peer == slug:
            return edition.id
    return next((e.id for e in project.editions if e.kind == "paper"), "")


def _write(path: Path, text: str) -> None:
    """Atomically, keeping an existing file's permissions (write_atomic sets 0644)."""
    from pipeline.render.files import write_atomic

    mode = path.stat().st_mode & 0o7777 if path.exists() else None
    write_atomic(path, text.encode("utf-8"))
    if mode is not None and mode != 0o644:
        os.chmod(path, mode)


_PEER_OPTIONS = ("name", "country", "url")


@dataclass
class Plan:
    """What `paper new` is about to do, worked out before anything is written."""

    kind: str
    rel: str  # the new file, relative to the project
    values: dict  # for the template
    new_peer: dict | None = None  # to add under peers: in paper.yml
    notes: list[str] | None = None


def _case_study_plan(args: argparse.Namespace, project, rel: str) -> Plan | int:
    """The peer (known, or new from --name), its name for the template and the sections it needs."""
    slug, notes = args.slug, []
    new_peer = None
    peer = project.peer(slug)
    if peer is None:
        if not getattr(args, "name", None):
            return _fail(unknown_peer_message(slug, [p.id for p in project.peers]), 1)
        values = _new_peer_values(args)
        if isinstance(values, str):
            return _fail(values, 2)
        new_peer, peer_name = values, values["name"]
    else:
        peer_name = peer.name
        if any(getattr(args, f, None) for f in _PEER_OPTIONS):
            notes.append(f"note: '{slug}' is already in paper.yml as '{peer.name}'; "
                         "--name, --country and --url were not used")
    other = _existing_case_study(project.root, slug, project.translation_langs)
    if other:
        return _fail(f"peer '{slug}' already has a case study: {other} (one per peer)", 1)
    sections = project.rules.case_study_sections or default_case_study_sections()
    values = dict(title=args.title or markdown_text(peer_name), peer=slug, peer_name=markdown_text(peer_name),
                  lang=project.lang, summary_max_words=project.rules.summary_max_words,
                  sections=section_keys(sections))
    return Plan("case-study", rel, values, new_peer, notes)


def _plan(args: argparse.Namespace, project) -> Plan | int:
    """Everything `paper new` can refuse, refused before a byte is written."""
    kind, slug, root = args.kind, args.slug, project.root
    folder = FOLDERS[kind]
    rel = f"{folder}/{slug}.md"
    target = root / rel
    if target.exists() or target.is_symlink():
        return _fail(f"{_shown(target)} already exists; not touching it (edit it, or choose another name)", 1)
    if (root / folder).exists() and not (root / folder).resolve().is_relative_to(root.resolve()):
        return _fail(f"{folder}/ leads outside the paper project; not writing there", 2)
    if args.title is not None and (not args.title.strip() or _CONTROL.search(args.title)):
        return _fail("--title must be one line of text", 2)
    if kind == "case-study":
        return _case_study_plan(args, project, rel)
    values = dict(title=args.title or title_from_slug(slug), lang=project.lang,
                  summary_max_words=project.rules.summary_max_words)
    return Plan("chapter", rel, values, None, [])


def _write_all(target: Path, text: str, config: Path, old_yml: str | None, new_yml: str | None) -> str | None:
    """The chapter, then paper.yml; if paper.yml cannot be written, the chapter goes again.

    All or nothing: a case study of a peer paper.yml does not list would fail the check.
    """
    try:
        _write(target, text)
    except OSError as err:
        return f"cannot write {_shown(target)}: {err.strerror or err}"
    if new_yml is not None and new_yml != old_yml:
        try:
            _write(config, new_yml)
        except OSError as err:
            target.unlink(missing_ok=True)
            return f"cannot write {_shown(config)}: {err.strerror or err}; nothing was changed"
    return None


def _report(project, plan: Plan, text: str) -> None:
    """What changed, then the two commands to run next, as the user can type them."""
    root, slug = project.root, plan.rel.rsplit("/", 1)[-1].removesuffix(".md")
    target, config = root / plan.rel, root / "paper.yml"
    print(f"created {_shown(target)}")
    if plan.new_peer is not None:
        print(f"added peer '{slug}' ({plan.new_peer['name']}) to {_shown(config)}")
    if project.contents is not None:
        print(f"added {plan.rel} to 'contents' in {_shown(config)}")
    for note in (plan.notes or []) + [n for n in [_word_note(project, plan.rel, plan.kind, text)] if n]:
        print(note)
    prefix = _command_prefix(root)
    build = " ".join(part for part in (prefix, "build", next_edition(project, plan.kind, slug), "--to pdf") if part)
    print(f"Next: write your text in place of each [[TODO: ...]] in {_shown(target)}, then run")
    print(f"  {prefix} check {_shown(target)}")
    print(f"  {build}")


def run_new(args: argparse.Namespace) -> int:
    """`paper new case-study PEER` / `paper new chapter SLUG`: 0 written, 1 exists or unknown peer, 2 usage."""
    from pipeline.commands import _load
    from pipeline.project import CONFIG_NAME

    if args.kind == "translation":
        return new_translation(args)
    why = bad_slug(args.slug)
    if why:
        what = "peer id" if args.kind == "case-study" else "chapter name"
        return _fail(f"'{args.slug}' cannot be a {what}: {why}", 2)
    if args.kind == "chapter" and any(getattr(args, f, None) for f in _PEER_OPTIONS):
        return _fail("--name, --country and --url describe a peer; they go with 'paper new case-study'", 2)
    project = _load(args)
    if isinstance(project, int):
        return project
    plan = _plan(args, project)
    if isinstance(plan, int):
        return plan
    name = TEMPLATES[plan.kind]
    try:
        text = render(template_source(project.root, name), **plan.values)
    except (jinja2.TemplateError, OSError, UnicodeDecodeError) as err:
        return _fail(f"cannot use the template templates/new/{name}: {err}", 2)

    config = project.root / CONFIG_NAME
    old_yml = new_yml = None
    listed = plan.rel if project.contents is not None else None
    if plan.new_peer is not None or listed is not None:
        try:
            old_yml = config.read_bytes().decode("utf-8")
            new_yml = edit_paper_yml(old_yml, plan.new_peer, listed, FOLDERS[plan.kind])
        except (OSError, UnicodeDecodeError) as err:
            return _fail(f"cannot read {CONFIG_NAME}: {err}", 2)
        except EditError as err:
            return _fail(f"cannot add to {CONFIG_NAME} safely ({err}); nothing was written. "
                         "Add the lines by hand (see the writer's guide), then run this again", 2)
    problem = _write_all(project.root / plan.rel, text, config, old_yml, new_yml)
    if problem:
        return _fail(problem, 2)
    _report(project, plan, text)
    return 0


def translation_text(source: str, lang: str, stamp: str) -> str:
    """The source with its front matter set for a translation: status draft, lang, translation-of.

    The translator then replaces title, summary and text; every citation, label and image is
    already where it belongs, and the check holds that none is lost.
    """
    lines = source.split("\n")
    if not lines or lines[0].strip() != "---":
        return f"---\nstatus: draft\nlang: {lang}\ntranslation-of: {stamp}\n---\n\n" + source
    end = next((i for i in range(1, len(lines)) if lines[i].strip() in ("---", "...")), None)
    if end is None:
        return source
    own = ("status:", "lang:", "translation-of:")
    head = [line for line in lines[1:end] if not line.startswith(own)]
    return "\n".join(["---", *head, "status: draft", f"lang: {lang}", f"translation-of: {stamp}",
                      *lines[end:]])


def new_translation(args: argparse.Namespace) -> int:
    """`paper new translation SOURCE --lang LANG`: 0 written, 1 exists, 2 usage."""
    from pipeline.commands import _load, _relative_paths
    from pipeline.render.files import write_atomic
    from pipeline.sources.paper import chapter_paths
    from pipeline.sources.text import decode
    from pipeline.sources.translations import source_hash

    project = _load(args)
    if isinstance(project, int):
        return project
    langs = project.translation_langs
    if not args.lang or args.lang not in langs:
        listed = ", ".join(langs) if langs else "none yet"
        return _fail(f"give the language with --lang, one of paper.yml's languages ({listed}); a new language "
                     "goes into paper.yml first, e.g. 'languages: [en, de]'", 2)
    rel = _relative_paths(project, [args.slug]) if Path(args.slug).exists() else [args.slug]
    if isinstance(rel, str) or rel[0] not in chapter_paths(project):
        return _fail(f"'{args.slug}' is not a chapter of the paper; name a file such as "
                     f"{(chapter_paths(project) or ['chapters/introduction.md'])[0]}", 2)
    source = rel[0]
    target = project.root / (source[: -len(".md")] + f".{args.lang}.md")
    if target.exists():
        return _fail(f"{_shown(target)} already exists; edit it, and set its translation-of to the hash "
                     "`paper check` gives when its source has changed", 1)
    text, problem = decode((project.root / source).read_bytes())
    if text is None:
        return _fail(f"cannot read {source}: {problem.message if problem else 'unknown problem'}", 2)
    write_atomic(target, translation_text(text, args.lang, source_hash(text)).encode("utf-8"))
    print(f"created {_shown(target)}")
    print("Next: translate its title, summary and text (keep every [@citation], {#label}, @reference and "
          "image; a file of front matter only is fine for the summary), then run")
    print(f"  paper check {_shown(target)}")
    return 0
