#!/usr/bin/env python3
"""Generates a DeepSeek-shaped FP8 reference and a GGUF quantized from it, big enough to time `diff`.

    python3 scripts/bench/make-diff-pair.py OUTDIR [--scale N]

Writes OUTDIR/ref/ (config.json, two safetensors shards, model.safetensors.index.json) and
OUTDIR/candidate.gguf. The reference is stored as DeepSeek stores V3/R1: linear weights F8_E4M3 (e4m3fn)
with an F32 `weight_scale_inv` per 128x128 tile (edge tiles partial), norms and embeddings BF16, the
router's e_score_correction_bias F32, an MTP layer (index num_hidden_layers) that GGUFs leave out.
The GGUF is a `deepseek2` file in llama.cpp's current MLA layout (attn_k_b / attn_v_b, experts stacked),
each tensor quantized from the FP8 x scale product in float32 (what convert_hf_to_gguf feeds the
quantizer) with libgguf (a port of ggml's reference quantizers), in a DQ3_K_M-like mix of Q3_K, Q4_K,
Q6_K and Q8_0; norms and the router stay F32.

--scale N sets the routed experts to 8·N (default 4: 32 experts, about 0.72 G weights, 0.75 GB of
reference, 0.3 GB of GGUF). Deterministic: one generator per tensor seeded from its name.
"""
from __future__ import annotations

import argparse
import json
import os
import struct
import sys
import time
import zlib

import ml_dtypes
import numpy as np

import gguf
import libgguf
from gguf import GGMLQuantizationType as QT

SEED = 20261129


def config_for(scale: int) -> dict:
    return {
        "architectures": ["DeepseekV3ForCausalLM"], "model_type": "deepseek_v3",
        "hidden_size": 2048, "intermediate_size": 4096, "moe_intermediate_size": 1024,
        "num_hidden_layers": 4, "first_k_dense_replace": 1, "n_routed_experts": 8 * scale,
        "n_shared_experts": 1, "num_experts_per_tok": 8, "q_lora_rank": 768, "kv_lora_rank": 512,
        "qk_nope_head_dim": 128, "qk_rope_head_dim": 64, "v_head_dim": 128, "num_attention_heads": 16,
        "num_key_value_heads": 16, "vocab_size": 8192, "num_nextn_predict_layers": 1,
        "rms_norm_eps": 1e-6, "torch_dtype": "bfloat16",
        "quantization_config": {"activation_scheme": "dynamic", "fmt": "e4m3", "quant_method": "fp8",
                                "weight_block_size": [128, 128]},
    }


def specs(c: dict):
    """(HF name, shape, kind) in checkpoint order; layer num_hidden_layers is the MTP layer."""
    h, heads = c["hidden_size"], c["num_attention_heads"]
    nope, rope, v = c["qk_nope_head_dim"], c["qk_rope_head_dim"], c["v_head_dim"]
    out = [("model.embed_tokens.weight", (c["vocab_size"], h), "embed")]
    for layer in range(c["num_hidden_layers"] + 1):
        p = f"model.layers.{layer}."
        out += [(p + "input_layernorm.weight", (h,), "norm"),
                (p + "self_attn.q_a_proj.weight", (c["q_lora_rank"], h), "fp8"),
                (p + "self_attn.q_a_layernorm.weight", (c["q_lora_rank"],), "norm"),
                (p + "self_attn.q_b_proj.weight", (heads * (nope + rope), c["q_lora_rank"]), "fp8"),
                (p + "self_attn.kv_a_proj_with_mqa.weight", (c["kv_lora_rank"] + rope, h), "fp8"),
                (p + "self_attn.kv_a_layernorm.weight", (c["kv_lora_rank"],), "norm"),
                (p + "self_attn.kv_b_proj.weight", (heads * (nope + v), c["kv_lora_rank"]), "fp8"),
                (p + "self_attn.o_proj.weight", (h, heads * v), "fp8"),
                (p + "post_attention_layernorm.weight", (h,), "norm")]
        if layer < c["first_k_dense_replace"]:
            f = c["intermediate_size"]
            out += [(p + "mlp.gate_proj.weight", (f, h), "fp8"), (p + "mlp.up_proj.weight", (f, h), "fp8"),
                    (p + "mlp.down_proj.weight", (h, f), "fp8")]
            continue
        f, e = c["moe_intermediate_size"], c["n_routed_experts"]
        out += [(p + "mlp.gate.weight", (e, h), "router"), (p + "mlp.gate.e_score_correction_bias", (e,), "bias")]
        for x in range(e):
            q = f"{p}mlp.experts.{x}."
            out += [(q + "gate_proj.weight", (f, h), "fp8"), (q + "up_proj.weight", (f, h), "fp8"),
                    (q + "down_proj.weight", (h, f), "fp8")]
        q = p + "mlp.shared_experts."
        out += [(q + "gate_proj.weight", (f, h), "fp8"), (q + "up_proj.weight", (f, h), "fp8"),
                (q + "down_proj.weight", (h, f), "fp8")]
    out += [("model.norm.weight", (h,), "norm"), ("lm_head.weight", (c["vocab_size"], h), "embed")]
    return out


