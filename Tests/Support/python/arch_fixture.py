#!/usr/bin/env python3
"""Small BF16 checkpoints of llama, qwen3 and gemma3 and F32 GGUFs converted from them the way
llama.cpp's convert_hf_to_gguf.py lays them out (llama Q/K rows permuted for rotary, gemma norms
stored plus one). A correct HF->GGUF mapping shows zero error between each pair.
Writes OUTDIR/ARCH/ref/{model.safetensors,config.json} and OUTDIR/ARCH/model.gguf."""
import json, os, struct, sys
import numpy as np
import ml_dtypes
import gguf

out = sys.argv[1]
rng = np.random.default_rng(7)
H, HEADS, KV, HD, INTER, VOCAB, LAYERS = 64, 4, 2, 16, 96, 50, 2

def permute(w, n_head):  # convert_hf_to_gguf LlamaModel.permute
    return w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)

def write_safetensors(path, tensors):
    header, blobs, off = {}, [], 0
    for n, a in tensors.items():
        b = a.tobytes()
        header[n] = dict(dtype="BF16", shape=list(a.shape), data_offsets=[off, off + len(b)])
        blobs.append(b); off += len(b)
    h = json.dumps(header).encode(); h += b" " * (-len(h) % 8)
    open(path, "wb").write(struct.pack("<Q", len(h)) + h + b"".join(blobs))

for arch, model_type in (("llama", "llama"), ("qwen3", "qwen3"), ("gemma3", "gemma3_text")):
    d = os.path.join(out, arch)
    os.makedirs(os.path.join(d, "ref"), exist_ok=True)
    t = {}
    def bf(name, shape, scale=0.1, offset=0.0):
        t[name] = (rng.standard_normal(shape) * scale + offset).astype(ml_dtypes.bfloat16)
    bf("model.embed_tokens.weight", (VOCAB, H))
    bf("model.norm.weight", (H,), 0.1, 1.0 if arch != "gemma3" else 0.0)
    if arch != "gemma3":
        bf("lm_head.weight", (VOCAB, H))
    for L in range(LAYERS):
        p = f"model.layers.{L}."
        bf(p + "input_layernorm.weight", (H,))
        bf(p + "post_attention_layernorm.weight", (H,))
        bf(p + "self_attn.q_proj.weight", (HEADS * HD, H))
        bf(p + "self_attn.k_proj.weight", (KV * HD, H))
        bf(p + "self_attn.v_proj.weight", (KV * HD, H))
        bf(p + "self_attn.o_proj.weight", (H, HEADS * HD))
        bf(p + "mlp.gate_proj.weight", (INTER, H))
        bf(p + "mlp.up_proj.weight", (INTER, H))
        bf(p + "mlp.down_proj.weight", (H, INTER))
        if arch in ("qwen3", "gemma3"):
            bf(p + "self_attn.q_norm.weight", (HD,))
            bf(p + "self_attn.k_norm.weight", (HD,))
        if arch == "gemma3":
            bf(p + "pre_feedforward_layernorm.weight", (H,))
            bf(p + "post_feedforward_layernorm.weight", (H,))
    write_safetensors(os.path.join(d, "ref", "model.safetensors"), t)
    json.dump(dict(model_type=model_type, num_attention_heads=HEADS, num_key_value_heads=KV,
                   num_hidden_layers=LAYERS, hidden_size=H), open(os.path.join(d, "ref", "config.json"), "w"))

    w = gguf.GGUFWriter(os.path.join(d, "model.gguf"), arch)
    w.add_uint32(f"{arch}.attention.head_count", HEADS)
    w.add_uint32(f"{arch}.attention.head_count_kv", KV)
    f = lambda n: t[n].astype(np.float32)
    w.add_tensor("token_embd.weight", f("model.embed_tokens.weight"))
    norm_plus = 1.0 if arch == "gemma3" else 0.0
    w.add_tensor("output_norm.weight", f("model.norm.weight") + norm_plus)
    if arch != "gemma3":
        w.add_tensor("output.weight", f("lm_head.weight"))
    for L in range(LAYERS):
        p, b = f"model.layers.{L}.", f"blk.{L}."
        q, k = f(p + "self_attn.q_proj.weight"), f(p + "self_attn.k_proj.weight")
        if arch == "llama":
            q, k = permute(q, HEADS), permute(k, KV)
        w.add_tensor(b + "attn_q.weight", q)
        w.add_tensor(b + "attn_k.weight", k)
        w.add_tensor(b + "attn_v.weight", f(p + "self_attn.v_proj.weight"))
        w.add_tensor(b + "attn_output.weight", f(p + "self_attn.o_proj.weight"))
        for x in ("gate", "up", "down"):
            w.add_tensor(b + f"ffn_{x}.weight", f(p + f"mlp.{x}_proj.weight"))
        w.add_tensor(b + "attn_norm.weight", f(p + "input_layernorm.weight") + norm_plus)
        if arch == "gemma3":
            w.add_tensor(b + "post_attention_norm.weight", f(p + "post_attention_layernorm.weight") + 1)
            w.add_tensor(b + "ffn_norm.weight", f(p + "pre_feedforward_layernorm.weight") + 1)
            w.add_tensor(b + "post_ffw_norm.weight", f(p + "post_feedforward_layernorm.weight") + 1)
        else:
            w.add_tensor(b + "ffn_norm.weight", f(p + "post_attention_layernorm.weight"))
        if arch in ("qwen3", "gemma3"):
            w.add_tensor(b + "attn_q_norm.weight", f(p + "self_attn.q_norm.weight") + norm_plus)
            w.add_tensor(b + "attn_k_norm.weight", f(p + "self_attn.k_norm.weight") + norm_plus)
    w.write_header_to_file(); w.write_kv_data_to_file(); w.write_tensors_to_file(); w.close()
print("ok")
