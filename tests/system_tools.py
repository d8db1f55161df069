"""System programs the tests use, each installed on demand or skipped with a reason.

A fresh machine (and CI) has only what the README's test command installs.  A test that needs a
program outside the Python environment asks :func:`system_tool` for it: the program is found on the
PATH, or installed from Debian's packages with ``apt-get`` (``apt-get update`` only when the first
install fails), or the test is skipped with the reason.  ``tests/test_external_programs.py`` checks
that no test calls a system program any other way; servers (PostgreSQL, Orthanc) are started by the
repository's own scripts, which install them the same way.
"""

from __future__ import annotations

import shutil
import subprocess

import pytest

#: Debian package of every program the tests may ask for.
DEBIAN_PACKAGES: dict[str, str] = {
    "dciodvfy": "dicom3tools",
    "sqlite3": "sqlite3",
    "dcmcjpeg": "dcmtk",
    "dcmdjpeg": "dcmtk",
    "dcmcjpls": "dcmtk",
    "dcmdump": "dcmtk",
    "dsrdump": "dcmtk",
    "gdcmconv": "libgdcm-tools",
    "Xvfb": "xvfb",
    "xdotool": "xdotool",
    "xwininfo": "x11-utils",
    "xwd": "x11-apps",
    "import": "imagemagick",
}

_APT = ["apt-get", "-o", "DPkg::Lock::Timeout=600"]


def _apt(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*_APT, *args], capture_output=True, text=True, timeout=900, check=False)


def install_debian_packages(*packages: str) -> str | None:
    """Install ``packages`` with apt-get; ``None`` when done, else why it failed."""
    if shutil.which("apt-get") is None:
        return "apt-get is not available on this machine"
    try:
        result = _apt("install", "-y", *packages)
        if result.returncode != 0:  # a fresh machine may have no package lists yet
            _apt("update")
            result = _apt("install", "-y", *packages)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"apt-get failed: {exc}"
    if result.returncode != 0:
        return (result.stderr or result.stdout)[-500:]
    return None


def system_tool(program: str, *extra_packages: str) -> str:
    """Path of ``program``, installing its Debian package (and ``extra_packages``) when missing.

    Skips the calling test, with the reason, when the program cannot be had.
    """
    package = DEBIAN_PACKAGES.get(program)
    if package is None:
        raise KeyError(f"{program!r} is not in tests/system_tools.DEBIAN_PACKAGES; add its package")
    found = shutil.which(program)
    missing_extra = [p for p in extra_packages if p]
    if found and not missing_extra:
        return found
    failure = install_debian_packages(*([] if found else [package]), *missing_extra)
    found = shutil.which(program)
    if not found:
        pytest.skip(f"{program} is missing and `apt-get install {package}` failed: {failure}")
    return found
