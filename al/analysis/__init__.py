"""Reading run records and embeddings, and drawing: the only package that imports matplotlib.

``strategy_report``      the strategy comparison across runs (``python -m al.report``)
``comparison``           its statistics: normalised areas, exact paired tests, Holm, bootstrap intervals,
                         labeled texts to reach a target; which runs are complete and which belong together
``curves``               learning curves from run directories (``python -m al.plot``)
``embedding_analysis``   the embedding-space analysis that ``python -m al.analyze`` writes
``diagnostics``          its numbers for one split, also recorded per round by ``--diagnostics``:
                         ``proximity``, ``margins``, ``quality`` (and ``pca`` for the figures)
"""
