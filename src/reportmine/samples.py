"""The bundled sample corpus: five real report pages, the default input of every command."""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def sample_corpus() -> Path:
    """Folder holding the sample corpus.

    In an installed wheel the files ship as package data
    (``reportmine/data/corpus``); in a source checkout or an editable install
    they are the repository's top-level ``corpus/``.
    """
    packaged = Path(str(resources.files("reportmine.data").joinpath("corpus")))
    if packaged.is_dir():
        return packaged
    checkout = Path(__file__).resolve().parents[2] / "corpus"
    if checkout.is_dir():
        return checkout
    raise FileNotFoundError("the sample corpus is missing from this installation of reportmine")