def rng_for(name: str) -> np.random.Generator:
    return np.random.default_rng([SEED, zlib.crc32(name.encode())])


def bf16_bits(x: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(x.astype(np.float32).astype(ml_dtypes.bfloat16)).view(np.uint16)


def make(name: str, shape, kind: str):
    """[(stored name, dtype, raw array)] for one HF tensor."""
    rng = rng_for(name)
    if kind == "fp8":
        m, n = shape
        w = rng.standard_normal(shape, dtype=np.float32) * np.float32(0.5 / np.sqrt(n))
        for _ in range(3):  # a few outliers ("super weights")
            w[rng.integers(m), rng.integers(n)] *= np.float32(rng.uniform(20, 60))
        tm, tn = -(-m // 128), -(-n // 128)
        padded = np.zeros((tm * 128, tn * 128), np.float32)
        padded[:m, :n] = np.abs(w)
        amax = np.maximum(padded.reshape(tm, 128, tn, 128).max(axis=(1, 3)), np.float32(1e-4))
        s = (amax / np.float32(448.0)).astype(np.float32)
        full = np.repeat(np.repeat(s, 128, 0), 128, 1)[:m, :n]
        q = np.clip(w / full, -448, 448).astype(ml_dtypes.float8_e4m3fn).view(np.uint8)
        return [(name, "F8_E4M3", q), (name + "_scale_inv", "F32", s)]
    if kind == "embed":
        return [(name, "BF16", bf16_bits(rng.standard_normal(shape, dtype=np.float32) * np.float32(0.02)))]
    if kind == "norm":
        return [(name, "BF16", bf16_bits(rng.uniform(0.05, 1.2) * (1 + 0.15 * rng.standard_normal(shape))))]
    if kind == "router":
        return [(name, "BF16", bf16_bits(rng.standard_normal(shape) / np.sqrt(shape[1])))]
    return [(name, "F32", (rng.standard_normal(shape) * 0.05).astype(np.float32))]


DTYPE_BYTES = {"F8_E4M3": 1, "BF16": 2, "F32": 4}


def dequant(tensors: dict, name: str) -> np.ndarray:
    """The HF tensor as float32: FP8 x scale with one float32 multiply, BF16/F32 widened."""
    dtype, raw = tensors[name]
    if dtype == "F8_E4M3":
        s = tensors[name + "_scale_inv"][1]
        m, n = raw.shape
        full = np.repeat(np.repeat(s, 128, 0), 128, 1)[:m, :n]
        return raw.view(ml_dtypes.float8_e4m3fn).astype(np.float32) * full
    if dtype == "BF16":
        return (raw.astype(np.uint32) << 16).view(np.float32)
    return raw


def gguf_type(name: str, ndim: int) -> QT:
    """A DQ3_K_M-like mix."""
    if ndim < 2 or "norm" in name or "ffn_gate_inp" in name or "exp_probs_b" in name:
        return QT.F32
    for pattern, t in [("ffn_gate_exps", QT.Q3_K), ("ffn_up_exps", QT.Q3_K), ("ffn_down_exps", QT.Q4_K),
                       ("_shexp", QT.Q6_K), ("attn_k_b", QT.Q8_0), ("attn_kv_a_mqa", QT.Q6_K),
                       ("attn_", QT.Q4_K), ("ffn_down.", QT.Q6_K), ("ffn_", QT.Q4_K), ("token_embd", QT.Q4_K),
                       ("output.weight", QT.Q6_K)]:
        if pattern in name:
            return t
    return QT.Q8_0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("outdir")
    ap.add_argument("--scale", type=int, default=4)
    a = ap.parse_args()
    if a.scale < 1:
        ap.error("--scale must be at least 1")
    start = time.time()
    c = config_for(a.scale)
    refdir = os.path.join(a.outdir, "ref")
    os.makedirs(refdir, exist_ok=True)

    # Reference: two shards (layers below half plus the embedding in the first).
    tensors: dict[str, tuple[str, np.ndarray]] = {}
    for name, shape, kind in specs(c):
        for n, dt, arr in make(name, shape, kind):
            tensors[n] = (dt, arr)
    half = c["num_hidden_layers"] // 2
    shards = [[], []]
    for n in tensors:
        first = n == "model.embed_tokens.weight" or (n.startswith("model.layers.") and int(n.split(".")[2]) < half)
        shards[0 if first else 1].append(n)
    weight_map, total = {}, 0
    for k, names in enumerate(shards):
        fname = f"model-{k + 1:05d}-of-00002.safetensors"
        header, off = {"__metadata__": {"format": "pt"}}, 0
        for n in names:
            dt, arr = tensors[n]
            nb = arr.size * DTYPE_BYTES[dt]
            header[n] = {"dtype": dt, "shape": list(arr.shape), "data_offsets": [off, off + nb]}
            off += nb
            weight_map[n] = fname
        text = json.dumps(header, separators=(",", ":")).encode()
        text += b" " * (-len(text) % 8)
        with open(os.path.join(refdir, fname), "wb") as f:
            f.write(struct.pack("<Q", len(text)) + text)
            for n in names:
                f.write(np.ascontiguousarray(tensors[n][1]).tobytes())
        total += off
    with open(os.path.join(refdir, "model.safetensors.index.json"), "w") as f:
        json.dump({"metadata": {"total_size": total}, "weight_map": dict(sorted(weight_map.items()))}, f, indent=2)
    with open(os.path.join(refdir, "config.json"), "w") as f:
        json.dump(c, f, indent=2)
    print(f"reference: {total / 1e6:.1f} MB in {time.time() - start:.1f} s", flush=True)

    # Candidate GGUF in llama.cpp's deepseek2 naming, current MLA layout.
    heads, nope, v, kvl = c["num_attention_heads"], c["qk_nope_head_dim"], c["v_head_dim"], c["kv_lora_rank"]
    items: list[tuple[str, callable]] = [("token_embd.weight", lambda: dequant(tensors, "model.embed_tokens.weight"))]
    for layer in range(c["num_hidden_layers"]):
        p, b = f"model.layers.{layer}.", f"blk.{layer}."
        d = lambda n, p=p: (lambda: dequant(tensors, p + n))
        items += [(b + "attn_norm.weight", d("input_layernorm.weight")),
                  (b + "attn_q_a_norm.weight", d("self_attn.q_a_layernorm.weight")),
                  (b + "attn_kv_a_norm.weight", d("self_attn.kv_a_layernorm.weight")),
                  (b + "attn_q_a.weight", d("self_attn.q_a_proj.weight")),
                  (b + "attn_q_b.weight", d("self_attn.q_b_proj.weight")),
                  (b + "attn_kv_a_mqa.weight", d("self_attn.kv_a_proj_with_mqa.weight")),
                  (b + "attn_k_b.weight", lambda p=p: np.ascontiguousarray(
                      dequant(tensors, p + "self_attn.kv_b_proj.weight").reshape(heads, nope + v, kvl)[:, :nope, :]
                      .transpose(0, 2, 1))),
                  (b + "attn_v_b.weight", lambda p=p: np.ascontiguousarray(
                      dequant(tensors, p + "self_attn.kv_b_proj.weight").reshape(heads, nope + v, kvl)[:, nope:, :])),
                  (b + "attn_output.weight", d("self_attn.o_proj.weight")),
                  (b + "ffn_norm.weight", d("post_attention_layernorm.weight"))]
        if layer < c["first_k_dense_replace"]:
            items += [(b + f"ffn_{x}.weight", d(f"mlp.{x}_proj.weight")) for x in ("gate", "up", "down")]
        else:
            items += [(b + "ffn_gate_inp.weight", d("mlp.gate.weight")),
                      (b + "exp_probs_b.bias", d("mlp.gate.e_score_correction_bias"))]
            for x in ("gate", "up", "down"):
                items.append((b + f"ffn_{x}_exps.weight", lambda p=p, x=x: np.stack(
                    [dequant(tensors, p + f"mlp.experts.{e}.{x}_proj.weight") for e in range(c["n_routed_experts"])])))
                items.append((b + f"ffn_{x}_shexp.weight", d(f"mlp.shared_experts.{x}_proj.weight")))
    items += [("output_norm.weight", lambda: dequant(tensors, "model.norm.weight")),
              ("output.weight", lambda: dequant(tensors, "lm_head.weight"))]

    w = gguf.GGUFWriter(os.path.join(a.outdir, "candidate.gguf"), "deepseek2")
    w.add_name("diff-bench")
    w.add_block_count(c["num_hidden_layers"])
    w.add_context_length(4096)
    w.add_embedding_length(c["hidden_size"])
    w.add_feed_forward_length(c["intermediate_size"])
    w.add_head_count(heads)
    w.add_head_count_kv(1)  # MLA after the k_b/v_b split, as llama.cpp writes it
    w.add_uint32("deepseek2.attention.q_lora_rank", c["q_lora_rank"])
    w.add_uint32("deepseek2.attention.kv_lora_rank", kvl)
    w.add_uint32("deepseek2.attention.key_length", kvl + c["qk_rope_head_dim"])
    w.add_uint32("deepseek2.attention.value_length", kvl)
    w.add_uint32("deepseek2.expert_count", c["n_routed_experts"])
    w.add_uint32("deepseek2.expert_used_count", c["num_experts_per_tok"])
    w.add_uint32("deepseek2.expert_shared_count", 1)
    w.add_uint32("deepseek2.leading_dense_block_count", c["first_k_dense_replace"])
    w.add_uint32("deepseek2.expert_feed_forward_length", c["moe_intermediate_size"])
    w.add_uint32("deepseek2.vocab_size", c["vocab_size"])
    weights = 0
    for name, values in items:
        x = values().astype(np.float32)
        t = gguf_type(name, x.ndim)
        weights += x.size
        if t == QT.F32:
            w.add_tensor(name, x)
        else:
            q = libgguf.quantize_rows(x.reshape(-1, x.shape[-1]), int(t)).reshape(*x.shape[:-1], -1)
            w.add_tensor(name, q, raw_shape=q.shape, raw_dtype=t)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    size = os.path.getsize(os.path.join(a.outdir, "candidate.gguf"))
    print(f"candidate: {weights / 1e6:.1f} M weights, {size / 1e6:.1f} MB; total {time.time() - start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
