#!/usr/bin/env python3
"""Independent releases for `quantscope audit`, made beside diff_fixture.py's output (DIR holds
split.gguf, split-ref.npz and imatrix.gguf) by ggml's reference quantizers (libgguf) and gguf-py:

  bf16path.gguf    split.gguf's types, every tensor quantized from the reference first rounded to
                   f32 and then to bf16 (DeepSeek's fp8_cast_bf16.py, then a BF16 GGUF);
  imat-one.gguf    split.gguf with blk.1.ffn_gate_exps.weight quantized again with an importance
                   matrix (each expert with its own slice, as llama-quantize does);
  imatrix-one.gguf that importance matrix, in llama.cpp's GGUF imatrix format (only that tensor);
  tampered.gguf    split.gguf with one byte flipped in one block of blk.2.ffn_down_exps.weight;
  audit.json       where the flipped byte is (tensor, flat block, row, column).
Nothing here shares code with quantscope.
Usage: audit_fixture.py DIR"""
import json, os, shutil, sys
import numpy as np
import ml_dtypes
import gguf, libgguf

d = sys.argv[1]
split = gguf.GGUFReader(os.path.join(d, "split.gguf"))
ref = np.load(os.path.join(d, "split-ref.npz"))
Q = gguf.GGMLQuantizationType


def write(path, source, override=None):
    """A GGUF with split.gguf's metadata and types; values from source(name) quantized by libgguf."""
    w = gguf.GGUFWriter(path, "deepseek2")
    for key in ("deepseek2.block_count", "deepseek2.attention.head_count", "deepseek2.attention.head_count_kv"):
        w.add_uint32(key, int(split.fields[key].parts[-1][0]))
    for t in split.tensors:
        if override and t.name in override:
            data = override[t.name]
        else:
            x = source(t.name)
            if t.tensor_type == Q.F32:
                w.add_tensor(t.name, x)
                continue
            rows = x.reshape(-1, x.shape[-1])
            data = libgguf.quantize_rows(rows, int(t.tensor_type)).reshape(*x.shape[:-1], -1)
        w.add_tensor(t.name, data, raw_shape=data.shape, raw_dtype=t.tensor_type)
    w.write_header_to_file(); w.write_kv_data_to_file(); w.write_tensors_to_file(); w.close()


# The BF16 path: f32 product, rounded to bf16, back to f32 for the quantizer. fp8_cast_bf16.py
# casts only the FP8 weights: the F32 router bias stays F32 (BF16 tensors are unchanged anyway).
def bf16_path(n):
    x = ref[n].astype(np.float32)
    return x if "exp_probs_b" in n else x.astype(ml_dtypes.bfloat16).astype(np.float32)
write(os.path.join(d, "bf16path.gguf"), bf16_path)

# One 3-D tensor quantized with an importance matrix, per expert.
name = "blk.1.ffn_gate_exps.weight"
kind = {t.name: t for t in split.tensors}[name].tensor_type
x = ref[name].astype(np.float32)
rng = np.random.default_rng(7)
sums = (rng.random((x.shape[0], x.shape[-1])) * 10 + 0.1).astype(np.float32)
counts = np.full((x.shape[0], 1), 3.0, np.float32)
weights = sums / counts
parts = [libgguf.quantize_rows(x[e], int(kind), imatrix=weights[e]).reshape(x.shape[1], -1) for e in range(x.shape[0])]
write(os.path.join(d, "imat-one.gguf"), lambda n: ref[n].astype(np.float32), {name: np.stack(parts)})
iw = gguf.GGUFWriter(os.path.join(d, "imatrix-one.gguf"), "")
iw.add_array("imatrix.datasets", ["audit.txt"])
iw.add_uint32("imatrix.chunk_count", 3)
iw.add_uint32("imatrix.chunk_size", 512)
iw.add_tensor(name + ".in_sum2", sums)
iw.add_tensor(name + ".counts", counts)
iw.write_header_to_file(); iw.write_kv_data_to_file(); iw.write_tensors_to_file(); iw.close()

# One byte flipped: a quant byte (not the scale) of one Q8_0 block.
target = "blk.2.ffn_down_exps.weight"
t = {t.name: t for t in split.tensors}[target]
assert t.tensor_type == Q.Q8_0, t.tensor_type
block_size, type_size = gguf.GGML_QUANT_SIZES[Q.Q8_0]
row_length = int(t.shape[0])
per_row = row_length // block_size
block = 1000
offset = int(t.data_offset) + block * type_size + 5
shutil.copy(os.path.join(d, "split.gguf"), os.path.join(d, "tampered.gguf"))
with open(os.path.join(d, "tampered.gguf"), "r+b") as f:
    f.seek(offset)
    b = f.read(1)
    f.seek(offset)
    f.write(bytes([b[0] ^ 0x01]))
json.dump(dict(tampered=dict(tensor=target, block=block, row=block // per_row,
                             column=block % per_row * block_size, offset=offset),
               imatrix_tensor=name), open(os.path.join(d, "audit.json"), "w"))
print("ok")
