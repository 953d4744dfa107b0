"""Start-up: importing the package and the CLI loads none of the heavy libraries.

``reportmine --help`` should answer at once (under 1 s); what makes
it slow is importing jieba (and its dictionary), pandas, scikit-learn,
networkx or numpy at module level. Not a timed test: ``python -X importtime``
lists every module a fresh interpreter imports, and none of these may appear.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

HEAVY = ("jieba", "pandas", "sklearn", "networkx", "numpy", "pyarrow", "duckdb", "rjieba", "dask")


def imported_modules(*args: str) -> set[str]:
    """Top-level names of the modules ``python -X importtime ARGS`` imports."""
    result = subprocess.run([sys.executable, "-X", "importtime", *args], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    names = set()
    for line in result.stderr.splitlines():
        if line.startswith("import time:") and line.count("|") == 2:
            name = line.rsplit("|", 1)[1].strip()
            if name != "imported package":  # the header line
                names.add(name.split(".")[0])
    return names


@pytest.mark.parametrize("args", [
    ("-c", "import reportmine"),
    ("-c", "import reportmine.cli"),
    ("-m", "reportmine", "--help"),
], ids=["package", "cli", "help"])
def test_no_heavy_imports(args: tuple[str, ...]) -> None:
    names = imported_modules(*args)
    assert "reportmine" in names  # the listing is read right
    assert not names & set(HEAVY), sorted(names & set(HEAVY))


def test_every_public_name_resolves() -> None:
    """The lazy package root (PEP 562) gives every name of ``__all__``, from the module that defines it."""
    import importlib

    import reportmine

    for name in reportmine.__all__:
        value = getattr(reportmine, name)
        module = getattr(value, "__module__", None)
        if module is not None and isinstance(value, type | type(len) | type(test_every_public_name_resolves)):
            # A class or function: the package gives the very object its defining module holds.
            assert getattr(importlib.import_module(module), name) is value, name
    assert set(reportmine.__all__) <= set(dir(reportmine))
    with pytest.raises(AttributeError, match="no attribute 'parse_files'"):
        reportmine.parse_files  # noqa: B018
