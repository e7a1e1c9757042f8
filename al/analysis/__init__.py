"""Reading run records and drawing: the only package that imports matplotlib."""
