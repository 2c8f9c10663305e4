"""Rendering prompt variants into chat messages.

Templates are Jinja2 in a ``SandboxedEnvironment`` with ``StrictUndefined``: a template can
only read the variables it is given and a missing variable is an error, never an empty
string. A chat is built in this order:

1. the prompt's ``system`` persona (or the leading system messages of ``messages``);
2. few-shot examples as user/assistant turns (``fewshot.format: messages``, the default),
   the user turn being the prompt's template rendered with the example's variables;
3. the input's ``history``, only its last ``history_window`` messages (a turn is one
   message);
4. the prompt's ``template`` rendered with the input's variables as the final user turn
   (or the rest of ``messages``).

Template variables: the input's own fields (``{{ topic }}``), ``input`` (all of them),
``examples`` (the selected few-shot examples, each with its fields and ``output``) and
``k``.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from jinja2 import StrictUndefined, TemplateError, UndefinedError
from jinja2.sandbox import SandboxedEnvironment, SecurityError

from harness.records import Message

if TYPE_CHECKING:
    from harness.suite.schema import Example, InputSpec, PromptSpec, Suite

# ranks the example pool for an input: returns example indices, most similar first
Ranker = Callable[[str, Sequence[str]], list[int]]


class TemplateProblem(Exception):
    """A template failed to compile or render; ``field`` says which one."""

    def __init__(self, message: str, field: str = "template"):
        super().__init__(message)
        self.field = field


MAX_RENDERED_CHARS = 1_000_000  # a rendered template (or a value built in one) larger
MAX_POWER = 10_000  # than this, or a power beyond this exponent, is refused


class _BoundedEnvironment(SandboxedEnvironment):
    """The sandbox, with work bounded: ``*`` may not build a string or list over
    ``MAX_RENDERED_CHARS`` (``{{ 'a' * 10**9 }}`` would take gigabytes) and ``**`` may not
    raise to an exponent over ``MAX_POWER``."""

    intercepted_binops = frozenset(["*", "**"])

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "*":
            for seq, times in ((left, right), (right, left)):
                if isinstance(seq, (str, list, tuple)) and isinstance(times, int) and \
                        len(seq) * times > MAX_RENDERED_CHARS:
                    raise SecurityError(f"template builds a value of {len(seq) * times:,} "
                                        f"items (limit {MAX_RENDERED_CHARS:,})")
        if operator == "**" and isinstance(right, (int, float)) and abs(right) > MAX_POWER:
            raise SecurityError(f"template raises to the power {right} (limit {MAX_POWER:,})")
        return super().call_binop(context, operator, left, right)


@lru_cache(maxsize=1)
def _env() -> SandboxedEnvironment:
    return _BoundedEnvironment(undefined=StrictUndefined, autoescape=False,
                               keep_trailing_newline=False)


@lru_cache(maxsize=512)
def _compile(source: str):
    return _env().from_string(source)


def render(source: str, variables: dict[str, Any], field: str = "template") -> str:
    """Render one template string; raise ``TemplateProblem`` naming the variable at fault."""
    try:
        text = _compile(source).render(**variables).strip()
    except UndefinedError as exc:
        raise TemplateProblem(f"{exc.message}; available variables: "
                              f"{', '.join(sorted(variables))}", field) from None
    except TemplateError as exc:
        raise TemplateProblem(f"template error: {exc}", field) from None
    except (OverflowError, MemoryError, RecursionError, ValueError, TypeError,
            ArithmeticError) as exc:  # e.g. range() or arithmetic past the sandbox's limits
        raise TemplateProblem(f"template error: {type(exc).__name__}: {exc}", field) from None
    if len(text) > MAX_RENDERED_CHARS:
        raise TemplateProblem(f"template renders {len(text):,} characters (limit "
                              f"{MAX_RENDERED_CHARS:,})", field)
    return text


def select_examples(prompt: PromptSpec, pool: Sequence[Example], inp: InputSpec, seed: int,
                    k: int | None = None, ranker: Ranker | None = None) -> list[Example]:
    """Return the few-shot examples ``prompt`` shows for ``inp``.

    ``fixed``: the listed ``ids`` in order (the first k when k is given, by the ``fewshot_k``
    axis or the prompt's own ``k``); ``random``: k drawn
    without replacement, seeded by (suite seed, prompt id, input id), so each input gets a
    stable draw; ``similar``: the k nearest to the input's text by ``ranker``. An example
    whose id equals the input's id is never shown for it.
    """
    spec = prompt.fewshot
    if spec is None:
        return []
    candidates = [e for e in pool if e.id != inp.id]
    if spec.strategy == "fixed":
        if k is None and "k" in spec.model_fields_set:
            k = spec.k
        by_id = {e.id: e for e in candidates}
        chosen = [by_id[i] for i in spec.ids if i in by_id]
        return chosen[:k] if k is not None else chosen
    if k is None:
        k = spec.k
    k = min(k, len(candidates))
    if k == 0:
        return []
    if spec.strategy == "random":
        rng = random.Random(f"{seed}:{prompt.id}:{inp.id}")
        return rng.sample(candidates, k)
    if ranker is None:
        raise TemplateProblem("fewshot strategy `similar` needs an embedder", "fewshot")
    order = ranker(inp.text, [_example_text(e) for e in candidates])
    return [candidates[i] for i in order[:k]]


def _example_text(example: Example) -> str:
    strings = [v for v in example.vars.values() if isinstance(v, str)]
    return " ".join(strings) or example.output


def rank_examples(embedder: Any, query: str, candidates: list[str]) -> list[int]:
    """Rank few-shot candidates by embedding cosine similarity to the input, best first."""
    vectors = embedder.encode([query, *candidates])
    sims = vectors[1:] @ vectors[0]
    return sorted(range(len(candidates)), key=lambda i: -float(sims[i]))


def build_messages(prompt: PromptSpec, inp: InputSpec, examples: Sequence[Example]
                   ) -> list[Message]:
    """Return the chat for ``prompt`` applied to ``inp`` with ``examples`` (see module doc)."""
    shown = [{**e.vars, "output": e.output, "id": e.id} for e in examples]
    variables = {**inp.vars, "input": inp.vars, "examples": shown, "k": len(shown)}
    head: list[Message] = []
    tail: list[Message] = []
    if prompt.system is not None:
        head.append({"role": "system", "content": render(prompt.system, variables, "system")})
    if prompt.messages:
        leading = True
        for i, m in enumerate(prompt.messages):
            content = render(m.content, variables, f"messages.{i}.content")
            leading = leading and m.role == "system"
            (head if leading else tail).append({"role": m.role, "content": content})
    shots: list[Message] = []
    if prompt.fewshot and prompt.fewshot.format == "messages" and prompt.template:
        for ex in examples:
            ex_vars = {**ex.vars, "input": ex.vars, "examples": [], "k": 0}
            shots.append({"role": "user", "content": render(prompt.template, ex_vars)})
            shots.append({"role": "assistant", "content": ex.output})
    window = prompt.history_window
    history = [{"role": m.role, "content": m.content} for m in inp.history]
    history = history[-window:] if window else []
    if prompt.template is not None:
        tail.append({"role": "user", "content": render(prompt.template, variables)})
    return head + shots + history + tail


def render_constraints(prompt: PromptSpec, inp: InputSpec) -> tuple[tuple[str, Any], ...]:
    """Return ``prompt``'s constraints for ``inp`` as sorted (name, value) pairs: the numeric
    limits that are set, and ``must_include`` / ``must_not_include`` as tuples of strings
    rendered with the input's variables. Empty when the prompt has no constraints."""
    if prompt.constraints is None:
        return ()
    variables = {**inp.vars, "input": inp.vars}
    out: dict[str, Any] = {}
    for name, value in prompt.constraints.model_dump(exclude_none=True).items():
        if isinstance(value, list):
            if value:
                out[name] = tuple(render(t, variables, f"constraints.{name}.{i}")
                                  for i, t in enumerate(value))
        else:
            out[name] = value
    return tuple(sorted(out.items()))


def check_prompt(prompt: PromptSpec, suite: Suite) -> None:
    """Render ``prompt`` (and its constraints) for every input so template errors surface
    at load."""
    for inp in suite.inputs:
        examples = suite.examples[: prompt.fewshot.k] if prompt.fewshot else []
        build_messages(prompt, inp, examples)
        render_constraints(prompt, inp)
