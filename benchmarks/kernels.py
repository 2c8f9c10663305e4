"""Which row counts of a matrix product give each row bitwise the same result as a larger
product, on this machine (issue 29): the premise of the hf backend's float32 guarantee.

For the embedded model's product shapes (576 -> 1536, 1536 -> 576, 576 -> 49152), float32
and bfloat16, ``torch.nn.functional.linear`` and ``@``, and the harness's padded
``harness.backends.rows.linear``: the row counts 1..64 whose rows differ from the same
rows of a 64-row product (and of a 256-row one). Then the attention of one decoding step
(``scaled_dot_product_attention``, 9 query heads over 3 key/value heads, 100 cached
tokens), in float32 and in float64: the left-padding widths 1..64 whose output differs
from no padding. Prints the
machine line first; docs/performance.md quotes the tables.

    python benchmarks/kernels.py
"""

from __future__ import annotations

from _machine import kernel_libraries, machine_line


def _ranges(values: list[int]) -> str:
    """``[1, 2, 3, 5, 9, 10]`` as ``1-3, 5, 9-10``; ``none`` when empty."""
    if not values:
        return "none"
    out, start = [], values[0]
    for prev, cur in zip(values, [*values[1:], None], strict=True):
        if cur != prev + 1:
            out.append(f"{start}" if start == prev else f"{start}-{prev}")
            start = cur
    return ", ".join(out)


def products() -> None:
    import torch

    from harness.backends.rows import linear

    ops = {"F.linear": torch.nn.functional.linear, "@": lambda x, w: x @ w.T,
           "rows.linear": linear}
    print("| dtype | shape | product | rows differing from 64 rows | from 256 rows |")
    print("|---|---|---|---|---|")
    for dtype in (torch.float32, torch.bfloat16):
        for k, n in ((576, 1536), (1536, 576), (576, 49152)):
            gen = torch.Generator().manual_seed(k + n)
            x = torch.randn(256, k, generator=gen).to(dtype)
            w = (torch.randn(n, k, generator=gen) / k ** 0.5).to(dtype)
            for name, op in ops.items():
                full = op(x, w)
                ref = op(x[:64], w)
                bad64 = [m for m in range(1, 65) if not torch.equal(op(x[:m], w), ref[:m])]
                bad256 = [m for m in range(1, 65) if not torch.equal(op(x[:m], w), full[:m])]
                print(f"| {str(dtype).split('.')[1]} | {k}→{n} | `{name}` | "
                      f"{_ranges(bad64)} | {_ranges(bad256)} |", flush=True)


def attention() -> None:
    """Decode-step attention over 100 cached tokens, left-padded by 1..64 masked columns:
    the widths whose output differs from no padding, for float32 attention and for the
    harness's float64 attention rounded to float32 (``harness.backends.attention``), over
    20 random draws."""
    import torch

    f = torch.nn.functional.scaled_dot_product_attention
    for dtype in (torch.float32, torch.float64):
        bad: set[int] = set()
        differing = total = 0
        for seed in range(20):
            gen = torch.Generator().manual_seed(seed)
            q = torch.randn(1, 9, 1, 64, generator=gen)
            k = torch.randn(1, 3, 100, 64, generator=gen)
            v = torch.randn(1, 3, 100, 64, generator=gen)
            ones = torch.ones(1, 1, 1, 100, dtype=torch.bool)
            ref = f(q.to(dtype), k.to(dtype), v.to(dtype), attn_mask=ones,
                    enable_gqa=True).float()
            for pad in range(1, 65):
                z = torch.zeros(1, 3, pad, 64)
                mask = torch.cat([torch.zeros(1, 1, 1, pad, dtype=torch.bool), ones], -1)
                out = f(q.to(dtype), torch.cat([z, k], 2).to(dtype),
                        torch.cat([z, v], 2).to(dtype), attn_mask=mask,
                        enable_gqa=True).float()
                n = int((out != ref).sum())
                differing, total = differing + n, total + out.numel()
                if n:
                    bad.add(pad)
        print(f"\ndecode-step attention in {str(dtype).removeprefix('torch.')} (output as "
              f"float32) over 100 cached tokens, left-padded by 1..64 masked columns, 20 "
              f"draws: differs from no padding at widths {_ranges(sorted(bad))}; "
              f"{differing:,} of {total:,} outputs differ")


def main() -> None:
    import torch

    print(machine_line(f"torch {torch.__version__}", kernel_libraries()) + "\n")
    products()
    attention()


if __name__ == "__main__":
    main()
