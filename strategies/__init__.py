"""Built-in query strategies, one family per module, each registered by name.

Every module here is imported when the registry is first used, so a new
module only needs the :func:`al.registry.register` decorator.
"""
