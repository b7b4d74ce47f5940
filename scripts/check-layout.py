#!/usr/bin/env python3
"""Checks the layout of the code: no import cycle, and no file too long to read.

- No cycle between the top-level modules of a crate (`src/documents`, `src/base`, ...), nor
  between the files of one folder (a folder's `mod.rs` is one of its files; a subfolder counts
  as one file of its parent). A file depends on another when it names something in it: a
  `use`, or a path such as `crate::base::server::clock::iso_time(...)` or `super::rows::row`.
- No file over MAX_LINES lines of code (not counting blank lines, comments and its tests),
  except the stand-in's demo data, whose order is the data. Test files (`tests/`, and a
  folder's `tests.rs`) are not held to it: a test reads best beside the others of its feature.

Prints the cycles and long files it finds, and exits 1 if there are any; `--explain` also
prints every dependency it sees, with the path that makes it; `--self-test` first runs the
check on small made-up trees, each with one fault, so that a check that finds nothing is seen.
"""

import os
import re
import sys

MAX_LINES = 600
# The demo tenant's data: splitting it would reorder what the seeded ids depend on.
LONG_ALLOWED = {"crates/flexportal-sim/src/data.rs"}

EXPLAIN = "--explain" in sys.argv
REPOSITORY = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def source_roots(root):
    """Folio's `src` and each crate's."""
    crates = os.path.join(root, "crates")
    return ["src"] + sorted(
        os.path.join("crates", c, "src")
        for c in (os.listdir(crates) if os.path.isdir(crates) else [])
        if os.path.isdir(os.path.join(crates, c, "src"))
    )


def module_files(root, src):
    """{module path tuple: file path} for one crate's source folder."""
    modules = {}
    for folder, _, files in os.walk(os.path.join(root, src)):
        rel = os.path.relpath(folder, os.path.join(root, src))
        parts = () if rel == "." else tuple(rel.split(os.sep))
        for name in files:
            if not name.endswith(".rs"):
                continue
            stem = name[:-3]
            if parts == () and stem in ("lib", "main"):
                path = ()
            elif stem == "mod":
                path = parts
            else:
                path = parts + (stem,)
            if parts == () and stem == "main":
                continue  # the binary: not part of the library's graph
            modules[path] = os.path.join(folder, name)
    return modules


def strip(text):
    """The code without comments and string literals."""
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    text = re.sub(r'r#*"(?:.|\n)*?"#*', '""', text)
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', text)
    return re.sub(r"//[^\n]*", "", text)


def split_top(text):
    parts, depth, current = [], 0, ""
    for ch in text:
        depth += (ch == "{") - (ch == "}")
        if ch == "," and depth == 0:
            parts.append(current.strip())
            current = ""
        else:
            current += ch
    if current.strip():
        parts.append(current.strip())
    return parts


def use_paths(tree, prefix=()):
    tree = tree.strip()
    match = re.match(r"^((?:\w+::)*)\{(.*)\}$", tree, re.S)
    if match:
        head = tuple(s for s in match.group(1).split("::") if s)
        out = []
        for part in split_top(match.group(2)):
            out += use_paths(part, prefix + head)
        return out
    tree = re.sub(r"\s+as\s+\w+$", "", tree)
    return [prefix + tuple(s for s in tree.split("::") if s)]


def inline_modules(code):
    """The file's code outside inline `mod name { ... }` blocks, and each block's name and code."""
    blocks = []
    while True:
        match = re.search(r"\bmod\s+(\w+)\s*\{", code)
        if not match:
            return code, blocks
        depth, end = 0, match.end() - 1
        for end in range(match.end() - 1, len(code)):
            depth += (code[end] == "{") - (code[end] == "}")
            if depth == 0:
                break
        blocks.append((match.group(1), code[match.end() : end]))
        code = code[: match.start()] + code[end + 1 :]


def references(code, here, modules):
    """Absolute paths this module's code names, including its inline modules' (tests)."""
    code, blocks = inline_modules(code)
    out = []
    for name, block in blocks:
        out += references(block, here + (name,), modules)
    return out + direct_references(code, here, modules)


def direct_references(code, here, modules):
    paths = []
    for body in re.findall(r"\buse\s+([^;]+);", code):
        paths += use_paths(body)
    paths += [tuple(m.split("::")) for m in re.findall(r"\b((?:crate|super|self)(?:::\w+)+)", code)]
    out = []
    for path in paths:
        if not path:
            continue
        if path[0] == "crate":
            out.append(path[1:])
        elif path[0] in ("super", "self"):
            base = list(here)
            rest = list(path)
            while rest and rest[0] in ("super", "self"):
                if rest.pop(0) == "super" and base:
                    base.pop()
            out.append(tuple(base) + tuple(rest))
        elif here + (path[0],) in modules:
            out.append(here + path)  # `use child::Item` in a folder's mod.rs
    return out


def owner(path, modules):
    """The module file that an absolute path points into."""
    for n in range(len(path), -1, -1):
        if path[:n] in modules:
            return path[:n]
    return ()


def cycles(edges):
    """Strongly connected components with more than one node (Tarjan)."""
    index, low, stack, on, found, counter = {}, {}, [], set(), [], [0]
    nodes = set(edges) | {b for bs in edges.values() for b in bs}

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(nodes):
        if v not in index:
            visit(v)
    return found


