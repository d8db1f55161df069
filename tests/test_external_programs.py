"""Every system program the suite runs is installed by a fixture or skipped with the reason.

A fresh machine has only what the README's test command installs.  So a test may run:
- Python itself (``sys.executable``) and this project's console scripts (``caliper``);
- the repository's own scripts (``scripts/*.sh``), which install what they start;
- a program returned by :func:`tests.system_tools.system_tool`, which installs its Debian package
  or skips the test with the reason.
This test reads every test module and fails on any other way of reaching a system program: a
command whose first word is a literal program name, ``shutil.which`` of a program, ``shell=True``
or ``os.system``.
"""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

from tests.system_tools import DEBIAN_PACKAGES

ROOT = Path(__file__).resolve().parents[1]
TESTS = ROOT / "tests"
SUBPROCESS_CALLS = {"run", "Popen", "check_output", "check_call", "call", "getoutput"}
#: the one module allowed to look programs up and call apt-get
GATEKEEPER = TESTS / "system_tools.py"


def _console_scripts() -> set[str]:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return set(data["project"].get("scripts", {}))


def _is_repo_script(node: ast.expr | None) -> bool:
    """``str(ROOT / "scripts" / "x.sh")``-like: a path built in code, which names a repo script."""
    if node is None:
        return False
    return "scripts" in {sub.value for sub in ast.walk(node) if isinstance(sub, ast.Constant)}


def _first_word(call: ast.Call) -> str | None:
    """The literal program name a subprocess call starts, if it names one literally."""
    if not call.args:
        return None
    command = call.args[0]
    if isinstance(command, ast.List | ast.Tuple) and command.elts:
        first = command.elts[0]
        if isinstance(first, ast.Constant) and isinstance(first.value, str):
            script = command.elts[1] if len(command.elts) > 1 else None
            if first.value in {"bash", "sh"} and _is_repo_script(script):
                return None
            return first.value
    if isinstance(command, ast.Constant) and isinstance(command.value, str):
        return command.value.split()[0] if command.value.split() else command.value
    return None


def _findings(path: Path, own_programs: set[str]) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    rel = path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else path.name
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.List | ast.Tuple) and node.elts:
            first = node.elts[0]
            if isinstance(first, ast.Constant) and first.value in {"apt-get", "apt", "dpkg"}:
                found.append(f"{rel}:{node.lineno}: installs packages outside system_tool")
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
            continue
        owner = node.func.value
        owner_name = owner.id if isinstance(owner, ast.Name) else None
        name = node.func.attr
        if owner_name == "subprocess" and name in SUBPROCESS_CALLS:
            program = _first_word(node)
            if program is not None and program not in own_programs:
                found.append(f"{rel}:{node.lineno}: runs {program!r} directly")
            for keyword in node.keywords:
                if keyword.arg == "shell" and not (
                    isinstance(keyword.value, ast.Constant) and keyword.value.value is False
                ):
                    found.append(f"{rel}:{node.lineno}: shell=True hides which programs run")
        elif owner_name == "os" and name in {"system", "popen"}:
            found.append(f"{rel}:{node.lineno}: os.{name} runs a shell")
        elif owner_name == "shutil" and name == "which":
            arg = node.args[0] if node.args else None
            program = arg.value if isinstance(arg, ast.Constant) else None
            if program not in own_programs:
                found.append(f"{rel}:{node.lineno}: shutil.which({program!r}) outside system_tool")
    return found


def test_system_programs_come_only_through_system_tool() -> None:
    own = _console_scripts()
    offenders: list[str] = []
    for path in sorted(TESTS.rglob("*.py")):
        if path != GATEKEEPER:
            offenders += _findings(path, own)
    assert offenders == [], "\n".join(offenders)


def test_every_program_asked_for_has_a_debian_package() -> None:
    asked: set[str] = set()
    for path in sorted(TESTS.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name | ast.Attribute)
                and (node.func.id if isinstance(node.func, ast.Name) else node.func.attr)
                == "system_tool"
                and node.args
                and isinstance(node.args[0], ast.Constant)
            ):
                asked.add(node.args[0].value)
    assert asked, "no test asks for a system program: is this check still reading the tests?"
    assert asked <= set(DEBIAN_PACKAGES), sorted(asked - set(DEBIAN_PACKAGES))


def test_the_check_catches_a_direct_call(tmp_path: Path) -> None:
    sample = tmp_path / "test_sample.py"
    sample.write_text(
        "import os, shutil, subprocess\n"
        "subprocess.run(['pdftotext', 'a.pdf', '-'])\n"
        "shutil.which('pdftoppm')\n"
        "subprocess.run('ls', shell=True)\n"
        "os.system('ls')\n"
        "subprocess.run(['bash', '-c', 'pdftotext a.pdf'])\n"
        "subprocess.run(['bash', str(ROOT / 'scripts' / 'postgres.sh'), 'start'])\n"
        "subprocess.run([sys.executable, '-c', 'pass'])\n"
        "install = ['apt-get', 'install', '-y', 'dcmtk']\n"
    )
    found = _findings(sample, {"caliper"})
    assert len(found) == 7, found
