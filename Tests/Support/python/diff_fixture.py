#!/usr/bin/env python3
"""Independent oracle for `quantscope diff` on a DeepSeek-shaped FP8 checkpoint.

Writes into OUTDIR:
  ref/            a tiny DeepSeek-V3-layout FP8 checkpoint (F8_E4M3 + F32 weight_scale_inv 128x128
                  blocks, BF16 norms/embeddings/router, F32 e_score_correction_bias, two shards,
                  model.safetensors.index.json, config.json), with edge tiles;
  legacy.gguf     deepseek2 GGUF with attn_kv_b, tensors quantized by libgguf (ggml's reference
                  quantizers) to Q8_0, Q6_K, Q4_K, Q3_K, Q2_K;
  split.gguf      the same with attn_k_b / attn_v_b;
  bf16.gguf       every tensor as BF16 (FP8 x scale in f32, rounded to bf16), norms F32;
  expected.json   per GGUF and tensor: MSE, cosine, NMSE computed here with numpy in float64 from
                  gguf-py's dequantization and an exact float64 FP8 x scale reference.
Nothing here shares code with quantscope.
"""
import json, os, struct, sys
import numpy as np
import ml_dtypes
import gguf
import libgguf

out = sys.argv[1]
rng = np.random.default_rng(20251129)
os.makedirs(os.path.join(out, "ref"), exist_ok=True)

H, VOCAB, LAYERS, DENSE = 256, 300, 3, 1
QL, KVL, HEADS, NOPE, ROPE, V = 192, 128, 4, 32, 16, 32
INTER, MOE, EXPERTS = 320, 192, 4
config = dict(architectures=["DeepseekV3ForCausalLM"], model_type="deepseek_v3", hidden_size=H,
              intermediate_size=INTER, moe_intermediate_size=MOE, num_hidden_layers=LAYERS,
              first_k_dense_replace=DENSE, n_routed_experts=EXPERTS, n_shared_experts=1,
              num_experts_per_tok=2, q_lora_rank=QL, kv_lora_rank=KVL, qk_nope_head_dim=NOPE,
              qk_rope_head_dim=ROPE, v_head_dim=V, num_attention_heads=HEADS, num_key_value_heads=HEADS,
              vocab_size=VOCAB, num_nextn_predict_layers=1,
              quantization_config=dict(activation_scheme="dynamic", fmt="e4m3", quant_method="fp8",
                                       weight_block_size=[128, 128]))

tensors = {}  # name -> (dtype string, numpy array of stored values)
exact = {}    # name -> float64 exact values (HF layout)

