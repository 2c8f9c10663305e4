"""Batched transformers backend: the CPU default.

Requests are grouped into batches of rows (one row per sample, prompts left-padded) and
each batch is one ``model.generate`` call, so several prompts and several samples of each
share every forward pass. Sampling is done by ``_RowSampler`` with one ``torch.Generator``
per row seeded from the request's seed, and each row has its own temperature, top-p,
top-k, min-p, repetition penalty and token limit. A request's output therefore depends
only on its own seed and parameters, not on which other requests share its batch, and a
mixed grid (several temperatures) still fills whole batches.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence

from harness.backends.base import chunked
from harness.records import Generation, Message, Request


def _torch():
    import torch

    return torch


class HFBackend:
    """Generate and score with a transformers causal LM on the CPU (or a GPU if present)."""

    name = "hf"

    def __init__(self, model_path: str, batch_size: int = 32, device: str | None = None):
        torch = _torch()
        from transformers import AutoModelForCausalLM, AutoTokenizer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # the harness shows its own progress
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(model_path)
            self.model = AutoModelForCausalLM.from_pretrained(model_path)
        except (OSError, ValueError) as exc:
            from harness.models import ModelError

            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ModelError(f"could not load model {model_path!r}: {first}") from None
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        self.model.to(self.device).eval()
        if self.tokenizer.pad_token_id is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self.batch_size = batch_size

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
        """Yield a Generation per request, one batch at a time, in the order given."""
        for batch in chunked(list(requests), self.batch_size):
            yield from self._generate_batch(batch)

    def _generate_batch(self, batch: Sequence[Request]) -> list[Generation]:
        torch = _torch()
        from transformers import GenerationConfig, LogitsProcessorList

        tok = self.tokenizer
        tok.padding_side = "left"
        prompts = [self.render(r.chat) for r in batch]
        enc = tok(prompts, return_tensors="pt", padding=True, add_special_tokens=False)
        enc = {k: v.to(self.device) for k, v in enc.items()}
        prompt_len = enc["input_ids"].shape[1]
        true_lens = enc["attention_mask"].sum(dim=1)
        sampler = _RowSampler(batch, prompt_len - true_lens, prompt_len, tok.eos_token_id)
        config = GenerationConfig(
            max_new_tokens=max(r.params.max_tokens for r in batch),
            do_sample=False,  # _RowSampler has already sampled; greedy picks its choice
            pad_token_id=tok.pad_token_id,
            eos_token_id=tok.eos_token_id,
        )
        start = time.perf_counter()
        with torch.inference_mode():
            out = self.model.generate(
                **enc, generation_config=config, logits_processor=LogitsProcessorList([sampler])
            )
        elapsed = time.perf_counter() - start
        gens = []
        for row, req in enumerate(batch):
            new = out[row, prompt_len:].tolist()
            if tok.eos_token_id in new:
                new = new[: new.index(tok.eos_token_id)]
            finish = "length" if len(new) >= req.params.max_tokens else "stop"
            gens.append(
                Generation(
                    key=req.key,
                    text=tok.decode(new, skip_special_tokens=True),
                    prompt_tokens=int(true_lens[row]),
                    completion_tokens=len(new),
                    finish_reason=finish,
                    latency_s=elapsed / len(batch),
                    backend=self.name,
                )
            )
        return gens

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
        for idx in chunked(order, self.batch_size):
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


class _RowSampler:
    """A logits processor that samples each row with its own generator and parameters.

    It returns scores that are -inf everywhere but at the sampled token, so the greedy
    step of ``generate`` takes exactly that token. Order of operations per row, as in
    transformers and vLLM: repetition penalty (CTRL, Keskar et al. 2019) on the raw logits,
    temperature, then top-k, top-p (nucleus, Holtzman et al. 2019) and min-p (Nguyen et al.
    2024) filtering, then inverse-CDF sampling with one uniform draw from the row's
    generator. Temperature 0 means greedy.
    """

    def __init__(self, batch: Sequence[Request], pad_counts, prompt_len: int, eos_id: int):
        torch = _torch()
        self.torch = torch
        self.generators = [torch.Generator().manual_seed(r.seed) for r in batch]
        p = [r.params for r in batch]
        self.temperature = torch.tensor([x.temperature for x in p]).unsqueeze(1)
        self.top_p = torch.tensor([x.top_p for x in p]).unsqueeze(1)
        self.top_k = torch.tensor([x.top_k for x in p])
        self.min_p = torch.tensor([x.min_p for x in p]).unsqueeze(1)
        self.penalty = torch.tensor([x.repetition_penalty for x in p]).unsqueeze(1)
        self.max_tokens = torch.tensor([x.max_tokens for x in p])
        self.pad_counts = pad_counts.cpu()
        self.prompt_len = prompt_len
        self.eos_id = eos_id

    def __call__(self, input_ids, scores):
        torch = self.torch
        device = scores.device
        logits = scores.float().cpu()
        ids = input_ids.cpu()
        batch, vocab = logits.shape
        if (self.penalty != 1.0).any():
            # penalise tokens already in the row (prompt + generated), never the padding
            valid = torch.arange(ids.shape[1]).unsqueeze(0) >= self.pad_counts.unsqueeze(1)
            seen = torch.zeros_like(logits, dtype=torch.bool)
            seen.scatter_(1, ids, valid)
            penalised = torch.where(logits > 0, logits / self.penalty, logits * self.penalty)
            logits = torch.where(seen, penalised, logits)
        greedy = (self.temperature <= 0).squeeze(1)
        logits = logits / self.temperature.clamp(min=1e-6)
        sorted_logits, sorted_idx = logits.sort(dim=-1, descending=True)
        ranks = torch.arange(vocab).unsqueeze(0)
        drop = (self.top_k.unsqueeze(1) > 0) & (ranks >= self.top_k.unsqueeze(1))
        probs = sorted_logits.softmax(dim=-1)
        cum = probs.cumsum(dim=-1)
        # top-p keeps the smallest prefix whose mass reaches top_p
        drop |= ((cum - probs) >= self.top_p) & (self.top_p < 1.0)
        drop |= probs < self.min_p * probs[:, :1]
        drop[:, 0] = False  # the most likely token always survives
        probs = probs.masked_fill(drop, 0.0)
        cum = probs.cumsum(dim=-1)
        u = torch.cat([torch.rand(1, generator=g) for g in self.generators]).unsqueeze(1)
        pick = torch.searchsorted(cum, u * cum[:, -1:]).clamp(max=vocab - 1).squeeze(1)
        pick = torch.where(greedy, torch.zeros_like(pick), pick)
        chosen = sorted_idx.gather(1, pick.unsqueeze(1)).squeeze(1)
        generated = ids.shape[1] - self.prompt_len
        chosen = torch.where(generated >= self.max_tokens, self.eos_id, chosen)
        out = torch.full_like(scores, float("-inf"))
        out[torch.arange(batch, device=device), chosen.to(device)] = 0.0
        return out
