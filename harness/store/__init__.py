"""The SQLite store and its migrations."""
