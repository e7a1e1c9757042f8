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
#: or as one of :data:`STDLIB_IMPORTED`, is imported in its place under ``python -m``.
DEPENDENCIES = frozenset({
    "numpy", "scipy", "sklearn", "torch", "transformers", "sentence_transformers", "tokenizers", "safetensors",
    "huggingface_hub", "faiss", "yaml", "tqdm", "matplotlib", "PIL", "fastapi", "starlette", "uvicorn", "pydantic",
    "ray", "small_text", "modAL", "pandas", "filelock", "requests", "packaging",
})
#: The standard library's modules that al's commands and the packages they use import (those of sys.modules, less
#: private ones, after importing every command, torch, transformers, sentence-transformers, scikit-learn,
#: matplotlib, FastAPI, uvicorn and faiss on Python 3.11): a file named as another (turtle.py) hides nothing al reads.
STDLIB_IMPORTED = frozenset({
    "abc", "argparse", "array", "ast", "asyncio", "atexit", "base64", "bdb", "binascii", "bisect", "builtins",
    "bz2", "cProfile", "calendar", "cmath", "cmd", "code", "codecs", "codeop", "collections", "colorsys",
    "concurrent", "configparser", "contextlib", "contextvars", "copy", "copyreg", "csv", "ctypes",
    "dataclasses", "datetime", "decimal", "difflib", "dis", "email", "encodings", "enum", "errno",
    "faulthandler", "fcntl", "filecmp", "fileinput", "fnmatch", "fractions", "functools", "gc", "genericpath",
    "getpass", "gettext", "glob", "grp", "gzip", "hashlib", "heapq", "hmac", "html", "http", "importlib",
    "inspect", "io", "ipaddress", "itertools", "json", "keyword", "linecache", "locale", "logging", "lzma",
    "marshal", "math", "mimetypes", "mmap", "multiprocessing", "ntpath", "numbers", "opcode", "operator", "os",
    "pathlib", "pdb", "pickle", "pickletools", "pkgutil", "platform", "plistlib", "posix", "posixpath",
    "pprint", "profile", "pstats", "pwd", "pydoc", "pyexpat", "queue", "quopri", "random", "re", "reprlib",
    "resource", "runpy", "secrets", "select", "selectors", "shlex", "shutil", "signal", "site", "socket",
    "socketserver", "sqlite3", "ssl", "stat", "statistics", "string", "stringprep", "struct", "subprocess",
    "sys", "sysconfig", "tarfile", "tempfile", "termios", "textwrap", "threading", "time", "timeit", "token",
    "tokenize", "tomllib", "traceback", "tracemalloc", "types", "typing", "unicodedata", "unittest", "urllib",
    "uuid", "warnings", "weakref", "xml", "zipfile", "zipimport", "zlib", "zoneinfo",
})


def shadowing_files(folder: str, imported: set[str] | frozenset[str]) -> list[str]:
    """The files (``NAME.py``) and packages (``NAME/``) in ``folder`` named as a module of :data:`STDLIB_IMPORTED` or
    :data:`DEPENDENCIES` that is not ``imported`` yet: ``python -m`` puts ``folder`` first on ``sys.path``, so the
    first ``import NAME`` takes the user's file in its place."""
    try:
        entries = os.listdir(folder or ".")
    except OSError:
        return []
    names = STDLIB_IMPORTED | DEPENDENCIES
    found = []
    for entry in sorted(entries):
        stem, is_file = (entry[:-3], True) if entry.endswith(".py") else (entry, False)
        if stem not in names or stem in imported:
            continue
        if is_file or os.path.isfile(os.path.join(folder or ".", entry, "__init__.py")):
            found.append(entry if is_file else f"{entry}/")
    return found


if sys.argv[:1] == ["-m"] and sys.path and not sys.flags.safe_path:  # python -m al.COMMAND, being found; -P: not
    if _shadowing := shadowing_files(sys.path[0], frozenset(sys.modules)):
        print(f"warning: {', '.join(_shadowing)} in the working directory {'has' if len(_shadowing) == 1 else 'have'} "
              f"the name of a module that al or a library it uses imports, and python -m imports "
              f"{'it' if len(_shadowing) == 1 else 'them'} in its place: al may fail to start; rename "
              f"{'it' if len(_shadowing) == 1 else 'them'}, or run the installed command (al COMMAND)",
              file=sys.stderr)
