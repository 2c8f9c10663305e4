"""LLM judges (docs/judges.md): ``base`` (a kind is one ``JudgeKind`` class, registered by
name), ``kinds`` (the built-in rubric, checklist, pairwise and panel), ``registry`` (looking
kinds up, plugins' included), ``templates`` (what judges are asked, and the variables they
get), ``parse`` (reading their answers), ``calls`` (planning calls and turning verdicts into
values), ``execute`` (running them inside ``harness run``), ``reliability`` (whether to
believe them)."""
