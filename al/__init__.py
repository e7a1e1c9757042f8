"""al: active-learning simulations for multi-label text classification.

Importing ``al`` is light: torch, transformers and faiss are imported only by
the modules that use them.
"""
from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