def code_lines(text):
    """Lines of code before the file's tests, without blank lines and comments."""
    match = re.search(r"^#\[cfg\(test\)\]\s*\n\s*mod \w+", text, re.M)
    if match:
        text = text[: match.start()]
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    return sum(1 for line in text.split("\n") if line.strip() and not line.strip().startswith("//"))


def problems_in(root):
    """What is wrong with the layout of the repository at `root`, one line each."""
    problems = []
    for src in source_roots(root):
        modules = module_files(root, src)
        edges_top = {}
        edges_folder = {}
        for here, file in modules.items():
            code = strip(open(file, encoding="utf-8").read())
            for ref in references(code, here, modules):
                target = owner(ref, modules)
                if not here or not target:
                    continue
                if target[0] != here[0]:
                    edges_top.setdefault(here[0], set()).add(target[0])
                    if EXPLAIN:
                        print(f"  {here[0]} -> {target[0]}: {'::'.join(here)} names {'::'.join(ref)}")
                # Within the folder of `here`, and within each folder above it, where the
                # subfolder `here` lies in counts as one file.
                is_folder = file.endswith("mod.rs")
                own = here if is_folder else here[:-1]
                for depth in range(1, len(own) + 1):
                    folder = own[:depth]
                    if depth == len(own):
                        node = "mod.rs" if is_folder else here[-1]
                    else:
                        node = own[depth]
                    if target[:depth] != folder:
                        continue
                    other = target[depth] if len(target) > depth else "mod.rs"
                    if other != node:
                        if EXPLAIN:
                            print(f"  {'/'.join(folder)}: {node} -> {other}: names {'::'.join(ref)}")
                        edges_folder.setdefault(folder, {}).setdefault(node, set()).add(other)
        for cycle in cycles(edges_top):
            problems.append(f"{src}: top-level modules depend on each other: {' <-> '.join(cycle)}")
        for folder, edges in sorted(edges_folder.items()):
            for cycle in cycles(edges):
                where = "/".join((src,) + folder)
                problems.append(f"{where}: files depend on each other: {' <-> '.join(cycle)}")
        for file in sorted(modules.values()):
            rel = os.path.relpath(file, root)
            count = code_lines(open(file, encoding="utf-8").read())
            if count > MAX_LINES and rel not in LONG_ALLOWED and not rel.endswith("/tests.rs"):
                problems.append(f"{rel}: {count} lines of code (at most {MAX_LINES} besides its tests)")
    return problems


def self_test():
    """The check on small made-up trees: each fault found, and a sound tree passed."""
    import tempfile

    def run(files):
        with tempfile.TemporaryDirectory() as root:
            for path, text in files.items():
                os.makedirs(os.path.dirname(os.path.join(root, path)), exist_ok=True)
                with open(os.path.join(root, path), "w", encoding="utf-8") as f:
                    f.write(text)
            return problems_in(root)

    sound = {
        "src/lib.rs": "pub mod a;\npub mod b;\n",
        "src/a/mod.rs": "pub mod api;\n#[cfg(feature = \"ssr\")]\npub mod server;\n",
        "src/a/api.rs": "use crate::a::server::x;\nuse crate::b::y;\n",
        "src/a/server/mod.rs": "mod one;\nmod two;\npub use one::x;\n",
        "src/a/server/one.rs": "use super::two::z;\npub fn x() {}\n#[cfg(test)]\nmod tests {\n    use super::*;\n}\n",
        "src/a/server/two.rs": "pub fn z() {}\n",
        "src/b.rs": "pub fn y() {}\n",
    }
    cases = {
        "sound": (sound, []),
        "top-level modules": ({**sound, "src/b.rs": "use crate::a::api;\npub fn y() {}\n"},
                              ["src: top-level modules depend on each other: a <-> b"]),
        "files of a folder": ({**sound, "src/a/server/two.rs": "use super::one::x;\npub fn z() {}\n"},
                              ["src/a/server: files depend on each other: one <-> two"]),
        "a subfolder and its parent": ({**sound, "src/a/server/two.rs": "use crate::a::api;\npub fn z() {}\n"},
                                       ["src/a: files depend on each other: api <-> server"]),
        "a long file": ({**sound, "src/b.rs": "pub fn y() {}\n" + "const C: u8 = 0;\n" * MAX_LINES},
                        [f"src/b.rs: {MAX_LINES + 1} lines of code (at most {MAX_LINES} besides its tests)"]),
    }
    failed = [f"{name}: expected {want}, found {got}"
              for name, (files, want) in cases.items() if (got := run(files)) != want]
    for failure in failed:
        print(f"self-test: {failure}")
    if failed:
        sys.exit(1)
    print(f"layout self-test: {len(cases)} cases as expected")


def main():
    if "--self-test" in sys.argv:
        self_test()
    problems = problems_in(REPOSITORY)
    for problem in problems:
        print(problem)
    if problems:
        sys.exit(1)
    roots = ", ".join(source_roots(REPOSITORY))
    print(f"layout: no import cycle in {roots}; no file over {MAX_LINES} lines of code")


if __name__ == "__main__":
    main()
