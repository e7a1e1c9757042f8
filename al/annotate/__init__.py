"""``python -m al.annotate``: a local web page where a person is the annotator of the active-learning loop.

The loop is the simulation's own (:class:`al.engine.Simulation`) with a
:class:`~al.annotate.session.HumanAnnotator` in place of the gold labels; the
answers are kept in SQLite (:mod:`al.annotate.store`), the finished rounds in
``rounds.jsonl`` as for any run, so ``al.plot`` and ``al.report`` read a
session as they read a simulation. ``export`` writes the labeled texts in the
JSON-lines format ``--dataset jsonl`` reads (:mod:`al.annotate.export`).

Nothing here is imported by ``import al``; FastAPI, uvicorn and Jinja2 are
imported only by the server (``pip install -e ".[annotate]"``).
"""
