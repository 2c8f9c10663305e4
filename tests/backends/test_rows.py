"""The premise of the float32 guarantee, checked on the machine the tests run on: a row's
result does not depend on how many rows share its product (``harness.backends.rows``),
nor a row's sum, nor a text's embedding on the texts embedded with it. A BLAS picks its
kernel by shape and CPU; a new kind of machine whose kernels break this fails here, with
a message naming its CPU and kernel path (issue 29)."""

from __future__ import annotations

import platform

import pytest

# the embedded model's products: MLP up and down, attention q/o and k/v, the LM head
SHAPES = [(576, 1536), (1536, 576), (576, 576), (576, 192), (576, 49152)]
ROW_COUNTS = [*range(1, 70), 127, 128, 129, 200]


def machine() -> str:
    """The CPU model line with its family, model and vector features, and torch's kernel
    path (vector ISA, MKL and oneDNN versions, threads): what decides which kernel a
    product takes."""
    import torch

    info: dict[str, str] = {}
    try:
        for line in open("/proc/cpuinfo", encoding="utf-8"):
            key, _, value = (p.strip() for p in line.partition(":"))
            info.setdefault(key, value)
            if key == "flags":
                break
    except OSError:
        pass
    flags = set(info.get("flags", "").split())
    features = [f for f in ("avx2", "avx512f", "avx512_bf16", "amx_bf16", "amx_tile")
                if f in flags]
    cpu = (f"{info.get('model name', platform.processor())} (family {info.get('cpu family')} "
           f"model {info.get('model')}; {' '.join(features)})")
    config = [line.strip() for line in torch.__config__.show().splitlines()
              if any(k in line for k in ("CPU capability", "Math Kernel", "MKL-DNN"))]
    return (f"CPU {cpu}; torch {torch.__version__}, mkldnn "
            f"{'on' if torch.backends.mkldnn.is_available() else 'off'}, "
            f"{torch.get_num_threads()} threads; " + "; ".join(config))


def _differing(fn, x, reference) -> list[int]:
    """Row counts m (and offsets) where ``fn(x[o:o+m])`` differs bitwise from the same rows
    of ``reference``."""
    import torch

    bad = []
    for m in ROW_COUNTS:
        for offset in (0, 3):
            if offset + m <= len(x) and not torch.equal(fn(x[offset:offset + m]),
                                                        reference[offset:offset + m]):
                bad.append(m)
                break
    return bad


@pytest.mark.parametrize("shape,block", [(s, 16) for s in SHAPES] + [((1536, 576), 48)],
                         ids=[*(f"{k}x{n}" for k, n in SHAPES), "1536x576-48-row-blocks"])
def test_a_rows_float32_product_does_not_depend_on_the_row_count(shape, block):
    """Every row count from 1 to 69, and 127-129 and 200 rows, at two offsets: each row
    of ``rows.linear`` bitwise equal to the same row of a 208-row product (its 16-row
    blocks, and 48-row ones: any fixed block holds, not one tuned to a CPU)."""
    import functools

    import torch

    from harness.backends.rows import linear as blocked

    linear = functools.partial(blocked, block=block)

    k, n = shape
    gen = torch.Generator().manual_seed(k * n)
    x = torch.randn(208, k, generator=gen)
    w = torch.randn(n, k, generator=gen) / k ** 0.5
    b = torch.randn(n, generator=gen)
    bad = _differing(lambda rows: linear(rows, w, b), x, linear(x, w, b))
    if bad:
        plain = torch.nn.functional.linear
        raw = _differing(lambda rows: plain(rows, w, b), x, plain(x, w, b))
        pytest.fail(
            f"float32 {k}->{n} product: rows differ with the row count {bad} even on "
            f"{block}-row blocks, so a request's text can depend on its batch mates on this "
            f"machine. {machine()}. (Plain products differ at row counts {raw}.) "
            "Measure this CPU with benchmarks/kernels.py and choose ROW_BLOCK in "
            "harness/backends/rows.py to avoid the shapes that take another kernel.")


def test_a_rows_sum_does_not_depend_on_the_row_count():
    import torch

    from harness.backends.rows import row_sums

    probs = torch.randn(70, 49152, generator=torch.Generator().manual_seed(1)).softmax(-1)
    bad = _differing(row_sums, probs, row_sums(probs))
    assert not bad, (f"row sums over 49,152 columns differ with the row count {bad}: the "
                     f"sampler's totals then depend on batch mates. {machine()}")


