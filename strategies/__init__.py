"""Built-in query strategies, one family per module.

Each is registered by name through the ``al.strategies`` entry-point group
(families ``smalltext:NAME`` and ``modal:NAME`` through
``al.strategy_families``), declared in ``setup.cfg`` exactly as a third-party
package declares its own: a new module needs a line there (and a reinstall,
``pip install -e .``). The ``@register`` decorators name the classes as well,
for code that imports a module directly.
"""