def fp8(name, out_dim, in_dim, scale=0.05):
    w = rng.standard_normal((out_dim, in_dim)) * scale
    w[rng.integers(0, out_dim), rng.integers(0, in_dim)] *= 30  # an outlier
    tr, tc = -(-out_dim // 128), -(-in_dim // 128)
    s = np.zeros((tr, tc), np.float32)
    q = np.zeros((out_dim, in_dim), ml_dtypes.float8_e4m3fn)
    for i in range(tr):
        for j in range(tc):
            blk = w[i*128:(i+1)*128, j*128:(j+1)*128]
            s[i, j] = np.float32(max(np.abs(blk).max(), 1e-4) / 448.0)
            q[i*128:(i+1)*128, j*128:(j+1)*128] = (blk / s[i, j]).astype(ml_dtypes.float8_e4m3fn)
    tensors[name] = ("F8_E4M3", q)
    tensors[name + "_scale_inv"] = ("F32", s)
    full = np.repeat(np.repeat(s.astype(np.float64), 128, 0), 128, 1)[:out_dim, :in_dim]
    exact[name] = q.astype(np.float64) * full

def bf16(name, shape, scale=1.0, offset=0.0):
    w = (rng.standard_normal(shape) * scale + offset).astype(ml_dtypes.bfloat16)
    tensors[name] = ("BF16", w)
    exact[name] = w.astype(np.float64)

def f32(name, shape):
    w = rng.standard_normal(shape).astype(np.float32)
    tensors[name] = ("F32", w)
    exact[name] = w.astype(np.float64)

bf16("model.embed_tokens.weight", (VOCAB, H))
for L in range(LAYERS + 1):  # layer LAYERS is the MTP layer, which GGUFs leave out
    p = f"model.layers.{L}."
    bf16(p + "input_layernorm.weight", (H,), 0.1, 1.0)
    bf16(p + "post_attention_layernorm.weight", (H,), 0.1, 1.0)
    fp8(p + "self_attn.q_a_proj.weight", QL, H)
    bf16(p + "self_attn.q_a_layernorm.weight", (QL,), 0.1, 1.0)
    fp8(p + "self_attn.q_b_proj.weight", HEADS * (NOPE + ROPE), QL)
    fp8(p + "self_attn.kv_a_proj_with_mqa.weight", KVL + ROPE, H)
    bf16(p + "self_attn.kv_a_layernorm.weight", (KVL,), 0.1, 1.0)
    fp8(p + "self_attn.kv_b_proj.weight", HEADS * (NOPE + V), KVL)
    fp8(p + "self_attn.o_proj.weight", H, HEADS * V)
    if L < DENSE:
        fp8(p + "mlp.gate_proj.weight", INTER, H)
        fp8(p + "mlp.up_proj.weight", INTER, H)
        fp8(p + "mlp.down_proj.weight", H, INTER)
    else:
        bf16(p + "mlp.gate.weight", (EXPERTS, H), 0.05)
        f32(p + "mlp.gate.e_score_correction_bias", (EXPERTS,))
        for e in range(EXPERTS):
            fp8(p + f"mlp.experts.{e}.gate_proj.weight", MOE, H)
            fp8(p + f"mlp.experts.{e}.up_proj.weight", MOE, H)
            fp8(p + f"mlp.experts.{e}.down_proj.weight", H, MOE)
        fp8(p + "mlp.shared_experts.gate_proj.weight", MOE, H)
        fp8(p + "mlp.shared_experts.up_proj.weight", MOE, H)
        fp8(p + "mlp.shared_experts.down_proj.weight", H, MOE)
bf16("model.norm.weight", (H,), 0.1, 1.0)
bf16("lm_head.weight", (VOCAB, H), 0.05)

# Two shards, names in insertion order, split half way.
names = list(tensors)
shards = [names[: len(names) // 2], names[len(names) // 2:]]
weight_map = {}
for k, part in enumerate(shards):
    fname = f"model-{k+1:05d}-of-{len(shards):05d}.safetensors"
    header, blobs, off = {}, [], 0
    for n in part:
        dt, arr = tensors[n]
        b = np.ascontiguousarray(arr).tobytes()
        header[n] = dict(dtype=dt, shape=list(arr.shape), data_offsets=[off, off + len(b)])
        blobs.append(b)
        off += len(b)
        weight_map[n] = fname
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(os.path.join(out, "ref", fname), "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))
json.dump(dict(metadata=dict(total_size=0), weight_map=weight_map), open(os.path.join(out, "ref", "model.safetensors.index.json"), "w"))
json.dump(config, open(os.path.join(out, "ref", "config.json"), "w"))

# GGUF tensors (numpy layout) from the exact reference, independently of quantscope's mapping.
def gguf_reference(layout):
    g = {"token_embd.weight": exact["model.embed_tokens.weight"],
         "output_norm.weight": exact["model.norm.weight"], "output.weight": exact["lm_head.weight"]}
    for L in range(LAYERS):
        p, b = f"model.layers.{L}.", f"blk.{L}."
        g[b + "attn_norm.weight"] = exact[p + "input_layernorm.weight"]
        g[b + "ffn_norm.weight"] = exact[p + "post_attention_layernorm.weight"]
        g[b + "attn_q_a.weight"] = exact[p + "self_attn.q_a_proj.weight"]
        g[b + "attn_q_a_norm.weight"] = exact[p + "self_attn.q_a_layernorm.weight"]
        g[b + "attn_q_b.weight"] = exact[p + "self_attn.q_b_proj.weight"]
        g[b + "attn_kv_a_mqa.weight"] = exact[p + "self_attn.kv_a_proj_with_mqa.weight"]
        g[b + "attn_kv_a_norm.weight"] = exact[p + "self_attn.kv_a_layernorm.weight"]
        kvb = exact[p + "self_attn.kv_b_proj.weight"]
        if layout == "legacy":
            g[b + "attn_kv_b.weight"] = kvb
        else:
            w = kvb.reshape(HEADS, NOPE + V, KVL)
            g[b + "attn_k_b.weight"] = np.ascontiguousarray(w[:, :NOPE, :].transpose(0, 2, 1))
            g[b + "attn_v_b.weight"] = np.ascontiguousarray(w[:, NOPE:, :])
        g[b + "attn_output.weight"] = exact[p + "self_attn.o_proj.weight"]
        if L < DENSE:
            for x in ("gate", "up", "down"):
                g[b + f"ffn_{x}.weight"] = exact[p + f"mlp.{x}_proj.weight"]
        else:
            g[b + "ffn_gate_inp.weight"] = exact[p + "mlp.gate.weight"]
            g[b + "exp_probs_b.bias"] = exact[p + "mlp.gate.e_score_correction_bias"]
            for x in ("gate", "up", "down"):
                g[b + f"ffn_{x}_exps.weight"] = np.stack([exact[p + f"mlp.experts.{e}.{x}_proj.weight"] for e in range(EXPERTS)])
                g[b + f"ffn_{x}_shexp.weight"] = exact[p + f"mlp.shared_experts.{x}_proj.weight"]
    return g

Q = gguf.GGMLQuantizationType
def choose(name, arr):
    if arr.ndim < 2 or "norm" in name or "ffn_gate_inp" in name or "exp_probs_b" in name:
        return Q.F32
    rules = [("token_embd", Q.Q4_K), ("output.weight", Q.Q6_K), ("attn_q_a.", Q.Q3_K), ("attn_kv_a_mqa", Q.Q2_K),
             ("ffn_gate.", Q.Q4_K), ("ffn_up.", Q.Q5_K), ("ffn_gate_exps", Q.Q3_K), ("ffn_up_exps", Q.Q2_K),
             ("ffn_gate_shexp", Q.Q6_K), ("ffn_up_shexp", Q.Q4_K)]
    for pat, t in rules:
        if (name == pat) if pat == "output.weight" else (pat in name):
            return t
    return Q.Q8_0

def write(path, layout, typer, precision_bf16=False):
    ref = gguf_reference(layout)
    w = gguf.GGUFWriter(path, "deepseek2")
    w.add_block_count(LAYERS)
    w.add_uint32("deepseek2.attention.head_count", HEADS)
    w.add_uint32("deepseek2.attention.head_count_kv", 1 if layout == "split" else HEADS)
    expected = {}
    for name, x in ref.items():
        t = typer(name, x)
        src = x.astype(np.float32)  # FP8 x scale in f32: what the converter feeds the quantizer
        if t == Q.F32:
            data = src
            deq = src.astype(np.float64)
        elif t == Q.BF16:
            data = src.astype(ml_dtypes.bfloat16).view(np.uint16)
            deq = src.astype(ml_dtypes.bfloat16).astype(np.float64)
        else:
            rows = src.reshape(-1, src.shape[-1])
            data = libgguf.quantize_rows(rows, int(t)).reshape(*src.shape[:-1], -1)
            deq = gguf.quants.dequantize(data, t).astype(np.float64).reshape(src.shape)
        if t == Q.F32:
            w.add_tensor(name, data)
        else:
            w.add_tensor(name, data, raw_shape=data.shape, raw_dtype=t)
        e = deq - x
        expected[name] = dict(type=t.name, mse=float(np.mean(e * e)), nmse=float(np.sum(e * e) / np.sum(x * x)),
                              cosine=float(np.sum(deq * x) / np.sqrt(np.sum(deq * deq) * np.sum(x * x))),
                              max_abs=float(np.max(np.abs(e))))
        if precision_bf16:
            xb = src.astype(ml_dtypes.bfloat16).astype(np.float64)
            eb = deq - xb
            expected[name]["mse_vs_bf16"] = float(np.mean(eb * eb))
    w.write_header_to_file(); w.write_kv_data_to_file(); w.write_tensors_to_file(); w.close()
    return expected

result = {
    "legacy.gguf": write(os.path.join(out, "legacy.gguf"), "legacy", choose),
    "split.gguf": write(os.path.join(out, "split.gguf"), "split", choose),
    "bf16.gguf": write(os.path.join(out, "bf16.gguf"), "split",
                       lambda n, x: Q.F32 if (x.ndim < 2 or "norm" in n) else Q.BF16, precision_bf16=True),
}
json.dump(result, open(os.path.join(out, "expected.json"), "w"), indent=1)

# The split-layout reference, exact (float64), for the requantization and imatrix oracles,
# and an importance matrix in llama.cpp's GGUF imatrix format (in_sum2 / counts per matrix).
ref = gguf_reference("split")
np.savez(os.path.join(out, "split-ref.npz"), **{k: v.astype(np.float64) for k, v in ref.items()})
iw = gguf.GGUFWriter(os.path.join(out, "imatrix.gguf"), "")
iw.add_array("imatrix.datasets", ["fixture.txt"])
iw.add_uint32("imatrix.chunk_count", 4)
iw.add_uint32("imatrix.chunk_size", 512)
for name, x in ref.items():
    if x.ndim < 2:
        continue
    mats = x.shape[0] if x.ndim == 3 else 1
    sums = (rng.random((mats, x.shape[-1])) * 10 + 0.1).astype(np.float32)
    counts = np.full((mats, 1), 4.0, np.float32)
    iw.add_tensor(name + ".in_sum2", sums)
    iw.add_tensor(name + ".counts", counts)
iw.write_header_to_file(); iw.write_kv_data_to_file(); iw.write_tensors_to_file(); iw.close()
print("ok", sum(len(v) for v in result.values()))
