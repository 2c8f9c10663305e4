"""OpenAI-compatible HTTP backend: ``vllm serve``, llama.cpp's server, hosted APIs.

Requests go to ``/v1/chat/completions`` (the server applies the chat template) or
``/v1/completions`` (the prompt is rendered here with the model's own tokenizer, exactly
as the ``hf`` backend renders it), one HTTP request per sample, with the request's seed.

The HTTP work runs on an asyncio event loop in a background thread; ``generate`` hands each
finished ``Generation`` to the caller through a queue, so the caller stores it while the
rest are still in flight. At most ``Server.concurrency`` requests are outstanding at once.
Each attempt has a deadline of ``Server.timeout`` seconds. Failed attempts (HTTP 408, 409,
429, 5xx, connection errors, timeouts, malformed JSON, truncated bodies) are retried up to
``Server.max_retries`` times with exponential backoff and full jitter; a ``Retry-After``
header in seconds overrides the backoff. Other 4xx answers are not retried. When a request
still fails, ``generate`` raises ``BackendError`` naming it, but only after yielding every
generation that succeeded.

The API key is read from the environment variable named by ``Server.api_key_env`` when the
backend is created and is only ever put in the ``Authorization`` header: it is not stored on
the backend's public attributes, not logged and not part of any error message.
"""

from __future__ import annotations

import asyncio
import os
import queue
import random
import threading
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from harness.backends.base import BackendConfigError, BackendError, refuse_unhonoured
from harness.backends.chat import render_chat
from harness.backends.replies import Fatal, NoText, Retryable, check_response, parse_choice
from harness.records import Generation, Message, Request
from harness.secrets import register_secret

if TYPE_CHECKING:
    import httpx

    from harness.backends.server import Server

_DONE = object()


@dataclass
class _Failure:
    key: str
    error: str
    fatal: bool = False  # retrying (or rerunning) cannot fix it


