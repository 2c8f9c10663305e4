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


@pytest.mark.parametrize("shape", SHAPES, ids=[f"{k}x{n}" for k, n in SHAPES])
def test_a_rows_float32_product_does_not_depend_on_the_row_count(shape):
    """Every row count from 1 to 69, and 127-129 and 200 rows, at two offsets: each row
    of ``rows.linear`` bitwise equal to the same row of a 208-row product."""
    import torch

    from harness.backends.rows import linear

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
            f"16-row blocks, so a request's text can depend on its batch mates on this "
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


def test_plain_products_that_take_another_kernel_are_the_ones_padded():
    """What the fix avoids, on this machine: the row counts whose plain float32 product
    differs from a large one are all below or between multiples of 16, never one the
    padded products run on (a 1-row product is the Intel Xeon case; 1-3, 5-7, 9-11 rows
    the 2-thread AVX2 EPYC case)."""
    import torch

    from harness.backends.rows import ROW_BLOCK, padded_rows

    gen = torch.Generator().manual_seed(7)
    x, w = torch.randn(208, 576, generator=gen), torch.randn(1536, 576, generator=gen)
    plain = torch.nn.functional.linear
    raw = _differing(lambda rows: plain(rows, w), x, plain(x, w))
    print(f"plain float32 products differing from 208 rows at row counts {raw}; {machine()}")
    run_on = {padded_rows(m) for m in ROW_COUNTS}
    assert all(m % ROW_BLOCK == 0 and m >= ROW_BLOCK for m in run_on)
    assert not set(raw) & run_on, (f"plain products of {sorted(set(raw) & run_on)} rows "
                                   f"differ, and padded products run on them. {machine()}")


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
