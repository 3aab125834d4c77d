"""Where in the file each problem of a configuration document is, for a problem that names its
key's path (config/config_document.py reports paths): `line 4, column 5: monitors[0].url: ...`.

The file is composed (not constructed) by PyYAML, whose nodes keep their marks; a problem whose
path is not in the file (a key left out) is placed at the deepest part of its path that is.
"""

from __future__ import annotations

import re

import yaml
from yaml.nodes import MappingNode, Node, SequenceNode

_PATH = re.compile(r"(?P<path>[A-Za-z_][\w-]*(?:\[\d+\]|\.[^\s.\[:]+)*): ")
_STEP = re.compile(r"\[(\d+)\]|\.?([^\s.\[]+)")


def _steps(path: str) -> list[int | str]:
    return [int(index) if index else key for index, key in _STEP.findall(path)]


def _node_at(root: Node, steps: list[int | str]) -> Node:
    """The node `steps` leads to (a key's own node for the last key), or the deepest one found."""
    node = root
    for depth, step in enumerate(steps, 1):
        if isinstance(node, MappingNode):
            found = next(((key, value) for key, value in node.value
                          if str(getattr(key, "value", "")) == str(step)), None)
            if found is None:
                return node
            key, node = found
            if depth == len(steps):
                return key
        elif isinstance(node, SequenceNode) and isinstance(step, int) and step < len(node.value):
            node = node.value[step]
        else:
            return node
    return node


def with_positions(text: str, problems: list[str]) -> list[str]:
    """`problems`, each that starts with a key's path told its line and column in `text`."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:  # the parser's own message has the place already
        return problems
    if root is None:
        return problems
    placed = []
    for problem in problems:
        match = _PATH.match(problem)
        if match is None or problem.startswith("document:"):
            placed.append(problem)
            continue
        mark = _node_at(root, _steps(match["path"])).start_mark
        placed.append(f"line {mark.line + 1}, column {mark.column + 1}: {problem}")
    return placed