def test_every_product_of_rows_linear_has_one_shape(monkeypatch):
    """Why the guarantee holds on any CPU: ``rows.linear`` hands the BLAS only products of
    exactly ``block`` rows, whatever the row count, and a BLAS is deterministic for one
    shape. Also printed: the row counts whose plain float32 product differs from a 208-row
    one on this machine (what the blocks avoid; 1 row on the Intel Xeon of the issue, 1-3,
    5-7, 9-11 on a 2-thread AVX2 EPYC, 64, 80, 128, 144 at 1536->576 on a Xeon with AMX)."""
    import torch

    from harness.backends import rows

    gen = torch.Generator().manual_seed(7)
    x, w = torch.randn(208, 576, generator=gen), torch.randn(1536, 576, generator=gen)
    plain = torch.nn.functional.linear
    raw = _differing(lambda r: plain(r, w), x, plain(x, w))
    print(f"plain float32 products differing from 208 rows at row counts {raw}; {machine()}")
    shapes: set[tuple[int, ...]] = set()

    def recording(a, weight, bias=None):
        shapes.add(tuple(a.shape))
        return plain(a, weight, bias)

    monkeypatch.setattr(torch.nn.functional, "linear", recording)
    for block in (rows.ROW_BLOCK, 48):
        shapes.clear()
        for m in ROW_COUNTS:
            assert rows.linear(x[:m], w, block=block).shape == (m, 1536)
        assert shapes == {(block, 576)}


def test_a_rows_attention_does_not_depend_on_its_left_padding():
    """The harness's attention over a float32 model's cache (float64 keys and values, as
    ``WideCache`` stores them) gives a row the same float32 bits whatever the left padding
    its batch mates set: 1..64 masked columns before 100 cached tokens, a decode step (1
    query) and a prefill (7 queries), 9 query heads over 3 KV heads. And what it avoids:
    float32 attention differs at some padding on this machine (if not, this CPU happens
    to sum masked columns in order; only printed)."""
    import types

    import torch

    from harness.backends.attention import _attention

    module = types.SimpleNamespace(training=False)
    gen = torch.Generator().manual_seed(3)
    raw: set[int] = set()
    for q_len in (1, 7):
        q = torch.randn(1, 9, q_len, 64, generator=gen)
        k, v = torch.randn(1, 3, 100, 64, generator=gen), torch.randn(1, 3, 100, 64,
                                                                        generator=gen)
        causal = torch.ones(q_len, 100, dtype=torch.bool).tril(100 - q_len)[None, None]
        ref, _ = _attention(module, q, k.double(), v.double(), causal)
        ref32, _ = _attention(module, q, k, v, causal)
        assert ref.dtype == torch.float32
        bad = []
        for pad in range(1, 65):
            mask = torch.cat([torch.zeros(1, 1, q_len, pad, dtype=torch.bool), causal], -1)
            kp = torch.cat([torch.zeros(1, 3, pad, 64), k], 2)
            vp = torch.cat([torch.zeros(1, 3, pad, 64), v], 2)
            out, _ = _attention(module, q, kp.double(), vp.double(), mask)
            if not torch.equal(out, ref):
                bad.append(pad)
            if not torch.equal(_attention(module, q, kp, vp, mask)[0], ref32):
                raw.add(pad)
        assert not bad, (f"float64 attention ({q_len} queries) differs with left padding "
                         f"{bad}: a row's text can depend on its batch mates. {machine()}")
    print(f"float32 attention differs with left padding {sorted(raw)}; {machine()}")


@pytest.mark.model
def test_a_texts_embedding_does_not_depend_on_the_texts_embedded_with_it():
    import numpy as np

    from harness.metrics.embedding import Embedder

    texts = [f"a poem about {w} " * (i % 5 + 1) for i, w in
             enumerate(["the sea", "rain", "春天", "a kite", "bread", "snow"] * 4)] + [""]
    together = Embedder().encode(texts)
    alone = Embedder()
    one_by_one = np.stack([alone.encode([t])[0] for t in texts])
    small = Embedder(batch_size=3).encode(texts[::-1])[::-1]
    assert np.array_equal(together, one_by_one), machine()
    assert np.array_equal(together, small), machine()
