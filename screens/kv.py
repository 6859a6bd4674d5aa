"""Loading each module's kv file (``name.py`` -> ``name.kv`` beside it) exactly once."""

from __future__ import annotations

from pathlib import Path

from kivy.lang import Builder

_loaded: set[Path] = set()


def load_kv(module_file: str) -> None:
    """Load ``module_file`` with its suffix made ``.kv`` (pass a module's ``__file__``)."""
    path = Path(module_file).with_suffix(".kv")
    if path not in _loaded:
        Builder.load_file(str(path))
        _loaded.add(path)
