"""LLM judges (docs/judges.md): ``templates`` (what they are asked), ``parse`` (reading their
answers), ``calls`` (planning calls and turning verdicts into values), ``execute``
(running them inside ``harness run``), ``reliability`` (whether to believe them)."""
