#!/usr/bin/env python3
"""The Python pipeline a user would write instead of `quantscope diff` (the baseline of `quantscope-bench diff`).

    python3 scripts/bench/python_diff.py CANDIDATE.gguf REF_DIR

CANDIDATE is a llama.cpp `deepseek2` GGUF (one file), REF_DIR a DeepSeek-V3/R1 FP8 checkpoint (safetensors
shards, model.safetensors.index.json, config.json). For every candidate tensor: gguf-py's GGUFReader and
gguf.quants.dequantize for the candidate; for the reference the FP8 (e4m3fn) codes decoded with ml_dtypes
times `weight_scale_inv` expanded over its 128x128 tiles, in float64 (exact); routed experts stacked,
kv_b_proj split into attn_k_b (transposed) and attn_v_b (or kept whole as the legacy attn_kv_b); then MSE
and cosine in float64 with numpy. The MTP layer (index num_hidden_layers) is not in GGUFs and is ignored.

Prints one line per tensor, `TENSOR <name> <type> <elements> <mse> <cosine>` (floats with repr precision),
then `WALL <seconds>` for the whole run after imports.
"""
import json
import os
import re
import sys
import time

import ml_dtypes
import numpy as np

import gguf

BLOCK = 128


class Checkpoint:
    """Safetensors shards read through numpy memory maps (numpy has no FP8 dtype; ml_dtypes does)."""

    def __init__(self, directory):
        index = json.load(open(os.path.join(directory, "model.safetensors.index.json")))
        self.config = json.load(open(os.path.join(directory, "config.json")))
        self.where = {}
        for fname in sorted(set(index["weight_map"].values())):
            path = os.path.join(directory, fname)
            mm = np.memmap(path, dtype=np.uint8, mode="r")
            n = int(mm[:8].view("<u8")[0])
            header = json.loads(bytes(mm[8:8 + n]))
            header.pop("__metadata__", None)
            for name, info in header.items():
                self.where[name] = (mm, 8 + n, info)

    def raw(self, name):
        mm, base, info = self.where[name]
        lo, hi = info["data_offsets"]
        dtype = {"F8_E4M3": ml_dtypes.float8_e4m3fn, "BF16": ml_dtypes.bfloat16, "F32": np.float32}[info["dtype"]]
        return mm[base + lo:base + hi].view(dtype).reshape(info["shape"])

    def tensor(self, name):
        """The HF tensor in float64; FP8 weights times their 128x128 block scales."""
        x = self.raw(name).astype(np.float64)
        if name + "_scale_inv" in self.where:
            s = self.raw(name + "_scale_inv").astype(np.float64)
            m, n = x.shape
            x *= np.repeat(np.repeat(s, BLOCK, 0), BLOCK, 1)[:m, :n]
        return x


def reference(ckpt, name):
    """The reference of GGUF tensor `name` in GGUF numpy orientation, or None."""
    c = ckpt.config
    fixed = {"token_embd.weight": "model.embed_tokens.weight", "output_norm.weight": "model.norm.weight",
             "output.weight": "lm_head.weight"}
    if name in fixed:
        return ckpt.tensor(fixed[name])
    m = re.fullmatch(r"blk\.(\d+)\.(.+)", name)
    if not m:
        return None
    p, rest = f"model.layers.{m.group(1)}.", m.group(2)
    simple = {"attn_norm.weight": "input_layernorm.weight", "ffn_norm.weight": "post_attention_layernorm.weight",
              "attn_q_a.weight": "self_attn.q_a_proj.weight", "attn_q_a_norm.weight": "self_attn.q_a_layernorm.weight",
              "attn_q_b.weight": "self_attn.q_b_proj.weight", "attn_q.weight": "self_attn.q_proj.weight",
              "attn_kv_a_mqa.weight": "self_attn.kv_a_proj_with_mqa.weight",
              "attn_kv_a_norm.weight": "self_attn.kv_a_layernorm.weight",
              "attn_kv_b.weight": "self_attn.kv_b_proj.weight", "attn_output.weight": "self_attn.o_proj.weight",
              "ffn_gate_inp.weight": "mlp.gate.weight", "exp_probs_b.bias": "mlp.gate.e_score_correction_bias",
              "ffn_gate.weight": "mlp.gate_proj.weight", "ffn_up.weight": "mlp.up_proj.weight",
              "ffn_down.weight": "mlp.down_proj.weight"}
    if rest in simple:
        return ckpt.tensor(p + simple[rest])
    e = re.fullmatch(r"ffn_(gate|up|down)_(exps|shexp)\.weight", rest)
    if e:
        if e.group(2) == "shexp":
            return ckpt.tensor(f"{p}mlp.shared_experts.{e.group(1)}_proj.weight")
        return np.stack([ckpt.tensor(f"{p}mlp.experts.{i}.{e.group(1)}_proj.weight")
                         for i in range(c["n_routed_experts"])])
    if rest in ("attn_k_b.weight", "attn_v_b.weight"):
        heads, nope, v = c["num_attention_heads"], c["qk_nope_head_dim"], c["v_head_dim"]
        w = ckpt.tensor(p + "self_attn.kv_b_proj.weight")
        w = w.reshape(heads, nope + v, w.shape[-1])
        return w[:, :nope, :].transpose(0, 2, 1) if rest == "attn_k_b.weight" else w[:, nope:, :]
    return None


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 64
    start = time.perf_counter()
    reader = gguf.GGUFReader(sys.argv[1])
    ckpt = Checkpoint(sys.argv[2])
    for t in reader.tensors:
        ref = reference(ckpt, t.name)
        if ref is None:
            print(f"MISSING {t.name}")
            continue
        cand = gguf.quants.dequantize(t.data, t.tensor_type).astype(np.float64)
        cand = cand.reshape(ref.shape)
        err = cand - ref
        mse = float(np.mean(err * err))
        cosine = float(np.sum(cand * ref) / np.sqrt(np.sum(cand * cand) * np.sum(ref * ref)))
        print(f"TENSOR {t.name} {t.tensor_type.name} {cand.size} {mse!r} {cosine!r}", flush=True)
    print(f"WALL {time.perf_counter() - start:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
