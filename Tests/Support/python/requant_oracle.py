#!/usr/bin/env python3
"""Checks a requantized GGUF against ggml's reference quantizers (libgguf, a no-FMA port of
ggml-quants.c): every tensor whose type differs from the input's must be byte-identical to
libgguf.quantize_rows of the float32 reference, with the importance matrix slice of each expert
when an imatrix is given; every other tensor must be byte-identical to the input's.
Usage: requant_oracle.py INPUT.gguf OUTPUT.gguf REF.npz [IMATRIX.gguf]. Prints a JSON summary."""
import json, sys
import numpy as np
import gguf, libgguf

inp, outp, refp = sys.argv[1:4]
imatrix = {}
if len(sys.argv) > 4:
    r = gguf.GGUFReader(sys.argv[4])
    t = {x.name: x for x in r.tensors}
    for n, x in t.items():
        if n.endswith(".in_sum2"):
            base = n[: -len(".in_sum2")]
            sums = np.array(x.data, np.float32).reshape(-1, int(x.shape[0]))
            counts = np.array(t[base + ".counts"].data, np.float32).reshape(-1)
            imatrix[base] = sums / counts[:, None]
ref = np.load(refp)
a = {t.name: t for t in gguf.GGUFReader(inp).tensors}
b = gguf.GGUFReader(outp)
checked, copied, mismatched = 0, 0, []
for t in b.tensors:
    data = np.array(t.data).view(np.uint8).reshape(-1)
    src = a[t.name]
    if src.tensor_type == t.tensor_type:
        if not np.array_equal(np.array(src.data).view(np.uint8).reshape(-1), data):
            mismatched.append(t.name + " (copy)")
        copied += 1
        continue
    x = ref[t.name].astype(np.float32)
    rows = x.reshape(-1, x.shape[-1])
    mats = x.shape[0] if x.ndim == 3 else 1
    per = rows.shape[0] // mats
    parts = []
    for m in range(mats):
        im = imatrix[t.name][m] if t.name in imatrix else None
        parts.append(libgguf.quantize_rows(rows[m * per:(m + 1) * per], int(t.tensor_type), imatrix=im).reshape(-1))
    want = np.concatenate(parts)
    if not np.array_equal(want, data):
        mismatched.append(f"{t.name} ({t.tensor_type.name})")
    checked += 1
print(json.dumps(dict(requantized=checked, copied=copied, mismatched=mismatched)))
