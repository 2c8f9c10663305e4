"""Generation: running a plan through a backend into the store, locally or on Ray, with the
adaptive sweep."""
