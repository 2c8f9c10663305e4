"""Transformers backend: the CPU default.

Generation runs ``harness.backends.continuous.decode``: continuous batching with a KV
cache, requests sorted by prompt length, finished rows leaving the batch and waiting ones
taking their slots, and per-row seeded sampling at a cost independent of the vocabulary
(``harness.backends.sampling``). A request's output depends only on its own seed and
parameters, not on which other requests share its batch (in float32; see ``dtype``):
every ``nn.Linear`` runs on whole 16-row blocks (``harness.backends.rows``), since CPUs
pick another float32 kernel for short products (issue 29), and attention over the
left-padded cache runs in float64 (``harness.backends.attention``), so the padding its
batch mates set does not reach its float32 results.

The number of rows decoded together is chosen from the model's KV-cache size per token and
the memory available (at most 128 on a CPU, where more rows stop paying; 256 on a GPU),
unless ``batch_size`` is given.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from harness.backends.attention import cache_itemsize
from harness.backends.attention import register as register_attention
from harness.backends.base import DTYPES, BackendConfigError, refuse_unhonoured
from harness.backends.chat import render_chat
from harness.backends.continuous import Job, decode, prefill_prompts
from harness.backends.rows import stabilize
from harness.records import Generation, Message, Request


def _torch():
    import torch

    return torch


class HFBackend:
    """Generate and score with a transformers causal LM on the CPU (or a GPU if present).

    ``dtype`` is ``float32`` (the default) or ``bfloat16``. bfloat16 decodes about twice
    as fast on a CPU with AVX512-BF16 and scores 2.8 times as fast, but its rounding
    depends on the shapes of the matrix products, so a request's text then also depends on
    its batch mates (measured: 32 of 40 texts changed when the batch changed; its request
    keys differ from float32's), and perplexities drift (mean |log ratio| 0.005, max 0.023
    on the default suite's 192 samples; cached apart from float32's).
    """

    name = "hf"
    # the sampling axes ``harness.backends.sampling`` applies (``SamplingParams``' fields)
    sampling_axes = ("temperature", "top_p", "top_k", "min_p", "repetition_penalty",
                     "max_tokens")

    def __init__(self, model_path: str, batch_size: int | None = None,
                 device: str | None = None, dtype: str = "float32"):
        torch = _torch()
        from transformers import AutoModelForCausalLM, AutoTokenizer
        from transformers.utils import logging as hf_logging

        if dtype not in DTYPES:
            raise BackendConfigError(f"unknown dtype {dtype!r}; expected one of "
                                     f"{', '.join(DTYPES)}")
        hf_logging.disable_progress_bar()  # the harness shows its own progress
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(model_path)
            self.model = AutoModelForCausalLM.from_pretrained(
                model_path, dtype=getattr(torch, dtype), attn_implementation=register_attention())
        except (OSError, ValueError) as exc:
            from harness.backends.models import ModelError

            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ModelError(f"could not load model {model_path!r}: {first}") from None
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        self.model.to(self.device).eval()  # type: ignore[arg-type]  # transformers' stub
        stabilize(self.model)  # every product on a whole number of 16-row blocks
        if self.tokenizer.pad_token_id is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self.dtype = dtype
        self.batch_size = batch_size or self._rows_for_memory()

    def _rows_for_memory(self, tokens_per_row: int = 1024) -> int:
        """Rows whose KV cache (at ``tokens_per_row`` tokens each) fits in a quarter of
        the memory available, capped at 128 on a CPU (where plain batched generate gains
        little past it: 64 rows 158 tok/s, 128 rows 164 on the embedded model) and 256 on
        a GPU."""
        torch = _torch()
        cfg = self.model.config
        layers = getattr(cfg, "num_hidden_layers", 32)
        heads = getattr(cfg, "num_attention_heads", 32)
        kv_heads = getattr(cfg, "num_key_value_heads", None) or heads
        head_dim = getattr(cfg, "head_dim", None) or cfg.hidden_size // heads
        per_row = 2 * layers * kv_heads * head_dim * tokens_per_row * \
            cache_itemsize(self.model.dtype, self.device)
        if self.device == "cuda":
            free, _ = torch.cuda.mem_get_info()
            cap = 256
        else:
            free, cap = _available_memory(), 128
        return max(1, min(cap, int(free // 4 // per_row)))

    # -- prompts -----------------------------------------------------------------
    def render(self, messages: Sequence[Message]) -> str:
        """Return the chat rendered with the model's chat template, ready for the reply."""
        return render_chat(self.tokenizer, messages)

    # -- generation --------------------------------------------------------------
    def generate(self, requests: Sequence[Request]) -> Iterator[Generation]:
        """Yield a Generation per request as soon as it is done (continuous batching)."""
        refuse_unhonoured(self.name, self.sampling_axes, requests)
        tok = self.tokenizer
        jobs = [Job(i, tok(self.render(r.chat), add_special_tokens=False)["input_ids"],
                    r.params, r.seed) for i, r in enumerate(requests)]
        for done in decode(self.model, jobs, eos_id=tok.eos_token_id, pad_id=tok.pad_token_id,
                           max_rows=self.batch_size, device=self.device):
            req = requests[done.index]
            yield Generation(
                key=req.key,
                text=str(tok.decode(done.tokens, skip_special_tokens=True)),
                prompt_tokens=len(jobs[done.index].prompt),
                completion_tokens=len(done.tokens),
                finish_reason="length" if done.length_limited else "stop",
                latency_s=done.seconds,
                backend=self.name,
            )

    # -- scoring -----------------------------------------------------------------
    def score(
        self, prompts: Sequence[Sequence[Message]], texts: Sequence[str]
    ) -> list[list[float]]:
        """Return per-token natural-log probabilities of each text given its chat prompt."""
        torch = _torch()
        tok = self.tokenizer
        pairs = []
        # a text without a prompt is scored from a start token alone (no chat template:
        # there is no chat to render, and its first token needs a position before it)
        start = [tok.bos_token_id if tok.bos_token_id is not None else tok.eos_token_id]
        for messages, text in zip(prompts, texts, strict=True):
            p = (tok(self.render(messages), add_special_tokens=False)["input_ids"]
                 if messages else start)
            t = tok(text, add_special_tokens=False)["input_ids"]
            pairs.append((p, t))
        # samples of one prompt side by side, so that a batch runs each prompt once
        order = sorted((i for i in range(len(pairs)) if pairs[i][1]),
                       key=lambda i: (len(pairs[i][0]), pairs[i][0], len(pairs[i][1])))
        result: list[list[float]] = [[] for _ in pairs]
        lengths = [len(p) + len(t) for p, t in pairs]
        with torch.inference_mode():
            for idx in _by_tokens(order, lengths, self.batch_size):
                for i, values in zip(idx, self._score_batch([pairs[i] for i in idx]),
                                     strict=True):
                    result[i] = values
        return result

    def _score_batch(self, pairs: list[tuple[list[int], list[int]]]) -> list[list[float]]:
        """Score (prompt ids, text ids) pairs: each distinct prompt runs once (left-padded,
        its last position predicting the text's first token), its cache is copied to the
        rows of its texts, and the texts (right-padded) run after it; only the text
        positions go through the LM head (a vocabulary row per prompt token would cost
        gigabytes)."""
        torch = _torch()
        pad, dev = self.tokenizer.pad_token_id, self.device
        _, p_mask, cache, logits = prefill_prompts(self.model, [p for p, _ in pairs], pad, dev)
        first = logits.float().log_softmax(dim=-1)
        out = [[float(first[r, t[0]])] for r, (_, t) in enumerate(pairs)]
        wt = max(len(t) for _, t in pairs) - 1
        if wt <= 0:
            return out
        t_ids = torch.full((len(pairs), wt), pad, dtype=torch.long)
        t_mask = torch.zeros((len(pairs), wt), dtype=torch.long)
        for r, (_, t) in enumerate(pairs):  # token j of a text predicts token j + 1
            t_ids[r, : len(t) - 1] = torch.tensor(t[:-1])
            t_mask[r, : len(t) - 1] = 1
        mask = torch.cat([p_mask, t_mask], dim=1)
        positions = p_mask.sum(1, keepdim=True) + torch.arange(wt).unsqueeze(0)
        hidden = self.model.base_model(input_ids=t_ids.to(dev), attention_mask=mask.to(dev),
                                       position_ids=positions.to(dev), past_key_values=cache,
                                       use_cache=True).last_hidden_state
        at = [(r, j) for r, (_, t) in enumerate(pairs) for j in range(len(t) - 1)]
        picked = hidden[torch.tensor([r for r, _ in at]), torch.tensor([j for _, j in at])]
        target = torch.tensor([pairs[r][1][j + 1] for r, j in at], device=dev)
        head = self.model.get_output_embeddings()
        values: list[float] = []
        for start in range(0, len(at), 1024):
            lp = head(picked[start : start + 1024]).float().log_softmax(dim=-1)
            values += lp.gather(1, target[start : start + 1024, None]).squeeze(1).tolist()
        for (r, _), v in zip(at, values, strict=True):
            out[r].append(v)
        return out

    def close(self) -> None:
        self.model = None  # type: ignore[assignment]  # frees the weights


SCORE_TOKENS = 16_384  # padded tokens per scoring forward pass


def _by_tokens(order: list[int], lengths: list[int], max_rows: int) -> Iterator[list[int]]:
    """Cut ``order`` into consecutive batches of at most ``max_rows`` rows and
    ``SCORE_TOKENS`` padded tokens (rows x the longest), so long texts do not take the
    whole memory at once."""
    batch: list[int] = []
    width = 0
    for i in order:
        if batch and (len(batch) >= max_rows
                      or (len(batch) + 1) * max(width, lengths[i]) > SCORE_TOKENS):
            yield batch
            batch, width = [], 0
        batch.append(i)
        width = max(width, lengths[i])
    if batch:
        yield batch


def _available_memory() -> int:
    """Bytes of memory available (``MemAvailable`` on Linux; 4 GiB when unknown)."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 4 << 30
