"""The harness command line: parse, call the library, print."""
