"""al: active-learning simulations for multi-label text classification.

Importing ``al`` is light: torch, transformers and faiss are imported only by
the modules that use them.
"""
from __future__ import annotations

import os
import sys

__version__ = "0.1.0"

__all__ = ["__version__"]

#: Packages al imports (its dependencies' top-level names): a file of the working directory named as one of these,
#: or as a module of the standard library, is imported in its place under ``python -m``.
DEPENDENCIES = frozenset({
    "numpy", "scipy", "sklearn", "torch", "transformers", "sentence_transformers", "tokenizers", "safetensors",
    "huggingface_hub", "faiss", "yaml", "tqdm", "matplotlib", "PIL", "fastapi", "starlette", "uvicorn", "pydantic",
    "ray", "small_text", "modAL", "pandas", "filelock", "requests", "packaging",
})
#: Standard-library names a user's own file often has that neither al nor its dependencies import.
_HARMLESS = frozenset({"test", "tests", "this", "antigravity", "__main__"})


def shadowing_files(folder: str, imported: set[str] | frozenset[str]) -> list[str]:
    """The files (``NAME.py``) and packages (``NAME/``) in ``folder`` named as a module of the standard library or of
    :data:`DEPENDENCIES` that is not ``imported`` yet: ``python -m`` puts ``folder`` first on ``sys.path``, so the
    first ``import NAME`` takes the user's file in its place."""
    try:
        entries = os.listdir(folder or ".")
    except OSError:
        return []
    names = set(sys.stdlib_module_names) | DEPENDENCIES
    found = []
    for entry in sorted(entries):
        stem, is_file = (entry[:-3], True) if entry.endswith(".py") else (entry, False)
        if stem not in names or stem in _HARMLESS or stem in imported:
            continue
        if is_file or os.path.isfile(os.path.join(folder or ".", entry, "__init__.py")):
            found.append(entry if is_file else f"{entry}/")
    return found


if sys.argv[:1] == ["-m"] and sys.path:  # python -m al.COMMAND, while the command is being found
    if _shadowing := shadowing_files(sys.path[0], frozenset(sys.modules)):
        print(f"warning: {', '.join(_shadowing)} in the working directory {'has' if len(_shadowing) == 1 else 'have'} "
              f"the name of a module of Python's standard library or of a package al uses, and python -m imports "
              f"{'it' if len(_shadowing) == 1 else 'them'} in its place: al may fail to start; rename "
              f"{'it' if len(_shadowing) == 1 else 'them'}, or run the installed command (al COMMAND)",
              file=sys.stderr)
