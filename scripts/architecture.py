"""Draw Caliper's package graph from its imports (for docs/ARCHITECTURE.md).

    python scripts/architecture.py               # print the Mermaid graph
    python scripts/architecture.py --dot         # print Graphviz DOT
    python scripts/architecture.py --png FILE    # render with Graphviz `dot` (if installed)
    python scripts/architecture.py --update-doc  # rewrite the graph block of docs/ARCHITECTURE.md

A node is a package of the second level (``app.session``, ``viewer.image``, ``storage.db``) or a
top-level module of a layer (``app.main``); ``recist`` is one node.  An edge means some module of
one node imports some module of the other, at any depth, lazily or not.
"""

from __future__ import annotations

import argparse
import ast
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LAYERS = ("app", "viewer", "storage", "recist")
DOC = ROOT / "docs" / "ARCHITECTURE.md"
BEGIN, END = "<!-- graph:begin (scripts/architecture.py --update-doc) -->", "<!-- graph:end -->"


def node_of(module: str) -> str | None:
    """The graph node a dotted module name belongs to (None outside Caliper)."""
    parts = module.split(".")
    if parts[0] not in LAYERS:
        return None
    if parts[0] == "recist" or len(parts) == 1:
        return parts[0]
    return ".".join(parts[:2])


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_module(package: str, name: str) -> bool:
    base = ROOT.joinpath(*package.split("."), name)
    return base.with_suffix(".py").exists() or base.is_dir()


def edges() -> dict[str, set[str]]:
    """node -> the nodes it imports."""
    graph: dict[str, set[str]] = defaultdict(set)
    for layer in LAYERS:
        for path in sorted((ROOT / layer).rglob("*.py")):
            source = node_of(module_name(path))
            if source is None:
                continue
            graph[source]  # every node appears, even one that imports nothing of ours
            for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
                names: list[str] = []
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                    names = [node.module] + [
                        f"{node.module}.{a.name}"
                        for a in node.names
                        if _is_module(node.module, a.name)
                    ]
                targets = {node_of(name) for name in names}
                # "from app import __version__" names the layer package itself, not a node
                graph[source] |= {t for t in targets if t and t != source and t not in LAYERS[:3]}
    return graph


def _ident(node: str) -> str:
    return node.replace(".", "_")


def mermaid(graph: dict[str, set[str]]) -> str:
    lines = ["flowchart TD"]
    for layer in LAYERS:
        members = sorted(n for n in graph if n.split(".")[0] == layer)
        lines.append(f"  subgraph {layer}")
        lines += [f"    {_ident(n)}[{n}]" for n in members]
        lines.append("  end")
    for source in sorted(graph):
        lines += [f"  {_ident(source)} --> {_ident(t)}" for t in sorted(graph[source])]
    return "\n".join(lines) + "\n"


def dot(graph: dict[str, set[str]]) -> str:
    lines = ["digraph caliper {", "  rankdir=TB; node [shape=box, fontname=Helvetica];"]
    for layer in LAYERS:
        members = sorted(n for n in graph if n.split(".")[0] == layer)
        lines.append(f'  subgraph cluster_{layer} {{ label="{layer}/"; style=rounded;')
        lines += [f'    "{n}";' for n in members]
        lines.append("  }")
    for source in sorted(graph):
        lines += [f'  "{source}" -> "{t}";' for t in sorted(graph[source])]
    lines.append("}")
    return "\n".join(lines) + "\n"


def doc_block(graph: dict[str, set[str]]) -> str:
    return f"{BEGIN}\n```mermaid\n{mermaid(graph)}```\n{END}"


def update_doc(graph: dict[str, set[str]]) -> None:
    text = DOC.read_text()
    start, end = text.index(BEGIN), text.index(END) + len(END)
    DOC.write_text(text[:start] + doc_block(graph) + text[end:])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dot", action="store_true")
    parser.add_argument("--png", type=Path)
    parser.add_argument("--update-doc", action="store_true")
    args = parser.parse_args(argv)
    graph = edges()
    if args.update_doc:
        update_doc(graph)
    if args.png:
        subprocess.run(
            ["dot", "-Tpng", "-o", str(args.png)], input=dot(graph), text=True, check=True
        )
    if not (args.update_doc or args.png):
        sys.stdout.write(dot(graph) if args.dot else mermaid(graph))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
