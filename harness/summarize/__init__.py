"""The run summary: cells with intervals, the Pareto frontier, best cells, judges, ratings and
usage, built once per run."""
