"""YAML with positions, for front matter and paper.yml.

PyYAML's composed node tree knows where every value starts; keeping that
lets a wrong ORCID be reported on its own line. We walk the tree ourselves
(rather than let PyYAML construct it) so that alias bombs are cut off after a
fixed budget of nodes instead of expanding exponentially.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml
from bisect import bisect_right

Key = tuple  # a path into the document: ('authors', 0, 'orcid')

NODE_BUDGET = 20_000  # a front matter or paper.yml never needs more; a bomb always does


@dataclass(frozen=True)
class YamlError(Exception):
    line: int  # 1-based, in the YAML text
    col: int
    message: str


@dataclass
class YamlDoc:
    value: Any
    positions: dict[Key, tuple[int, int]] = field(default_factory=dict)  # value start, 1-based
    duplicates: list[tuple[Key, int, int]] = field(default_factory=list)  # repeated mapping keys
    key_positions: dict[Key, tuple[int, int]] = field(default_factory=dict)  # where 'name:' is written

    def pos(self, key: Key, default: tuple[int, int] = (1, 1)) -> tuple[int, int]:
        """Position of the value at ``key``, or of its nearest ancestor."""
        while key:
            if key in self.positions:
                return self.positions[key]
            key = key[:-1]
        return self.positions.get((), default)


def _plain_words(problem: str, context: str | None) -> str:
    """Turn PyYAML's parser jargon into advice an author can act on."""
    text = (problem or "").strip()
    if "mapping values are not allowed" in text:
        return (
            "a value contains ': ' (a colon followed by a space); put the whole value in "
            'double quotes, e.g. title: "Networks: a study"'
        )
    if "found character '\\t'" in text or "found character '\t'" in text:
        return "a tab character is used for indentation; YAML needs spaces"
    if "could not find expected ':'" in text:
        return "a line is missing the ':' between a field name and its value"
    if "found undefined alias" in text:
        return "a '*' starts a YAML alias here; put the value in quotes if you meant a star"
    if "expected <block end>" in text or "did not find expected key" in text:
        return "the indentation is inconsistent; items of one list or mapping must line up"
    if "found unexpected end of stream" in text or "while scanning a quoted scalar" in (context or ""):
        return "a quotation mark is opened but never closed"
    if "while parsing a flow" in (context or ""):
        return "a '[' or '{' is opened but never closed; put the value in quotes if it is text"
    return f"invalid YAML: {text or context or 'cannot be read'}"


def parse_yaml(text: str) -> YamlDoc:
    """Parse one YAML document; raise YamlError with a position and plain words."""
    try:
        loader = yaml.SafeLoader(text)  # its reader refuses control characters at once
    except yaml.reader.ReaderError as err:
        raise _control_character(text, err) from None
    try:
        node = loader.get_single_node()
    except yaml.reader.ReaderError as err:
        raise _control_character(text, err) from None
    except yaml.MarkedYAMLError as err:
        # an unclosed bracket or quote is best shown where it was opened
        unclosed = "while parsing a flow" in (err.context or "") or "quoted scalar" in (err.context or "")
        mark = (err.context_mark if unclosed else None) or err.problem_mark or err.context_mark
        line, col = _Lines(text).pos(mark) if mark else (1, 1)
        raise YamlError(line, col, _plain_words(err.problem or "", err.context)) from None
    except yaml.YAMLError as err:
        raise YamlError(1, 1, f"invalid YAML: {err}") from None
    except RecursionError:
        raise YamlError(1, 1, "the YAML is nested too deeply to be read") from None
    finally:
        loader.dispose()
    doc = YamlDoc(value=None)
    if node is None:
        return doc
    budget = [NODE_BUDGET]
    try:
        doc.value = _walk(node, (), doc, budget, SafeScalars(), _Lines(text))
    except RecursionError:
        raise YamlError(1, 1, "the YAML is nested too deeply to be read") from None
    return doc


def _control_character(text: str, err: yaml.reader.ReaderError) -> YamlError:
    """YAML refuses control characters (pasted from a PDF, a terminal...); say which and where."""
    index = max(0, min(err.position, len(text)))
    line = text.count("\n", 0, index) + 1
    col = index - (text.rfind("\n", 0, index) + 1) + 1
    code = err.character if isinstance(err.character, int) else 0
    return YamlError(line, col, f"an invisible control character (U+{code:04X}) is here; delete it "
                                "(it often comes with text pasted from a PDF or a terminal)")


class SafeScalars(yaml.constructor.SafeConstructor):
    """Converts one scalar node at a time (ints, dates, booleans) as YAML 1.1 does."""


class _Lines:
    """Positions counted by "\\n" only, as editors and diagnostics count them.

    PyYAML also breaks lines at U+0085, U+2028 and U+2029, so its own line
    numbers drift; the character index of a mark does not.
    """

    def __init__(self, text: str):
        self.starts = [0] + [i + 1 for i, c in enumerate(text) if c == "\n"]

    def pos(self, mark: yaml.Mark) -> tuple[int, int]:
        line = bisect_right(self.starts, mark.index)
        return line, mark.index - self.starts[line - 1] + 1


def _walk(node: yaml.Node, key: Key, doc: YamlDoc, budget: list[int], scalars: SafeScalars,
          lines: _Lines) -> Any:
    budget[0] -= 1
    if budget[0] < 0:
        raise YamlError(
            *lines.pos(node.start_mark),
            "the YAML expands to too many values (aliases '*name' repeated over and over); "
            "write the values out instead of using aliases",
        )
    doc.positions.setdefault(key, lines.pos(node.start_mark))
    if isinstance(node, yaml.ScalarNode):
        try:
            return scalars.construct_object(node, deep=True)
        except (yaml.YAMLError, ValueError, OverflowError):
            return node.value
    if isinstance(node, yaml.SequenceNode):
        return [_walk(item, key + (i,), doc, budget, scalars, lines) for i, item in enumerate(node.value)]
    result: dict[str, Any] = {}
    for key_node, value_node in node.value:
        name = _key_text(key_node)
        if name in result:
            doc.duplicates.append((key + (name,), *lines.pos(key_node.start_mark)))
        mark = lines.pos(key_node.start_mark)
        doc.key_positions.setdefault(key + (name,), mark)
        try:
            result[name] = _walk(value_node, key + (name,), doc, budget, scalars, lines)
        except YamlError as err:
            if key or budget[0] >= 0:
                raise
            # an alias bomb is reported at the top-level field that explodes
            raise YamlError(mark[0], mark[1], err.message) from None
    return result


def _key_text(node: yaml.Node) -> str:
    if isinstance(node, yaml.ScalarNode):
        return str(node.value)
    return "<complex key>"
