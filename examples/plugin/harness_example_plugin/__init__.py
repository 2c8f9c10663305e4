"""An example harness plugin (see README.md beside this package)."""
