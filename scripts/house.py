#!/usr/bin/env python3
"""Keeps the house: the shape of the code that `make test` checks (docs/testing.md).

    scripts/house.py        check the whole repository; exit status 1 on any problem

1. Sizes: a backend `.rs` file (backend/src, backend/migration/src) has at most 700 lines, a
   web client one (frontend/src, frontend/core/src) at most 400.
2. Layers: no import runs up the backend's layers (backend/layers.txt: one layer a line, top
   first, each a space-separated list of module paths; a file belongs to the layer of the
   longest listed path that prefixes its module; files of no layer are not judged).
3. Circles: no import circle between the files of a crate.

Imports are `use crate::...`, `crate::...` paths in code and `use super::...` (relative to
the module where it stands, inline `mod x { }` blocks included). An import points at the file
of the longest module path it names that exists as a file; a folder's module is its
`mod.rs`, the crate's is `lib.rs` (or `main.rs` without one). A binary beside a library
(`main.rs`, `src/bin/`) is a crate of its own: its files are not in the graph. The checker
reads text, not the compiler's view: comments and string literals are ignored, but a path
built by a macro is not seen.
"""

import re
import sys
from collections import deque
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# (folders, limit, whose, where to read how the code is cut)
SIZE_LIMITS = [
    (["backend/src", "backend/migration/src"], 700, "the backend's", "docs/architecture.md"),
    (["frontend/src", "frontend/core/src"], 400, "the web client's", "docs/web-client.md"),
]
CRATES = ["backend/src", "frontend/src", "frontend/core/src", "shared/src", "testkit/src", "e2e/src"]
LAYERS = {"backend/src": "backend/layers.txt"}

# Comments, string and char literals: blanked out (newlines kept) before looking for paths.
NOISE = re.compile(
    r"""//[^\n]*
      | /\*.*?\*/
      | (?<!\w)b?r(?P<hashes>\#*)".*?"(?P=hashes)
      | (?<!\w)b?"(?:\\.|[^"\\])*"
      | (?<!\w)b?'(?:\\(?:u\{[0-9a-fA-F]+\}|x[0-9a-fA-F]{2}|.)|[^\\'\n])'""",
    re.S | re.X,
)
# What matters in the blanked text: inline modules, braces, use statements, crate:: paths.
SCAN = re.compile(
    r"""\bmod\s+(?:r\#)?(?P<mod>\w+)\s*\{
      | \buse\s+(?P<use>[^;]*);
      | (?<![\w$])(?P<path>crate(?:\s*::\s*(?:r\#)?\w+)+)
      | (?P<open>\{) | (?P<close>\})""",
    re.X,
)


def blank(match):
    return " " + "\n" * match.group().count("\n")


def expand(tree):
    """`a::{b, c::{self, d}}` -> [[a, b], [a, c], [a, c, d]] (whitespace and `as x` removed)."""
    paths, parts, depth, start = [], [], 0, 0
    for i, ch in enumerate(tree + ","):
        depth += {"{": 1, "}": -1}.get(ch, 0)
        if ch == "," and depth == 0:
            parts.append(tree[start:i])
            start = i + 1
    for part in filter(None, parts):
        head, brace, rest = part.partition("{")
        prefix = [seg for seg in head.split("::") if seg]
        for sub in expand(rest[:-1]) if brace else [[]]:
            path = prefix + sub
            if path and path[-1] in ("self", "*"):
                path = path[:-1]
            paths.append(path)
    return paths


def imports(text, module):
    """Yields (line, path as written, absolute module path) for every crate-internal import."""
    text = NOISE.sub(blank, text)
    depth, inline = 0, []  # inline: [(name, depth of its brace)]
    line, counted = 1, 0
    for m in SCAN.finditer(text):
        line, counted = line + text.count("\n", counted, m.start()), m.start()
        if m["mod"]:
            depth += 1
            inline.append((m["mod"], depth))
        elif m["open"]:
            depth += 1
        elif m["close"]:
            if inline and inline[-1][1] == depth:
                inline.pop()
            depth -= 1
        else:
            here = list(module) + [name for name, _ in inline]
            tree = m["use"] if m["use"] is not None else m["path"]
            tree = re.sub(r"\s+as\s+\w+", "", tree)
            tree = re.sub(r"\s+|r#", "", tree)
            for path in expand(tree):
                written = "::".join(path)
                if path[:1] == ["crate"]:
                    absolute = path[1:]
                elif path[:1] == ["super"] and m["use"] is not None:
                    absolute = list(here)
                    while path[:1] == ["super"]:
                        path, absolute = path[1:], absolute[:-1]
                    absolute += path
                else:
                    continue
                yield line, written, absolute


