"""Transformers backend: the CPU default.

Generation runs ``harness.backends.continuous.decode``: continuous batching with a KV
cache, requests sorted by prompt length, finished rows leaving the batch and waiting ones
taking their slots, and per-row seeded sampling at a cost independent of the vocabulary
(``harness.backends.sampling``). A request's output depends only on its own seed and
parameters, not on which other requests share its batch (in float32; see ``dtype``).

The number of rows decoded together is chosen from the model's KV-cache size per token and
the memory available (at most 128 on a CPU, where more rows stop paying; 256 on a GPU),
unless ``batch_size`` is given.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from harness.backends.base import DTYPES, BackendConfigError
from harness.backends.continuous import Job, decode
from harness.records import Generation, Message, Request


def _torch():
    import torch

    return torch


class HFBackend:
    """Generate and score with a transformers causal LM on the CPU (or a GPU if present).

    ``dtype`` is ``float32`` (the default) or ``bfloat16``. bfloat16 decodes about twice
    as fast on a CPU with AVX512-BF16, but its rounding depends on the shapes of the
    matrix products, so a request's text then also depends on its batch mates (measured:
    32 of 40 texts changed when the batch changed) and its request key says so.
    """

    name = "hf"

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
                model_path, dtype=getattr(torch, dtype))
        except (OSError, ValueError) as exc:
            from harness.models import ModelError

            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ModelError(f"could not load model {model_path!r}: {first}") from None
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        self.model.to(self.device).eval()
        if self.tokenizer.pad_token_id is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self.dtype = dtype
        self.batch_size = batch_size or self._rows_for_memory()

    def _rows_for_memory(self, tokens_per_row: int = 1024) -> int:
        """Rows whose KV cache (at ``tokens_per_row`` tokens each) fits in a quarter of
        the memory available, capped at 128 on a CPU (throughput stops growing there on
        the embedded model: 64 rows 229 tok/s, 128 rows 244) and 256 on a GPU."""
        torch = _torch()
        cfg = self.model.config
        layers = getattr(cfg, "num_hidden_layers", 32)
        heads = getattr(cfg, "num_attention_heads", 32)
        kv_heads = getattr(cfg, "num_key_value_heads", None) or heads
        head_dim = getattr(cfg, "head_dim", None) or cfg.hidden_size // heads
        per_row = 2 * layers * kv_heads * head_dim * tokens_per_row * self.model.dtype.itemsize
        if self.device == "cuda":
            free, _ = torch.cuda.mem_get_info()
            cap = 256
        else:
            free, cap = _available_memory(), 128
        return max(1, min(cap, int(free // 4 // per_row)))

    # -- prompts -----------------------------------------------------------------
    def render(self, messages: Sequence[Message]) -> str:
        """Return the chat rendered with the model's chat template, ready for the reply."""
        if getattr(self.tokenizer, "chat_template", None):
            return self.tokenizer.apply_chat_template(
                list(messages), tokenize=False, add_generation_prompt=True
            )
        return "\n\n".join(m["content"] for m in messages) + "\n\n"

    # -- generation --------------------------------------------------------------
    def generate(self, requests: Sequence[Request]) -> Iterator[Generation]:
        """Yield a Generation per request as soon as it is done (continuous batching)."""
        tok = self.tokenizer
        jobs = [Job(i, tok(self.render(r.chat), add_special_tokens=False)["input_ids"],
                    r.params, r.seed) for i, r in enumerate(requests)]
        for done in decode(self.model, jobs, eos_id=tok.eos_token_id, pad_id=tok.pad_token_id,
                           max_rows=self.batch_size, device=self.device):
            req = requests[done.index]
            yield Generation(
                key=req.key,
                text=tok.decode(done.tokens, skip_special_tokens=True),
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
        order = sorted(range(len(pairs)), key=lambda i: len(pairs[i][0]) + len(pairs[i][1]))
        result: list[list[float]] = [[] for _ in pairs]
        decoder, head = self.model.base_model, self.model.get_output_embeddings()
        for idx in _by_tokens(order, [len(p) + len(t) for p, t in pairs], self.batch_size):
            seqs = [pairs[i][0] + pairs[i][1] for i in idx]
            width = max(len(s) for s in seqs)
            ids = torch.full((len(seqs), width), tok.pad_token_id, dtype=torch.long)
            mask = torch.zeros((len(seqs), width), dtype=torch.long)
            for row, s in enumerate(seqs):  # right padding: positions start at 0 for all
                ids[row, : len(s)] = torch.tensor(s)
                mask[row, : len(s)] = 1
            # Only the text's positions need logits: run the decoder, then the LM head on
            # just those hidden states (a full vocabulary row per prompt token would cost
            # gigabytes). Token j of a text sits at p_len + j and is predicted at p_len + j - 1.
            rows, cols, targets, owner = [], [], [], []
            for row, i in enumerate(idx):
                p_len, t_len = len(pairs[i][0]), len(pairs[i][1])
                for j in range(t_len):
                    rows.append(row)
                    cols.append(p_len + j - 1)
                    targets.append(pairs[i][1][j])
                    owner.append(i)
            if not rows:
                continue
            with torch.inference_mode():
                hidden = decoder(input_ids=ids.to(self.device),
                                 attention_mask=mask.to(self.device)).last_hidden_state
                picked = hidden[torch.tensor(rows), torch.tensor(cols)]
                target = torch.tensor(targets, device=self.device)
                values = []
                for start in range(0, len(rows), 1024):
                    logits = head(picked[start : start + 1024]).float()
                    lp = torch.log_softmax(logits, dim=-1)
                    values += lp.gather(1, target[start : start + 1024, None]).squeeze(1).tolist()
            for i, v in zip(owner, values, strict=True):
                result[i].append(v)
        return result

    def close(self) -> None:
        self.model = None


SCORE_TOKENS = 16_384  # padded tokens per scoring forward pass


def _by_tokens(order: list[int], lengths: list[int], max_rows: int) -> Iterator[list[int]]:
    """Cut ``order`` (sorted by length) into batches of at most ``max_rows`` rows and
    ``SCORE_TOKENS`` padded tokens, so long texts do not take the whole memory at once."""
    batch: list[int] = []
    for i in order:
        if batch and (len(batch) >= max_rows
                      or (len(batch) + 1) * lengths[i] > SCORE_TOKENS):  # i: the longest
            yield batch
            batch = []
        batch.append(i)
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
