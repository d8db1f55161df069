"""docs/ARCHITECTURE.md shows the package graph as the imports make it today."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _architecture():  # scripts/ is not a package: load the module from its file
    spec = importlib.util.spec_from_file_location(
        "architecture", ROOT / "scripts" / "architecture.py"
    )
    assert spec
    assert spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_architecture_doc_graph_matches_the_imports() -> None:
    architecture = _architecture()
    expected = architecture.doc_block(architecture.edges())
    assert expected in (ROOT / "docs" / "ARCHITECTURE.md").read_text(), (
        "the package graph changed: run `python scripts/architecture.py --update-doc "
        "--png docs/architecture.png` and describe the change in docs/ARCHITECTURE.md"
    )


def test_every_package_says_what_it_owns_and_may_import() -> None:
    missing = []
    for layer in ("app", "viewer", "storage", "recist"):
        for init in sorted((ROOT / layer).rglob("__init__.py")):
            text = init.read_text()
            if not text.lstrip().startswith('"""') or "import" not in text.split('"""')[1]:
                missing.append(str(init.relative_to(ROOT)))
    assert missing == [], missing