def crate_files(src):
    """{module path (tuple): file} for one crate's folder, binaries of their own left out."""
    files = {}
    for file in sorted((ROOT / src).rglob("*.rs")):
        parts = list(file.relative_to(ROOT / src).with_suffix("").parts)
        binary = parts == ["main"] and (ROOT / src / "lib.rs").exists()
        if binary or (parts[0] == "bin" and len(parts) > 1):
            continue
        if parts[-1] in ("mod", "lib", "main"):
            parts = parts[:-1]
        files[tuple(parts)] = file
    return files


def target(files, absolute):
    """The file of the longest prefix of `absolute` that is a module with a file."""
    for n in range(len(absolute), -1, -1):
        if tuple(absolute[:n]) in files:
            return files[tuple(absolute[:n])]
    return None


def rel(file):
    return file.relative_to(ROOT).as_posix()


def check_sizes():
    problems, count = [], 0
    for folders, limit, whose, doc in SIZE_LIMITS:
        for folder in folders:
            for file in sorted((ROOT / folder).rglob("*.rs")):
                count += 1
                lines = len(file.read_text(encoding="utf-8").splitlines())
                if lines > limit:
                    problems.append(f"{rel(file)}: {lines} lines, over {whose} {limit}: "
                                    f"split it by job ({doc})")
    return problems, count


def read_layers(path):
    """[(layer number, module path)] from a layers file, top layer 0."""
    listed = []
    lines = (ROOT / path).read_text(encoding="utf-8").splitlines()
    for number, line in enumerate(l for l in lines if l.strip() and not l.startswith("#")):
        listed += [(number, tuple(re.split(r"::|/", word))) for word in line.split()]
    return listed


def layer_of(listed, module):
    """(layer number, listed path) of the longest listed path prefixing `module`, or None."""
    fits = [(len(path), number, path) for number, path in listed if module[:len(path)] == path]
    return max(fits)[1:] if fits else None


def knots(edges, nodes):
    """The sets of files that reach each other (more than one file each)."""
    reach = {}
    for v in nodes:
        seen, queue = set(), deque(edges.get(v, ()))
        while queue:
            w = queue.popleft()
            if w not in seen:
                seen.add(w)
                queue.extend(edges.get(w, ()))
        reach[v] = seen
    return {frozenset(w for w in reach[v] if v in reach[w]) for v in nodes if v in reach[v]}


def shortest_circle(edges, start):
    """A shortest circle from `start` back to it (breadth first)."""
    came_from, queue = {start: None}, deque([start])
    while queue:
        node = queue.popleft()
        for nxt in sorted(edges.get(node, ())):
            if nxt == start:
                path = [node]
                while came_from[path[-1]] is not None:
                    path.append(came_from[path[-1]])
                return path[::-1] + [start]
            if nxt not in came_from:
                came_from[nxt] = node
                queue.append(nxt)
    return [start]


def check_imports(src):
    """Upward imports (where the crate has layers) and circles between one crate's files."""
    files = crate_files(src)
    modules = {file: module for module, file in files.items()}
    listed = read_layers(LAYERS[src]) if src in LAYERS else None
    edges, why, problems, seen = {}, {}, [], set()
    for module, file in files.items():
        for line, written, absolute in imports(file.read_text(encoding="utf-8"), module):
            to = target(files, absolute)
            if to is None or to == file:
                continue
            edges.setdefault(file, set()).add(to)
            why.setdefault((file, to), f"{file.relative_to(ROOT / src).as_posix()}:{line}")
            mine, theirs = (layer_of(listed, m) if listed else None for m in (module, modules[to]))
            if mine and theirs and theirs[0] < mine[0] and (file, written) not in seen:
                seen.add((file, written))
                problems.append(
                    f"{rel(file)}:{line} imports {written}: {'::'.join(mine[1])} may not use "
                    f"{'::'.join(theirs[1])} ({LAYERS[src]}): move what it needs down, or "
                    f"have the upper layer pass it in")
    for knot in sorted(knots(edges, files.values()), key=min):
        circle = shortest_circle(edges, min(knot))
        steps = ", ".join(why[a, b] for a, b in zip(circle, circle[1:]))
        others = sorted(rel(f) for f in knot - set(circle))
        more = f"; in the same knot: {', '.join(others)}" if others else ""
        problems.append(
            f"circle: {' -> '.join(rel(f) for f in circle)} (imports at {steps}){more}: "
            f"move what they share into a module below them, so that imports point one way")
    return problems, len(files)


def main():
    if len(sys.argv) > 1:
        print(__doc__)
        return 0 if sys.argv[1] in ("-h", "--help") else 2
    problems, sized = check_sizes()
    graphed = 0
    for src in CRATES:
        found, count = check_imports(src)
        problems += found
        graphed += count
    for problem in problems:
        print(problem)
    if problems:
        print(f"house: {len(problems)} problem(s) (scripts/house.py, docs/testing.md)")
        return 1
    print(f"house: {sized} files within their sizes; {graphed} files in {len(CRATES)} crates "
          f"without circles, none running up backend/layers.txt")
    return 0


if __name__ == "__main__":
    sys.exit(main())