class OpenAIBackend:
    """Generate (and score, where the server allows) through an OpenAI-compatible API."""

    name = "openai"
    # ``SamplingParams``' fields sent under the same name. The API's own are always sent;
    # the rest (vLLM's extra sampling fields) only when set to other than their default
    # (off), so that strict servers (hosted APIs) that reject unknown fields still work.
    ALWAYS_SENT = ("temperature", "top_p", "max_tokens")
    sampling_axes = (*ALWAYS_SENT, "top_k", "min_p", "repetition_penalty")

    def __init__(self, server: Server, model: str, *, backoff_base: float = 0.5,
                 backoff_max: float = 30.0):
        """Prepare a client for ``server``; ``model`` is sent unless ``server.model`` is set.

        ``backoff_base`` and ``backoff_max`` (seconds) shape the retry delays: attempt ``i``
        waits a uniform random time in ``[0, min(backoff_max, backoff_base * 2**i)]``.
        """
        self.server = server
        self.model = model
        self.served_model = server.model or model
        urls = server.base_url if isinstance(server.base_url, list) else [server.base_url]
        if not urls:
            raise BackendConfigError("server.base_url is empty; give at least one URL")
        bad = [u for u in urls if not str(u).startswith(("http://", "https://"))]
        if bad:
            raise BackendConfigError(f"server.base_url {bad[0]!r} is not an http(s) URL")
        self.base_urls = [u.rstrip("/") for u in urls]
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self._headers = {"Content-Type": "application/json"}
        if server.api_key_env:
            raw = os.environ.get(server.api_key_env)
            if raw:
                register_secret(raw)
            key = (raw or "").strip()  # a trailing newline from `$(cat keyfile)` is common
            if not key:
                raise BackendConfigError(
                    f"server.api_key_env names ${server.api_key_env}, which is not set; "
                    f"export it with the API key")
            if any(not 0x21 <= ord(ch) <= 0x7E for ch in key):
                raise BackendConfigError(
                    f"the API key in ${server.api_key_env} contains a space, a control "
                    "character or a non-ASCII character, which an HTTP header cannot carry; "
                    "check the variable's value")
            self._headers["Authorization"] = f"Bearer {key}"
        self._tokenizer: Any = None
        self._outstanding = [0] * len(self.base_urls)
        # consecutive failed attempts per URL: at DOWN_AFTER a URL leaves the rotation
        # (used again only when every URL is down) until one of its attempts succeeds
        self._failures = [0] * len(self.base_urls)

    def __repr__(self) -> str:  # never show the headers (they hold the key)
        return f"OpenAIBackend(base_urls={self.base_urls!r}, model={self.served_model!r})"

    # -- prompts -----------------------------------------------------------------
    @property
    def tokenizer(self) -> Any:
        """The model's tokenizer (loaded on first use), for the completions endpoint."""
        if self._tokenizer is None:
            from pathlib import Path

            from harness.backends.models import resolve

            path = resolve(self.model)
            if not Path(path).is_dir():
                raise BackendError(
                    f"the openai backend needs the tokenizer of {self.model!r} on this machine "
                    f"to render prompts for /v1/completions and to score; give a local model "
                    f"directory as the model, or use endpoint: chat")
            from transformers import AutoTokenizer

            self._tokenizer = AutoTokenizer.from_pretrained(path)
        return self._tokenizer

    def render(self, messages: Sequence[Message]) -> str:
        """Return the chat rendered with the model's chat template, ready for the reply."""
        return render_chat(self.tokenizer, messages)

    # -- generation --------------------------------------------------------------
    def generate(self, requests: Sequence[Request]) -> Iterator[Generation]:
        """Yield a Generation per request as each completes (in completion order).

        Raises ``BackendError`` after the last success if any request failed for good.
        """
        requests = list(requests)
        if not requests:
            return
        refuse_unhonoured(self.name, self.sampling_axes, requests)
        if self.server.endpoint == "completions":
            prompts = {r.key: self.render(r.chat) for r in requests}
        else:
            prompts = {}

        def job(client: httpx.AsyncClient, req: Request) -> Callable[[], Awaitable[Generation]]:
            return lambda: self._generate_one(client, req, prompts.get(req.key))

        yield from self._run(requests, job, lambda r: r.key)

    async def _generate_one(self, client: httpx.AsyncClient, req: Request,
                            prompt: str | None) -> Generation:
        body = self._body(req, prompt)
        path = "/chat/completions" if prompt is None else "/completions"
        start = time.perf_counter()
        try:
            parsed, attempts = await self._post(client, path, body,
                                                lambda d: parse_choice(d, prompt))
        except NoText as exc:
            if not req.no_text_ok:
                raise
            # every attempt was answered without text (a refusal): that is the answer
            parsed, attempts = ("", "refused", exc.usage), self.server.max_retries + 1
        text, finish, (prompt_tokens, completion_tokens) = parsed
        return Generation(
            key=req.key, text=text, prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens, finish_reason=finish,
            latency_s=time.perf_counter() - start, backend=self.name,
            extra={"attempts": attempts})

    def _body(self, req: Request, prompt: str | None) -> dict[str, Any]:
        changed = req.params.changed()
        body: dict[str, Any] = {"model": self.served_model, "seed": req.seed, "n": 1}
        for axis in self.sampling_axes:
            if axis in self.ALWAYS_SENT or axis in changed:
                body[axis] = getattr(req.params, axis)
        if prompt is None:
            body["messages"] = req.chat
        else:
            body["prompt"] = prompt
        return body

    # -- scoring -----------------------------------------------------------------
    def score(
        self, prompts: Sequence[Sequence[Message]], texts: Sequence[str]
    ) -> list[list[float]]:
        """Return per-token natural-log probabilities of each text given its chat prompt.

        Uses ``/v1/completions`` with ``echo``, ``logprobs=1`` and the prompt sent as token
        ids (rendered prompt, then text, tokenized separately exactly as the ``hf`` backend
        does), so the text's tokens are the last ``len(text ids)`` prompt tokens. Raises
        ``BackendError`` when the server does not return prompt log-probabilities.
        """
        tok = self.tokenizer
        items = []
        for i, (messages, text) in enumerate(zip(prompts, texts, strict=True)):
            p = tok(self.render(messages), add_special_tokens=False)["input_ids"]
            t = tok(text, add_special_tokens=False)["input_ids"]
            items.append((i, p, t))
        result: list[list[float]] = [[] for _ in items]

        def job(client: httpx.AsyncClient, item: tuple) -> Callable[[], Awaitable[Any]]:
            return lambda: self._score_one(client, item)

        for index, logprobs in self._run(items, job, lambda it: f"score#{it[0]}"):
            result[index] = logprobs
        return result

    async def _score_one(self, client: httpx.AsyncClient,
                         item: tuple[int, list[int], list[int]]) -> tuple[int, list[float]]:
        index, p, t = item
        if not t:
            return index, []
        body = {"model": self.served_model, "prompt": p + t, "max_tokens": 1, "echo": True,
                "logprobs": 1, "temperature": 0.0}

        def parse(data: Any) -> list[float]:
            try:
                lps = data["choices"][0]["logprobs"]["token_logprobs"]
            except (KeyError, IndexError, TypeError):
                raise Fatal("the server returned no prompt log-probabilities; the openai "
                             "backend cannot score with it; set scorer: hf") from None
            if not isinstance(lps, list) or len(lps) < len(p) + len(t):
                raise Fatal("the server did not echo the prompt's log-probabilities; the "
                             "openai backend cannot score with it; set scorer: hf")
            try:
                return [float(x) for x in lps[len(p): len(p) + len(t)]]
            except (TypeError, ValueError):  # null, "x", a list: the server's bug
                raise Fatal("the server's prompt log-probabilities are not all numbers; "
                             "the openai backend cannot score with it; set scorer: hf"
                             ) from None

        logprobs, _ = await self._post(client, "/completions", body, parse)
        return index, logprobs

    def close(self) -> None:
        """Nothing to release: each ``generate`` call opens and closes its own client."""

    # -- the event loop in a background thread -------------------------------------
    def _run(self, items: list, job: Callable, key_of: Callable[[Any], str]) -> Iterator[Any]:
        """Run ``job(client, item)()`` for every item on a background event loop and yield
        each result as it arrives; raise ``BackendError`` after the last one if any failed.
        """
        results: queue.Queue = queue.Queue()
        loop = asyncio.new_event_loop()
        main_task: list[asyncio.Task] = []

        async def worker(client: httpx.AsyncClient, sem: asyncio.Semaphore, item: Any) -> None:
            async with sem:
                try:
                    results.put(await job(client, item)())
                except Retryable as exc:
                    results.put(_Failure(key_of(item), str(exc)))
                except Fatal as exc:
                    results.put(_Failure(key_of(item), str(exc), fatal=True))
                except Exception as exc:  # a bug or an unexpected error: report, don't hang
                    results.put(_Failure(key_of(item), f"{type(exc).__name__}: {exc}"))

        async def main() -> None:
            import httpx

            sem = asyncio.Semaphore(self.server.concurrency)
            limits = httpx.Limits(max_connections=self.server.concurrency,
                                  max_keepalive_connections=self.server.concurrency)
            timeout = httpx.Timeout(self.server.timeout)
            async with httpx.AsyncClient(headers=self._headers, limits=limits,
                                         timeout=timeout) as client:
                await asyncio.gather(*(worker(client, sem, it) for it in items))

        def thread_main() -> None:
            asyncio.set_event_loop(loop)
            task = loop.create_task(main())
            main_task.append(task)
            try:
                loop.run_until_complete(task)
            except asyncio.CancelledError:
                pass
            except Exception as exc:  # pragma: no cover - defensive
                results.put(_Failure("(client)", f"{type(exc).__name__}: {exc}"))
            finally:
                loop.close()
                results.put(_DONE)

        thread = threading.Thread(target=thread_main, name="harness-openai", daemon=True)
        thread.start()
        failures: list[_Failure] = []
        try:
            while True:
                item = results.get()
                if item is _DONE:
                    break
                if isinstance(item, _Failure):
                    failures.append(item)
                else:
                    yield item
        finally:
            if thread.is_alive():  # the caller stopped early: cancel what is in flight
                if main_task:
                    loop.call_soon_threadsafe(main_task[0].cancel)
                thread.join(timeout=10)
        if failures:
            first = failures[0]
            message = (f"{len(failures)} of {len(items)} request(s) to "
                       f"{', '.join(self.base_urls)} failed (retried up to "
                       f"{self.server.max_retries} times where retrying could help); first: "
                       f"request {first.key[:12]}: {first.error}")
            if all(f.fatal for f in failures):
                # a refusal (HTTP 400, 401, 404, a reply without what was asked): running
                # again asks the same and fails the same, so it is the configuration's fault
                raise BackendConfigError(
                    message + "\nthe server refused every one of them; running again will "
                    "not help: check the model name, the key and the request parameters "
                    "(what was generated is stored)")
            raise BackendError(message)

    async def _post(self, client: httpx.AsyncClient, path: str, body: dict[str, Any],
                    parse: Callable[[Any], Any]) -> tuple[Any, int]:
        """POST ``body`` to ``path`` with retries; return ``(parse(json), attempts)``.

        Raises ``Retryable`` (retries exhausted) or ``Fatal`` (not worth retrying).
        """
        import httpx

        last: Retryable | None = None
        failed_slot = -1
        for attempt in range(self.server.max_retries + 1):
            if last is not None:
                await asyncio.sleep(self._delay(attempt - 1, last.retry_after))
            slot = self._pick(failed_slot)
            url = self.base_urls[slot] + path
            self._outstanding[slot] += 1
            try:
                resp = await asyncio.wait_for(client.post(url, json=body),
                                              timeout=self.server.timeout)
                data = check_response(resp)
                self._failures[slot] = 0
                return parse(data), attempt + 1
            except Retryable as exc:
                last = exc
            except (asyncio.TimeoutError, httpx.TimeoutException):
                last = Retryable(f"no answer within {self.server.timeout:g} s")
            except httpx.HTTPError as exc:  # connection refused/reset, truncated body, ...
                last = Retryable(f"{type(exc).__name__}: {exc or 'connection failed'}")
            finally:
                self._outstanding[slot] -= 1
            self._failures[slot] += 1
            failed_slot = slot
        assert last is not None
        raise last

    DOWN_AFTER = 3

    def _pick(self, avoid: int) -> int:
        """Return the URL slot for the next attempt: servers in rotation first, then not the
        one this request just failed on, then the fewest outstanding requests."""
        return min(range(len(self.base_urls)),
                   key=lambda i: (self._failures[i] >= self.DOWN_AFTER, i == avoid,
                                  self._outstanding[i]))

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        """Return seconds to wait before retry ``attempt`` (0-based)."""
        if retry_after is not None:
            return min(retry_after, max(self.backoff_max, self.server.timeout))
        return random.uniform(0, min(self.backoff_max, self.backoff_base * 2**attempt))
