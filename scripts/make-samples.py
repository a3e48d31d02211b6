#!/usr/bin/env python3
"""Regenerates samples/: a tiny DeepSeek-V3-shaped FP8 checkpoint and deepseek2 GGUFs made from it.

    python3 scripts/make-samples.py [--out DIR] [--with-bf16] [--golden PATH/ggml-quants.gguf [--check-only]]

Deterministic: fixed seeds (one generator per tensor, seeded from its name), no timestamps; running it twice
gives byte-identical files. Needs Python 3 with numpy, ml_dtypes and gguf (gguf-py 0.19, PyPI); the
safetensors files are written by the small writer below (no `safetensors` package). gguf-py 0.19 cannot
quantize K-quants, so Q3_K, Q4_K and Q6_K come from numpy ports of ggml's quantize_row_*_K_ref below;
`--golden` checks them (and gguf-py's Q4_0/Q5_0/Q8_0) byte for byte against ggml's golden vectors first.

What is written (see the README.md it also writes):
  deepseek-tiny-fp8/               FP8 checkpoint in DeepSeek's real layout (2 shards + index + config.json)
  deepseek-tiny-Q4_K_M.gguf        llama.cpp's Q4_K_M mix for deepseek2 (current MLA layout)
  deepseek-tiny-Q3_K_M.gguf        llama.cpp's Q3_K_M mix for deepseek2 (current MLA layout)
  deepseek-tiny-Q8_0-0000N-of-00002.gguf  Q8_0, legacy attn_kv_b layout, split like gguf-split
  deepseek-tiny-BF16.gguf          only with --with-bf16 (too big to commit): the FP8 x scale product in bf16
"""
from __future__ import annotations

import json
import os
import struct
import sys
import zlib
from collections import OrderedDict

import ml_dtypes
import numpy as np

import gguf
from gguf import GGMLQuantizationType as QT

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import deepseek_mapping as dm  # noqa: E402

SEED = 20250101

# ---------------------------------------------------------------------------------------------------------
# The tiny model. Every GGUF row length (HF input dim) that llama.cpp K-quantizes is a multiple of 256:
# hidden 256, q_lora 256, kv_lora 256, n_head*v_head 256, intermediate 512, moe_intermediate 256. Output dims
# that are not multiples of 128 give partial FP8 tiles: kv_a_proj_with_mqa has kv_lora+rope = 288 rows (real
# V3: 576) and q_b_proj has n_head*(nope+rope) = 192 rows; kv_b_proj's 384 rows put head boundaries inside tiles.
# qk_nope (64) differs from v_head (128) so a k/v mix-up in the kv_b split cannot go unnoticed.

CONFIG = OrderedDict([
    ("architectures", ["DeepseekV3ForCausalLM"]),
    ("attention_bias", False),
    ("attention_dropout", 0.0),
    ("auto_map", {
        "AutoConfig": "configuration_deepseek.DeepseekV3Config",
        "AutoModel": "modeling_deepseek.DeepseekV3Model",
        "AutoModelForCausalLM": "modeling_deepseek.DeepseekV3ForCausalLM",
    }),
    ("aux_loss_alpha", 0.001),
    ("bos_token_id", 0),
    ("eos_token_id", 1),
    ("ep_size", 1),
    ("first_k_dense_replace", 1),
    ("hidden_act", "silu"),
    ("hidden_size", 256),
    ("initializer_range", 0.02),
    ("intermediate_size", 512),
    ("kv_lora_rank", 256),
    ("max_position_embeddings", 163840),
    ("model_type", "deepseek_v3"),
    ("moe_intermediate_size", 256),
    ("moe_layer_freq", 1),
    ("n_group", 4),
    ("n_routed_experts", 8),
    ("n_shared_experts", 1),
    ("norm_topk_prob", True),
    ("num_attention_heads", 2),
    ("num_experts_per_tok", 2),
    ("num_hidden_layers", 4),
    ("num_key_value_heads", 2),
    ("num_nextn_predict_layers", 0),
    ("q_lora_rank", 256),
    ("qk_nope_head_dim", 64),
    ("qk_rope_head_dim", 32),
    ("quantization_config", OrderedDict([
        ("activation_scheme", "dynamic"),
        ("fmt", "e4m3"),
        ("quant_method", "fp8"),
        ("weight_block_size", [128, 128]),
    ])),
    ("rms_norm_eps", 1e-06),
    ("rope_scaling", OrderedDict([
        ("beta_fast", 32),
        ("beta_slow", 1),
        ("factor", 40),
        ("mscale", 1.0),
        ("mscale_all_dim", 1.0),
        ("original_max_position_embeddings", 4096),
        ("type", "yarn"),
    ])),
    ("rope_theta", 10000),
    ("routed_scaling_factor", 2.5),
    ("scoring_func", "sigmoid"),
    ("seq_aux", True),
    ("tie_word_embeddings", False),
    ("topk_group", 2),
    ("topk_method", "noaux_tc"),
    ("torch_dtype", "bfloat16"),
    ("transformers_version", "4.46.3"),
    ("use_cache", True),
    ("v_head_dim", 128),
    ("vocab_size", 300),
])

SHARD_NAMES = ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"]


def hf_tensor_specs(c: dict) -> list[tuple[str, tuple[int, ...], str]]:
    """(name, shape, kind) for every HF tensor except the scales; kind says how DeepSeek stores it."""
    h, n_head = c["hidden_size"], c["num_attention_heads"]
    nope, rope, v = c["qk_nope_head_dim"], c["qk_rope_head_dim"], c["v_head_dim"]
    specs: list[tuple[str, tuple[int, ...], str]] = [("model.embed_tokens.weight", (c["vocab_size"], h), "embed")]
    for layer in range(c["num_hidden_layers"]):
        p = f"model.layers.{layer}."
        specs += [
            (p + "input_layernorm.weight", (h,), "norm"),
            (p + "self_attn.q_a_proj.weight", (c["q_lora_rank"], h), "fp8"),
            (p + "self_attn.q_a_layernorm.weight", (c["q_lora_rank"],), "norm"),
            (p + "self_attn.q_b_proj.weight", (n_head * (nope + rope), c["q_lora_rank"]), "fp8"),
            (p + "self_attn.kv_a_proj_with_mqa.weight", (c["kv_lora_rank"] + rope, h), "fp8"),
            (p + "self_attn.kv_a_layernorm.weight", (c["kv_lora_rank"],), "norm"),
            (p + "self_attn.kv_b_proj.weight", (n_head * (nope + v), c["kv_lora_rank"]), "fp8"),
            (p + "self_attn.o_proj.weight", (h, n_head * v), "fp8"),
            (p + "post_attention_layernorm.weight", (h,), "norm"),
        ]
        if layer < c["first_k_dense_replace"]:
            f = c["intermediate_size"]
            specs += [(p + "mlp.gate_proj.weight", (f, h), "fp8"), (p + "mlp.up_proj.weight", (f, h), "fp8"),
                      (p + "mlp.down_proj.weight", (h, f), "fp8")]
            continue
        f, n_exp = c["moe_intermediate_size"], c["n_routed_experts"]
        specs += [(p + "mlp.gate.weight", (n_exp, h), "router"),
                  (p + "mlp.gate.e_score_correction_bias", (n_exp,), "bias")]
        for e in range(n_exp):
            q = f"{p}mlp.experts.{e}."
            specs += [(q + "gate_proj.weight", (f, h), "fp8"), (q + "up_proj.weight", (f, h), "fp8"),
                      (q + "down_proj.weight", (h, f), "fp8")]
        fs = f * c["n_shared_experts"]
        q = p + "mlp.shared_experts."
        specs += [(q + "gate_proj.weight", (fs, h), "fp8"), (q + "up_proj.weight", (fs, h), "fp8"),
                  (q + "down_proj.weight", (h, fs), "fp8")]
    specs += [("model.norm.weight", (h,), "norm"), ("lm_head.weight", (c["vocab_size"], h), "embed")]
    return specs


def shard_of(name: str, c: dict) -> int:
    """Layers in the first half (and the embedding) go to shard 0, the rest (and norm, lm_head) to shard 1."""
    if name.startswith("model.layers."):
        return 0 if int(name.split(".")[2]) < c["num_hidden_layers"] // 2 else 1
    return 0 if name == "model.embed_tokens.weight" else 1


# ---------------------------------------------------------------------------------------------------------
# Weight values


def rng_for(name: str) -> np.random.Generator:
    return np.random.default_rng([SEED, zlib.crc32(name.encode())])


def linear_weight(name: str, shape: tuple[int, int]) -> np.ndarray:
    """Gaussian weights with what real checkpoints show: heavy-tailed entries, louder rows and input channels,
    and a few isolated "super weights" (much larger in down projections)."""
    rng = rng_for(name)
    out_dim, in_dim = shape
    std = 0.5 / np.sqrt(in_dim) * rng.uniform(0.6, 1.6)
    w = rng.standard_normal(shape) * std
    heavy = rng.random(shape) < 0.02
    w[heavy] = rng.standard_t(3, size=int(heavy.sum())) * std * 2.0
    rows = rng.choice(out_dim, size=max(1, out_dim // 24), replace=False)
    w[rows] *= rng.uniform(1.5, 5.0, size=(rows.size, 1))
    cols = rng.choice(in_dim, size=max(1, in_dim // 48), replace=False)
    w[:, cols] *= rng.uniform(1.5, 3.0, size=(1, cols.size))
    n_super = 3 if "down_proj" in name else 1
    for _ in range(n_super):
        r, k = rng.integers(out_dim), rng.integers(in_dim)
        w[r, k] = rng.choice([-1.0, 1.0]) * std * rng.uniform(20.0, 60.0 if "down_proj" in name else 30.0)
    return w.astype(np.float32)


def fp8_quantize(w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """DeepSeek-style block quantization: per 128x128 tile s = amax/448 (f32), q = e4m3fn(clamp(w/s, +-448)).
    Partial edge tiles take their amax over their real elements only."""
    m, n = w.shape
    tm, tn = -(-m // dm.BLOCK), -(-n // dm.BLOCK)
    scale = np.empty((tm, tn), dtype=np.float32)
    codes = np.empty((m, n), dtype=np.uint8)
    for i in range(tm):
        for j in range(tn):
            tile = w[i * 128:(i + 1) * 128, j * 128:(j + 1) * 128]
            amax = np.float32(max(float(np.abs(tile).max()), 1e-4))
            s = np.float32(amax / np.float32(448.0))
            q = np.clip(tile / s, np.float32(-448.0), np.float32(448.0)).astype(ml_dtypes.float8_e4m3fn)
            scale[i, j] = s
            codes[i * 128:(i + 1) * 128, j * 128:(j + 1) * 128] = q.view(np.uint8)
    return codes, scale


def to_bf16_bits(x: np.ndarray) -> np.ndarray:
    return dm.round_to_bf16(x.astype(np.float32)).view(np.uint32).__rshift__(16).astype(np.uint16)


def make_tensors(c: dict) -> "OrderedDict[str, tuple[str, np.ndarray]]":
    """name -> (safetensors dtype, array of raw values: uint8 codes, uint16 bf16 bits or float32)."""
    out: "OrderedDict[str, tuple[str, np.ndarray]]" = OrderedDict()
    for name, shape, kind in hf_tensor_specs(c):
        rng = rng_for(name)
        if kind == "fp8":
            codes, scale = fp8_quantize(linear_weight(name, shape))
            out[name] = ("F8_E4M3", codes)
            out[name + "_scale_inv"] = ("F32", scale)
        elif kind == "embed":
            w = rng.standard_normal(shape) * 0.02
            loud = rng.choice(shape[1], size=4, replace=False)  # a few "massive activation" channels
            w[:, loud] *= 8.0
            out[name] = ("BF16", to_bf16_bits(w))
        elif kind == "norm":
            # RMSNorm gains: around a per-tensor level, a few much larger ones.
            level = rng.uniform(0.05, 1.2)
            w = level * (1.0 + 0.15 * rng.standard_normal(shape))
            big = rng.choice(shape[0], size=max(1, shape[0] // 64), replace=False)
            w[big] *= rng.uniform(3.0, 12.0, size=big.size)
            out[name] = ("BF16", to_bf16_bits(w))
        elif kind == "router":
            out[name] = ("BF16", to_bf16_bits(rng.standard_normal(shape) * (1.0 / np.sqrt(shape[1]))))
        elif kind == "bias":
            out[name] = ("F32", (rng.standard_normal(shape) * 0.05).astype(np.float32))
        else:
            raise AssertionError(kind)
    return out


# ---------------------------------------------------------------------------------------------------------
# safetensors writer (what the Rust crate writes: dtype by decreasing alignment then name; header JSON
# padded with spaces to a multiple of 8; __metadata__ first; tensors contiguous, no gaps)

ALIGNMENT_RANK = {"F8_E4M3": 7, "BF16": 14, "F32": 17}  # position in the crate's Dtype enum


def write_safetensors(path: str, tensors: dict[str, tuple[str, np.ndarray]], metadata: dict[str, str]) -> int:
    order = sorted(tensors, key=lambda n: (-ALIGNMENT_RANK[tensors[n][0]], n))
    header: "OrderedDict[str, object]" = OrderedDict([("__metadata__", metadata)])
    offset = 0
    for name in order:
        dtype, arr = tensors[name]
        nbytes = arr.size * dm.DTYPE_BYTES[dtype]
        header[name] = OrderedDict([("dtype", dtype), ("shape", list(arr.shape)),
                                    ("data_offsets", [offset, offset + nbytes])])
        offset += nbytes
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for name in order:
            f.write(np.ascontiguousarray(tensors[name][1]).astype(tensors[name][1].dtype.newbyteorder("<")).tobytes())
    return offset


def write_checkpoint(directory: str, c: dict) -> "OrderedDict[str, tuple[str, np.ndarray]]":
    os.makedirs(directory, exist_ok=True)
    tensors = make_tensors(c)
    shards: list[dict[str, tuple[str, np.ndarray]]] = [{}, {}]
    for name, value in tensors.items():
        base = name[:-len("_scale_inv")] if name.endswith("_scale_inv") else name
        shards[shard_of(base, c)][name] = value
    total = 0
    weight_map = {}
    for shard_name, shard in zip(SHARD_NAMES, shards):
        total += write_safetensors(os.path.join(directory, shard_name), shard, {"format": "pt"})
        weight_map.update({n: shard_name for n in shard})
    index = {"metadata": {"total_size": total}, "weight_map": dict(sorted(weight_map.items()))}
    with open(os.path.join(directory, "model.safetensors.index.json"), "w") as f:
        json.dump(index, f, indent=2)
        f.write("\n")
    with open(os.path.join(directory, "config.json"), "w") as f:
        json.dump(c, f, indent=2)
        f.write("\n")
    return tensors


# ---------------------------------------------------------------------------------------------------------
# K-quant quantizers (no imatrix), written to reproduce ggml's quantize_row_{q3,q4,q6}_K_ref bit for bit:
# every operation is a float32 operation in ggml's order (sequential sums, separate multiply and add, as in
# a build without fused multiply-add), vectorized across blocks only. Checked against the golden vectors.

F32 = np.float32


def _nearest_int(v: np.ndarray) -> np.ndarray:
    """ggml's nearest_int: add 1.5 * 2^23 in float32 and read the low mantissa bits (round half to even)."""
    val = (v.astype(F32) + F32(12582912.0)).astype(F32)
    return (val.view(np.int32) & 0x007FFFFF) - 0x00400000


def _f16(v: np.ndarray) -> np.ndarray:
    return v.astype(F32).astype(np.float16)


def _first_absmax(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(value, |value|) of the first element with the largest |x| per row (ggml's strict > scan from 0)."""
    ax = np.abs(x)
    idx = np.argmax(ax, axis=1)
    rows = np.arange(x.shape[0])
    return x[rows, idx], ax[rows, idx]


def _make_qkx2_quants(x: np.ndarray, w: np.ndarray, nmax: int, rmin: float, rdelta: float, nstep: int):
    """make_qkx2_quants(use_mad = false) for rows of x: returns (scale, the_min, L)."""
    b, n = x.shape
    mn = x.min(axis=1)
    mx = x.max(axis=1)
    sum_w = w[:, 0].copy()
    sum_x = (sum_w * x[:, 0]).astype(F32)
    for i in range(1, n):
        sum_w = (sum_w + w[:, i]).astype(F32)
        sum_x = (sum_x + (w[:, i] * x[:, i]).astype(F32)).astype(F32)
    mn = np.where(mn > 0, F32(0), mn).astype(F32)
    flat = mx == mn
    rng = np.where(flat, F32(1), (mx - mn).astype(F32)).astype(F32)
    iscale = (F32(nmax) / rng).astype(F32)
    scale = (F32(1) / iscale).astype(F32)
    L = np.clip(_nearest_int((iscale[:, None] * (x - mn[:, None]).astype(F32)).astype(F32)), 0, nmax)
    best = np.zeros(b, dtype=F32)
    for i in range(n):
        d = ((scale * L[:, i].astype(F32)).astype(F32) + mn).astype(F32)
        d = (d - x[:, i]).astype(F32)
        best = (best + (w[:, i] * (d * d).astype(F32)).astype(F32)).astype(F32)
    mnv = mn.copy()
    for step in range(nstep + 1):
        # ggml updates `min` when a step wins, and later steps use the updated value.
        num = ((F32(rmin) + (F32(rdelta) * F32(step)).astype(F32)).astype(F32) + F32(nmax)).astype(F32)
        cur_rng = np.where(flat, F32(1), (mx - mnv).astype(F32)).astype(F32)
        isc = (num / cur_rng).astype(F32)
        la = np.clip(_nearest_int((isc[:, None] * (x - mnv[:, None]).astype(F32)).astype(F32)), 0, nmax)
        lf = la.astype(F32)
        s_l = np.zeros(b, F32)
        s_l2 = np.zeros(b, F32)
        s_xl = np.zeros(b, F32)
        for i in range(n):
            wl = (w[:, i] * lf[:, i]).astype(F32)
            s_l = (s_l + wl).astype(F32)
            s_l2 = (s_l2 + (wl * lf[:, i]).astype(F32)).astype(F32)
            s_xl = (s_xl + (wl * x[:, i]).astype(F32)).astype(F32)
        D = ((sum_w * s_l2).astype(F32) - (s_l * s_l).astype(F32)).astype(F32)
        ok = D > 0
        Dd = np.where(ok, D, F32(1)).astype(F32)
        this_scale = (((sum_w * s_xl).astype(F32) - (sum_x * s_l).astype(F32)).astype(F32) / Dd).astype(F32)
        this_min = (((s_l2 * sum_x).astype(F32) - (s_l * s_xl).astype(F32)).astype(F32) / Dd).astype(F32)
        pos = this_min > 0
        this_min = np.where(pos, F32(0), this_min).astype(F32)
        s_l2d = np.where(s_l2 == 0, F32(1), s_l2).astype(F32)
        this_scale = np.where(pos, (s_xl / s_l2d).astype(F32), this_scale).astype(F32)
        cur = np.zeros(b, F32)
        for i in range(n):
            d = ((this_scale * lf[:, i]).astype(F32) + this_min).astype(F32)
            d = (d - x[:, i]).astype(F32)
            cur = (cur + (w[:, i] * (d * d).astype(F32)).astype(F32)).astype(F32)
        better = ok & (cur < best) & ~flat
        L = np.where(better[:, None], la, L)
        best = np.where(better, cur, best)
        scale = np.where(better, this_scale, scale)
        mnv = np.where(better, this_min, mnv)
    L = np.where(flat[:, None], 0, L)
    scale = np.where(flat, F32(0), scale).astype(F32)
    return scale, (-mnv).astype(F32), L


def _make_qx_quants_rmse1(x: np.ndarray, nmax: int):
    """make_qx_quants(rmse_type = 1, qw = NULL): returns (scale, L) with L in [0, 2*nmax)."""
    b, n = x.shape
    mx, amax = _first_absmax(x)
    zero = amax < F32(1e-15)
    mxd = np.where(zero, F32(1), mx).astype(F32)

    def sums(iscale):
        l = np.clip(_nearest_int((iscale[:, None] * x).astype(F32)), -nmax, nmax - 1)
        lf = l.astype(F32)
        slx = np.zeros(b, F32)
        sl2 = np.zeros(b, F32)
        for i in range(n):
            wv = (x[:, i] * x[:, i]).astype(F32)
            slx = (slx + ((wv * x[:, i]).astype(F32) * lf[:, i]).astype(F32)).astype(F32)
            sl2 = (sl2 + ((wv * lf[:, i]).astype(F32) * lf[:, i]).astype(F32)).astype(F32)
        return l, slx, sl2

    iscale = (F32(-nmax) / mxd).astype(F32)
    l, slx, sl2 = sums(iscale)
    L = l + nmax
    scale = np.where(sl2 != 0, (slx / np.where(sl2 != 0, sl2, F32(1))).astype(F32), F32(0)).astype(F32)
    best = (scale * slx).astype(F32)
    for step in range(-9, 10):
        if step == 0:
            continue
        num = (F32(nmax) + (F32(0.1) * F32(step)).astype(F32)).astype(F32)
        iscale = ((-num).astype(F32) / mxd).astype(F32)
        l, slx, sl2 = sums(iscale)
        better = (sl2 > 0) & ((slx * slx).astype(F32) > (best * sl2).astype(F32))
        L = np.where(better[:, None], l + nmax, L)
        new_scale = (slx / np.where(sl2 > 0, sl2, F32(1))).astype(F32)
        scale = np.where(better, new_scale, scale).astype(F32)
        best = np.where(better, (scale * slx).astype(F32), best).astype(F32)
    L = np.where(zero[:, None], 0, L)
    scale = np.where(zero, F32(0), scale).astype(F32)
    return scale, L


def _make_q3_quants(x: np.ndarray, nmax: int):
    """make_q3_quants(do_rmse = true): returns (scale, L) with L in [0, 2*nmax)."""
    b, n = x.shape
    mx, amax = _first_absmax(x)
    zero = amax < F32(1e-15)
    mxd = np.where(zero, F32(1), mx).astype(F32)
    iscale = (F32(-nmax) / mxd).astype(F32)
    L = np.clip(_nearest_int((iscale[:, None] * x).astype(F32)), -nmax, nmax - 1)
    w = (x * x).astype(F32)
    sumlx = np.zeros(b, F32)
    suml2 = np.zeros(b, F32)
    for i in range(n):
        lf = L[:, i].astype(F32)
        sumlx = (sumlx + ((w[:, i] * x[:, i]).astype(F32) * lf).astype(F32)).astype(F32)
        suml2 = (suml2 + ((w[:, i] * lf).astype(F32) * lf).astype(F32)).astype(F32)
    active = ~zero
    for _ in range(5):
        changed = np.zeros(b, dtype=bool)
        for i in range(n):
            xi, wi = x[:, i], w[:, i]
            li = L[:, i].astype(F32)
            slx = (sumlx - ((wi * xi).astype(F32) * li).astype(F32)).astype(F32)
            go = active & (slx > 0)
            sl2 = (suml2 - ((wi * li).astype(F32) * li).astype(F32)).astype(F32)
            q = ((xi * sl2).astype(F32) / np.where(go, slx, F32(1))).astype(F32)
            new_l = np.clip(_nearest_int(np.where(go, q, F32(0))), -nmax, nmax - 1)
            go &= new_l != L[:, i]
            nf = new_l.astype(F32)
            slx2 = (slx + ((wi * xi).astype(F32) * nf).astype(F32)).astype(F32)
            sl22 = (sl2 + ((wi * nf).astype(F32) * nf).astype(F32)).astype(F32)
            lhs = ((slx2 * slx2).astype(F32) * suml2).astype(F32)
            rhs = ((sumlx * sumlx).astype(F32) * sl22).astype(F32)
            acc = go & (sl22 > 0) & (lhs > rhs)
            L[:, i] = np.where(acc, new_l, L[:, i])
            sumlx = np.where(acc, slx2, sumlx).astype(F32)
            suml2 = np.where(acc, sl22, suml2).astype(F32)
            changed |= acc
        active &= changed
        if not active.any():
            break
    scale = np.where(suml2 > 0, (sumlx / np.where(suml2 > 0, suml2, F32(1))).astype(F32), F32(0)).astype(F32)
    L = np.where(zero[:, None], 0, L + nmax)
    scale = np.where(zero, F32(0), scale).astype(F32)
    return scale, L


def quantize_q4_k(rows: np.ndarray) -> np.ndarray:
    """quantize_row_q4_K_ref over rows (last axis a multiple of 256); returns the block bytes per row."""
    shape = rows.shape
    x = np.ascontiguousarray(rows, dtype=F32).reshape(-1, 256)
    nb = x.shape[0]
    sub = x.reshape(nb * 8, 32)
    sum_x2 = np.zeros(nb * 8, F32)
    for l in range(32):
        sum_x2 = (sum_x2 + (sub[:, l] * sub[:, l]).astype(F32)).astype(F32)
    av_x = np.sqrt((sum_x2 / F32(32)).astype(F32)).astype(F32)
    weights = (av_x[:, None] + np.abs(sub)).astype(F32)
    scales, mins, L = _make_qkx2_quants(sub, weights, 15, -1.0, 0.1, 20)
    scales, mins, L = scales.reshape(nb, 8), mins.reshape(nb, 8), L.reshape(nb, 256)
    max_scale = np.maximum(scales.max(axis=1), F32(0)).astype(F32)
    max_min = np.maximum(mins.max(axis=1), F32(0)).astype(F32)
    inv_scale = np.where(max_scale > 0, (F32(63) / np.where(max_scale > 0, max_scale, F32(1))).astype(F32), F32(0))
    inv_min = np.where(max_min > 0, (F32(63) / np.where(max_min > 0, max_min, F32(1))).astype(F32), F32(0))
    ls = np.minimum(_nearest_int((inv_scale[:, None] * scales).astype(F32)) & 0xFF, 63)
    lm = np.minimum(_nearest_int((inv_min[:, None] * mins).astype(F32)) & 0xFF, 63)
    packed = np.zeros((nb, 12), dtype=np.int64)
    packed[:, 0:4] = ls[:, 0:4]
    packed[:, 4:8] = lm[:, 0:4]
    packed[:, 8:12] = (ls[:, 4:8] & 0xF) | ((lm[:, 4:8] & 0xF) << 4)
    packed[:, 0:4] |= (ls[:, 4:8] >> 4) << 6
    packed[:, 4:8] |= (lm[:, 4:8] >> 4) << 6
    d = _f16((max_scale / F32(63)).astype(F32))
    dmin = _f16((max_min / F32(63)).astype(F32))
    dj = (d.astype(F32)[:, None] * ls.astype(F32)).astype(F32)
    dmj = (dmin.astype(F32)[:, None] * lm.astype(F32)).astype(F32)
    xs = x.reshape(nb, 8, 32)
    q = ((xs + dmj[:, :, None]).astype(F32) / np.where(dj != 0, dj, F32(1))[:, :, None]).astype(F32)
    newL = np.clip(_nearest_int(q), 0, 15)
    L = np.where((dj != 0)[:, :, None], newL, L.reshape(nb, 8, 32)).reshape(nb, 256)
    qs = (L.reshape(nb, 4, 2, 32)[:, :, 0, :] | (L.reshape(nb, 4, 2, 32)[:, :, 1, :] << 4)).reshape(nb, 128)
    out = np.concatenate([d.view(np.uint8).reshape(nb, 2), dmin.view(np.uint8).reshape(nb, 2),
                          packed.astype(np.uint8), qs.astype(np.uint8)], axis=1)
    return out.reshape(*shape[:-1], shape[-1] // 256 * 144)


def quantize_q6_k(rows: np.ndarray) -> np.ndarray:
    """quantize_row_q6_K_ref over rows; returns the block bytes per row."""
    shape = rows.shape
    x = np.ascontiguousarray(rows, dtype=F32).reshape(-1, 256)
    nb = x.shape[0]
    scales, L = _make_qx_quants_rmse1(x.reshape(nb * 16, 16), 32)
    scales, L = scales.reshape(nb, 16), L.reshape(nb, 256)
    max_scale, max_abs = _first_absmax(scales)
    zero = max_abs < F32(1e-15)
    iscale = (F32(-128) / np.where(zero, F32(1), max_scale)).astype(F32)
    d = _f16((F32(1) / iscale).astype(F32))
    sc = np.minimum(127, _nearest_int((iscale[:, None] * scales).astype(F32)))
    dj = (d.astype(F32)[:, None] * sc.astype(F32)).astype(F32)
    xs = x.reshape(nb, 16, 16)
    q = (xs / np.where(dj != 0, dj, F32(1))[:, :, None]).astype(F32)
    newL = np.clip(_nearest_int(q), -32, 31) + 32
    L = np.where((dj != 0)[:, :, None], newL, L.reshape(nb, 16, 16)).reshape(nb, 2, 4, 32)
    ql = np.concatenate([(L[:, :, 0] & 0xF) | ((L[:, :, 2] & 0xF) << 4),
                         (L[:, :, 1] & 0xF) | ((L[:, :, 3] & 0xF) << 4)], axis=2).reshape(nb, 128)
    qh = ((L[:, :, 0] >> 4) | ((L[:, :, 1] >> 4) << 2) | ((L[:, :, 2] >> 4) << 4)
          | ((L[:, :, 3] >> 4) << 6)).reshape(nb, 64)
    out = np.concatenate([ql.astype(np.uint8), qh.astype(np.uint8), sc.astype(np.int8).view(np.uint8),
                          d.view(np.uint8).reshape(nb, 2)], axis=1)
    out[zero] = 0
    return out.reshape(*shape[:-1], shape[-1] // 256 * 210)


def quantize_q3_k(rows: np.ndarray) -> np.ndarray:
    """quantize_row_q3_K_ref over rows; returns the block bytes per row."""
    shape = rows.shape
    x = np.ascontiguousarray(rows, dtype=F32).reshape(-1, 256)
    nb = x.shape[0]
    scales, L = _make_q3_quants(x.reshape(nb * 16, 16), 4)
    scales, L = scales.reshape(nb, 16), L.reshape(nb, 256)
    max_scale, _ = _first_absmax(scales)
    nonzero = max_scale != 0
    iscale = (F32(-32) / np.where(nonzero, max_scale, F32(1))).astype(F32)
    l6 = np.clip(_nearest_int((iscale[:, None] * scales).astype(F32)), -32, 31) + 32
    l6 = np.where(nonzero[:, None], l6, 0)
    packed = np.zeros((nb, 12), dtype=np.int64)
    packed[:, 0:8] = (l6[:, 0:8] & 0xF) | ((l6[:, 8:16] & 0xF) << 4)
    for j in range(16):
        packed[:, 8 + j % 4] |= (l6[:, j] >> 4) << (2 * (j // 4))
    d = np.where(nonzero, _f16((F32(1) / iscale).astype(F32)), np.float16(0))
    sc = np.where(nonzero[:, None], l6 - 32, 0)
    dj = (d.astype(F32)[:, None] * sc.astype(F32)).astype(F32)
    xs = x.reshape(nb, 16, 16)
    q = (xs / np.where(dj != 0, dj, F32(1))[:, :, None]).astype(F32)
    newL = np.clip(_nearest_int(q), -4, 3) + 4
    L = np.where((dj != 0)[:, :, None], newL, L.reshape(nb, 16, 16)).reshape(nb, 256)
    high = L > 3
    hmask = np.zeros((nb, 32), dtype=np.int64)
    for bit in range(8):
        hmask |= high[:, bit * 32:(bit + 1) * 32].astype(np.int64) << bit
    L = np.where(high, L - 4, L).reshape(nb, 2, 4, 32)
    qs = (L[:, :, 0] | (L[:, :, 1] << 2) | (L[:, :, 2] << 4) | (L[:, :, 3] << 6)).reshape(nb, 64)
    out = np.concatenate([hmask.astype(np.uint8), qs.astype(np.uint8), packed.astype(np.uint8),
                          d.view(np.uint8).reshape(nb, 2)], axis=1)
    return out.reshape(*shape[:-1], shape[-1] // 256 * 110)


# ---------------------------------------------------------------------------------------------------------
# llama.cpp's per-tensor type choice for deepseek2 (reference dq3_k_m-and-llama-mixes.md §2), applied to the
# tiny model.

def use_more_bits(i: int, n: int) -> bool:
    return i < n // 8 or i >= 7 * n // 8 or (i - n // 8) % 3 == 2


def llama_type(mix: str, gguf_name: str, ne: list[int], n_layer: int) -> str:
    """The ggml type llama-quantize picks (deepseek2 rules with DeepSeek's 256 experts, i.e. without the
    Mixtral "exactly 8 experts" attn_output rule), including the row-length fallback (April-2025 code)."""
    block = int(gguf_name.split(".")[1]) if gguf_name.startswith("blk.") else -1
    base = {"Q4_K_M": "q4_k", "Q3_K_M": "q3_k"}[mix]
    if gguf_name == "output.weight":
        t = "q6_k"
    elif gguf_name == "token_embd.weight":
        t = base
    elif ".attn_output." in gguf_name:
        t = "q4_k"
    elif ".ffn_down" in gguf_name:
        if mix == "Q4_K_M":
            t = "q6_k" if use_more_bits(block, n_layer) else "q4_k"
        else:
            t = "q5_k" if block < n_layer // 16 else "q4_k"
    else:
        t = base
    if ne[0] % 256 != 0:
        # Newest llama.cpp fallback (Q2_K/Q3_K -> Q4_0; April-2025 to Feb-2026 code gave IQ4_NL for those).
        t = {"q2_k": "q4_0", "q3_k": "q4_0", "q4_k": "q5_0", "q5_k": "q5_1", "q6_k": "q8_0"}.get(t, t)
    return t


GGML_TYPES = {"q3_k": QT.Q3_K, "q4_k": QT.Q4_K, "q6_k": QT.Q6_K, "q4_0": QT.Q4_0, "q5_0": QT.Q5_0,
              "q5_1": QT.Q5_1, "q8_0": QT.Q8_0}
K_QUANTIZERS = {QT.Q3_K: quantize_q3_k, QT.Q4_K: quantize_q4_k, QT.Q6_K: quantize_q6_k}


def quantize(values: np.ndarray, qtype: QT) -> np.ndarray:
    """Block bytes of `values` (rows along the last axis) in `qtype`: K-quants by the ports above, the rest
    by gguf-py (whose Q4_0/Q4_1/Q5_0/Q5_1/Q8_0 match ggml's reference; checked with --golden)."""
    if qtype in K_QUANTIZERS:
        return K_QUANTIZERS[qtype](values)
    return gguf.quants.quantize(values, qtype)


def check_golden(path: str) -> None:
    """Every quantizer used here against ggml's own output (the golden vectors: 7 cases x 8 rows x 512)."""
    reader = gguf.GGUFReader(path)
    tensors = {t.name: t for t in reader.tensors}
    cases = sorted({n[3:] for n in tensors if n.startswith("in.")})
    for qtype in [QT.Q3_K, QT.Q4_K, QT.Q6_K, QT.Q4_0, QT.Q5_0, QT.Q8_0]:
        for case in cases:
            x = np.array(tensors["in." + case].data, dtype=np.float32).reshape(8, 512)
            want = np.array(tensors[f"{case}.{qtype.name.lower()}"].data).reshape(-1)
            got = quantize(x, qtype).reshape(-1)
            if not np.array_equal(got, want):
                raise SystemExit(f"{qtype.name} differs from ggml on case {case}")
    print(f"quantizers match ggml's golden vectors ({len(cases)} cases)")


# ---------------------------------------------------------------------------------------------------------
# Tokenizer stub: gpt2 byte-level BPE with the DeepSeek-V3 specials and merges learnt from a fixed text.

TEXT = ("the quick brown fox jumps over the lazy dog and the model weights are stored in eight bit floating "
        "point with one scale for every block of one hundred and twenty eight by one hundred and twenty eight "
        "values then the converter multiplies them back and writes the result into the file")


def bytes_to_unicode() -> dict[int, str]:
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, map(chr, cs)))


def tokenizer_stub(vocab_size: int) -> tuple[list[str], list[int], list[str]]:
    specials = ["<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>"]
    b2u = bytes_to_unicode()
    tokens = specials + [b2u[b] for b in range(256)]
    words = [[b2u[b] for b in (w if i == 0 else " " + w).encode()] for i, w in enumerate(TEXT.split(" "))]
    merges: list[str] = []
    while len(tokens) < vocab_size:
        counts: dict[tuple[str, str], int] = {}
        for w in words:
            for a, b in zip(w, w[1:]):
                counts[(a, b)] = counts.get((a, b), 0) + 1
        if not counts:
            tokens.append(f"<unused_{len(tokens)}>")
            continue
        pair = min(counts, key=lambda p: (-counts[p], p))
        merges.append(f"{pair[0]} {pair[1]}")
        tokens.append(pair[0] + pair[1])
        for w in words:
            i = 0
            while i < len(w) - 1:
                if (w[i], w[i + 1]) == pair:
                    w[i:i + 2] = [pair[0] + pair[1]]
                else:
                    i += 1
    types = [gguf.TokenType.CONTROL] * len(specials) + [gguf.TokenType.NORMAL] * (len(tokens) - len(specials))
    return tokens, [int(t) for t in types], merges


# ---------------------------------------------------------------------------------------------------------
# GGUF writing


def add_metadata(w: gguf.GGUFWriter, c: dict, layout: str, file_type: int) -> None:
    """The keys convert_hf_to_gguf (DeepseekV2Model) and llama-quantize write, for `layout`."""
    w.add_type("model")
    w.add_name("DeepSeek V3 Tiny Sample")
    w.add_block_count(c["num_hidden_layers"])
    w.add_context_length(c["max_position_embeddings"])
    w.add_embedding_length(c["hidden_size"])
    w.add_feed_forward_length(c["intermediate_size"])
    w.add_head_count(c["num_attention_heads"])
    # MLA files are written as MQA (1 KV head); legacy files kept num_key_value_heads.
    w.add_head_count_kv(1 if layout == "current" else c["num_key_value_heads"])
    w.add_rope_freq_base(float(c["rope_theta"]))
    w.add_layer_norm_rms_eps(c["rms_norm_eps"])
    w.add_expert_used_count(c["num_experts_per_tok"])
    w.add_expert_group_count(c["n_group"])
    w.add_expert_group_used_count(c["topk_group"])
    w.add_file_type(file_type)
    w.add_leading_dense_block_count(c["first_k_dense_replace"])
    w.add_vocab_size(c["vocab_size"])
    w.add_q_lora_rank(c["q_lora_rank"])
    w.add_kv_lora_rank(c["kv_lora_rank"])
    if layout == "current":
        w.add_key_length(c["kv_lora_rank"] + c["qk_rope_head_dim"])
        w.add_value_length(c["kv_lora_rank"])
        w.add_key_length_mla(c["qk_nope_head_dim"] + c["qk_rope_head_dim"])
        w.add_value_length_mla(c["v_head_dim"])
    else:
        w.add_key_length(c["qk_nope_head_dim"] + c["qk_rope_head_dim"])
        w.add_value_length(c["v_head_dim"])
    w.add_expert_feed_forward_length(c["moe_intermediate_size"])
    w.add_expert_count(c["n_routed_experts"])
    w.add_expert_shared_count(c["n_shared_experts"])
    w.add_expert_weights_scale(float(c["routed_scaling_factor"]))
    w.add_expert_weights_norm(c["norm_topk_prob"])
    w.add_expert_gating_func(gguf.ExpertGatingFuncType.SIGMOID)
    w.add_rope_dimension_count(c["qk_rope_head_dim"])
    rs = c["rope_scaling"]
    w.add_rope_scaling_type(gguf.RopeScalingType.YARN)
    w.add_rope_scaling_factor(float(rs["factor"]))
    w.add_rope_scaling_orig_ctx_len(rs["original_max_position_embeddings"])
    w.add_rope_scaling_yarn_log_mul(0.1 * rs["mscale_all_dim"])
    tokens, types, merges = tokenizer_stub(c["vocab_size"])
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre("deepseek-v3")
    w.add_token_list(tokens)
    w.add_token_types(types)
    w.add_token_merges(merges)
    w.add_bos_token_id(c["bos_token_id"])
    w.add_eos_token_id(c["eos_token_id"])
    w.add_pad_token_id(c["eos_token_id"])
    w.add_add_bos_token(True)
    w.add_add_eos_token(False)
    w.add_quantization_version(gguf.GGML_QUANT_VERSION)


def write_gguf(path: str, items: list[tuple[str, np.ndarray, QT]], metadata, kv_tail=None) -> None:
    """One GGUF file; `items` are (name, f32 values in numpy orientation, type)."""
    w = gguf.GGUFWriter(path, "deepseek2")
    if metadata is None:
        w.kv_data[0].clear()  # a later split: only the split keys (added through kv_tail)
    else:
        metadata(w)
    for key, value, vtype in kv_tail or []:
        w.add_key_value(key, value, vtype)
    for name, values, qtype in items:
        if qtype == QT.F32:
            w.add_tensor(name, np.ascontiguousarray(values, dtype=np.float32))
        else:
            w.add_tensor(name, quantize(np.ascontiguousarray(values, dtype=np.float32), qtype), raw_dtype=qtype)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def gguf_items(ckpt: dm.Checkpoint, layout: str, choose) -> list[tuple[str, np.ndarray, QT, str]]:
    """(gguf name, values, type, llama type) for every tensor of a deepseek2 GGUF of `ckpt`.

    Quantized tensors start from the bf16-rounded FP8 x scale product: the usual llama.cpp route is
    convert_hf_to_gguf to a BF16 GGUF, then llama-quantize (legacy-layout files were made from DeepSeek's
    fp8_cast_bf16.py output, also bf16). F32 tensors (norms, router, bias) are exact widenings of the source.
    """
    mapping = dm.gguf_map(ckpt.config, layout, set(ckpt.weight_map))
    out = []
    for name in mapping:
        values = dm.gguf_reference(ckpt, name, "bf16", layout, mapping)
        ne = list(values.shape[::-1])
        if dm.is_forced_f32(name, values.ndim):
            out.append((name, values.astype(np.float32), QT.F32, "f32"))
        else:
            qtype, label = choose(name, ne)
            out.append((name, values.astype(np.float32), qtype, label))
    return out


def type_table(items) -> list[str]:
    """README lines: GGUF tensor -> type."""
    lines = ["| tensor | ne | type |", "|---|---|---|"]
    for name, values, qtype, label in items:
        lines.append(f"| `{name}` | {list(values.shape[::-1])} | {qtype.name} |")
    return lines


def main(argv: list[str]) -> int:
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out = os.path.join(root, "samples")
    with_bf16 = "--with-bf16" in argv
    if "--out" in argv:
        out = argv[argv.index("--out") + 1]
    os.makedirs(out, exist_ok=True)
    c = CONFIG
    n_layer = c["num_hidden_layers"]

    if "--golden" in argv:
        check_golden(argv[argv.index("--golden") + 1])
        if "--check-only" in argv:
            return 0

    # Self-checks of the oracle against the packages it is independent of.
    codes = np.arange(256, dtype=np.uint8)
    ref = codes.view(ml_dtypes.float8_e4m3fn).astype(np.float64)
    assert np.array_equal(ref, dm.E4M3FN, equal_nan=True), "e4m3fn table disagrees with ml_dtypes"

    ckpt_dir = os.path.join(out, "deepseek-tiny-fp8")
    tensors = write_checkpoint(ckpt_dir, c)
    ckpt = dm.Checkpoint(ckpt_dir)
    for name, (dtype, arr) in tensors.items():  # read back through the oracle's own parser
        rd, _, back = ckpt.raw(name)
        assert rd == dtype and np.array_equal(back, arr), name
        if dtype == "F8_E4M3":
            # The exact f64 product rounds to the f32 one (a single rounding), and matches ml_dtypes' decoding.
            exact = ckpt.tensor(name, "f64")
            assert np.array_equal(exact.astype(np.float32), ckpt.tensor(name, "f32")), name
            widened = arr.view(ml_dtypes.float8_e4m3fn).astype(np.float64)
            scale = dm.expand_scale(tensors[name + "_scale_inv"][1], arr.shape).astype(np.float64)
            assert np.array_equal(widened * scale, exact), name

    readme_sections = []
    files = []

    def mixed(mix: str):
        def choose(name: str, ne: list[int]):
            t = llama_type(mix, name, ne, n_layer)
            return GGML_TYPES[t], t
        return choose

    for mix, fname, ftype in [("Q4_K_M", "deepseek-tiny-Q4_K_M.gguf", gguf.LlamaFileType.MOSTLY_Q4_K_M),
                              ("Q3_K_M", "deepseek-tiny-Q3_K_M.gguf", gguf.LlamaFileType.MOSTLY_Q3_K_M)]:
        items = gguf_items(ckpt, "current", mixed(mix))
        write_gguf(os.path.join(out, fname), [(n, v, q) for n, v, q, _ in items],
                   lambda w, t=ftype: add_metadata(w, c, "current", int(t)))
        files.append((fname, items))
        readme_sections.append((fname, mix, items))

    # Q8_0, legacy layout, split in two like `llama-gguf-split --split-max-tensors 40`.
    items = gguf_items(ckpt, "legacy", lambda name, ne: (QT.Q8_0, "q8_0"))
    per_shard = 40
    parts = [items[:per_shard], items[per_shard:]]
    for i, part in enumerate(parts):
        fname = f"deepseek-tiny-Q8_0-{i + 1:05d}-of-{len(parts):05d}.gguf"
        split_keys = [("split.no", i, gguf.GGUFValueType.UINT16),
                      ("split.tensors.count", len(items), gguf.GGUFValueType.INT32),
                      ("split.count", len(parts), gguf.GGUFValueType.UINT16)]
        meta = (lambda w: add_metadata(w, c, "legacy", int(gguf.LlamaFileType.MOSTLY_Q8_0))) if i == 0 else None
        write_gguf(os.path.join(out, fname), [(n, v, q) for n, v, q, _ in part], meta, split_keys)
        files.append((fname, part))
    readme_sections.append(("deepseek-tiny-Q8_0-0000N-of-00002.gguf", "Q8_0", items))

    if with_bf16:
        items_bf16 = gguf_items(ckpt, "current", lambda name, ne: (QT.BF16, "bf16"))
        write_gguf(os.path.join(out, "deepseek-tiny-BF16.gguf"), [(n, v, q) for n, v, q, _ in items_bf16],
                   lambda w: add_metadata(w, c, "current", int(gguf.LlamaFileType.MOSTLY_BF16)))

    # Verify every GGUF with gguf-py's reader: same names, types, shapes; dequantized values close to the
    # reference; F32 tensors exactly equal to it.
    for fname, items in files:
        reader = gguf.GGUFReader(os.path.join(out, fname))
        got = {t.name: t for t in reader.tensors}
        assert list(got) == [n for n, *_ in items], fname
        for name, values, qtype, _ in items:
            t = got[name]
            assert t.tensor_type == qtype and list(t.shape) == list(values.shape[::-1]), (fname, name)
            deq = gguf.quants.dequantize(t.data, t.tensor_type).reshape(values.shape)
            if qtype == QT.F32:
                assert np.array_equal(deq, values), (fname, name)
            else:
                rel = np.sqrt(np.mean((deq - values) ** 2) / np.mean(values ** 2))
                assert rel < 0.35, (fname, name, rel)  # a sanity bound; q3_k on loud channels reaches ~0.2

    write_readme(out, c, ckpt, readme_sections, with_bf16)
    return 0


def file_size(path: str) -> int:
    return os.path.getsize(path) if os.path.exists(path) else 0


def write_readme(out: str, c: dict, ckpt: dm.Checkpoint, sections, with_bf16: bool) -> None:
    ckdir = os.path.join(out, "deepseek-tiny-fp8")
    names = ckpt.names()
    kinds: dict[str, int] = {}
    for n in names:
        kinds[ckpt.raw(n)[0]] = kinds.get(ckpt.raw(n)[0], 0) + 1
    edge = [n for n in names if ckpt.raw(n)[0] == "F8_E4M3" and any(d % 128 for d in ckpt.raw(n)[1])]
    edge_kinds = sorted({".".join(n.split(".")[3:]) for n in edge})
    total = sum(file_size(os.path.join(out, f)) for f in sorted(os.listdir(out)) if f.endswith(".gguf")
                and "BF16" not in f) + sum(file_size(os.path.join(ckdir, f)) for f in sorted(os.listdir(ckdir)))
    L = []
    L += ["# samples/", "",
          "Generated by `python3 scripts/make-samples.py` (deterministic: fixed seeds, no timestamps; needs numpy,",
          "ml_dtypes and gguf 0.19 from PyPI). Do not edit by hand; this README is written by the same script.",
          f"Total size of the committed samples: {total:,} bytes.", "",
          "## The model", "",
          "A tiny DeepSeek-V3-shaped model with the real structure: MLA attention (q_lora, kv_lora, nope/rope",
          "split, v_head), one dense layer (`first_k_dense_replace` = 1) then MoE layers with routed experts,",
          "one shared expert, a sigmoid router with `e_score_correction_bias`. No MTP layer",
          "(`num_nextn_predict_layers` = 0).", "",
          "| config key | value |", "|---|---|"]
    for k in ["hidden_size", "intermediate_size", "moe_intermediate_size", "num_hidden_layers",
              "first_k_dense_replace", "n_routed_experts", "n_shared_experts", "num_experts_per_tok", "n_group",
              "topk_group", "num_attention_heads", "num_key_value_heads", "q_lora_rank", "kv_lora_rank",
              "qk_nope_head_dim", "qk_rope_head_dim", "v_head_dim", "vocab_size"]:
        L.append(f"| {k} | {c[k]} |")
    L += ["",
          "Every GGUF row length that llama.cpp K-quantizes (the HF input dimension) is a multiple of 256, so",
          "K-quants need no fallback except for `attn_k_b` (ne0 = qk_nope = 64), as in the real model.",
          "Partial FP8 tiles exist along the output dimension: " +
          ", ".join(f"`{k}`" for k in edge_kinds) + ".",
          "`qk_nope_head_dim` (64) differs from `v_head_dim` (128), and kv_b_proj's head boundaries fall inside",
          "128-row tiles, so a mistake in the kv_b split shows.", "",
          "Weights: gaussian with 2 % heavy-tailed (Student t, 3 dof) entries, louder rows and input channels, and",
          "a few isolated large \"super weights\" (more in down projections); embeddings with a few loud",
          "channels; RMSNorm gains around a per-tensor level with some large ones.", "",
          "## deepseek-tiny-fp8/", "",
          "The FP8 reference in DeepSeek's real layout: `config.json` (DeepSeek-V3 keys and",
          "`quantization_config` fp8/e4m3/[128,128]/dynamic), `model.safetensors.index.json`, and two shards",
          "written by a small writer that does what the Rust safetensors crate does (tensors sorted by dtype",
          "alignment then name, header padded with spaces to 8 bytes, `__metadata__` {\"format\":\"pt\"}).",
          "Layers 0–1 and the embedding are in shard 1; layers 2–3, `model.norm` and `lm_head` in shard 2.", "",
          f"Tensors: {len(names)} (" + ", ".join(f"{v} {k}" for k, v in sorted(kinds.items())) + ").",
          "F8_E4M3 (e4m3fn): every attention projection, the dense MLP, routed and shared experts, each with an F32",
          "`weight_scale_inv` of shape [ceil(out/128), ceil(in/128)], computed as DeepSeek did: per 128×128 tile",
          "s = amax/448, q = e4m3fn(clamp(w/s, ±448)) (edge tiles use their real elements only). BF16: embeddings,",
          "`lm_head`, all norms, the router `mlp.gate.weight`. F32: `e_score_correction_bias`.", "",
          "Reference values: `python3 scripts/deepseek_mapping.py dequant samples/deepseek-tiny-fp8 NAME OUT.npy",
          "[--precision f64|f32|bf16]` (f64 exact FP8×scale; f32 one float32 multiply; bf16 that rounded to bf16).",
          "`... map samples/deepseek-tiny-fp8 [--layout current|legacy]` prints the HF→GGUF map;",
          "`... gguf-ref samples/deepseek-tiny-fp8 GGUF_NAME OUT.npy` gives a GGUF tensor's reference.", "",
          "## GGUF files", "",
          "All are `deepseek2` GGUFs converted the way llama.cpp's `convert_hf_to_gguf.py` does (FP8×scale",
          "dequantized, names mapped, experts stacked into 3-D `ffn_*_exps` with the expert index outermost,",
          "`exp_probs_b.bias`, norms/router/bias as F32 with exactly the source values), with the metadata keys",
          "the converter and llama-quantize write and a stub gpt2 tokenizer (DeepSeek specials, 256 byte tokens,",
          "merges learnt from a fixed sentence). Quantized tensors are made from the bf16-rounded reference, the",
          "usual route (convert to BF16, then llama-quantize; legacy-layout files were converted from the output",
          "of DeepSeek's fp8_cast_bf16.py, also bf16).", "",
          "**K-quants:** gguf-py 0.19 cannot quantize K-quants or IQ types, so Q3_K, Q4_K and Q6_K are made by",
          "numpy ports of ggml's `quantize_row_{q3,q4,q6}_K_ref` in `scripts/make-samples.py` (float32 operations",
          "in ggml's order, no fused multiply-add). They reproduce ggml's golden vectors byte for byte",
          "(`python3 scripts/make-samples.py --golden Tests/Fixtures/golden/ggml-quants.gguf` checks before writing),",
          "so the tensors are what x86-64 `llama-quantize` (no imatrix) writes for the same bf16 input.",
          "Q4_0, Q5_0 and Q8_0 come from gguf-py, whose output also matches the golden vectors.", "",
          "The mixes follow the deepseek2 rules as they apply to the real 256-expert model (reference",
          "dq3_k_m-and-llama-mixes.md §2.2), evaluated for this model's 4 blocks: Q4_K_M gives `ffn_down*` q6_k",
          "where use_more_bits(block, 4) holds (blocks 2 and 3); Q3_K_M gives q5_k for blocks < 4/16 (none),",
          "otherwise q4_k. `attn_k_b` (ne0 = 64) takes the row-length fallback: q5_0 under Q4_K_M, and under",
          "Q3_K_M the newest llama.cpp's Q4_0 (April-2025 to Feb-2026 code gave IQ4_NL, which nothing here can",
          "write). Caveat: real llama-quantize run on this tiny model would also fire its \"exactly 8 experts\"",
          "(Mixtral) rule and give `attn_output` q5_k; that rule is not applied here, as it does not fire for the",
          "real 256-expert model. `general.file_type` is MOSTLY_Q4_K_M (15) / MOSTLY_Q3_K_M (12).", ""]
    L += ["| file | layout | what | size (bytes) | tensors |", "|---|---|---|---|---|"]
    for fname, mix, items in sections:
        if "0000N" in fname:
            size = sum(file_size(os.path.join(out, fname.replace("0000N", f"{i:05d}"))) for i in (1, 2))
            L.append(f"| `{fname}` (2 shards) | legacy `attn_kv_b` | Q8_0 everywhere except F32 tensors | {size:,} | {len(items)} |")
        else:
            L.append(f"| `{fname}` | current `attn_k_b` + `attn_v_b` | llama.cpp {mix} mix | "
                     f"{file_size(os.path.join(out, fname)):,} | {len(items)} |")
    L += ["",
          "The split set is cut after 40 tensors; shard 1 holds all metadata plus `split.no` (u16),",
          "`split.tensors.count` (i32), `split.count` (u16) in the order gguf-split writes them; shard 2 holds only",
          "the three split keys. It uses the legacy layout (`attn_kv_b` = kv_b_proj unchanged, key_length =",
          "nope+rope, value_length = v_head, head_count_kv = num_key_value_heads, no `*_mla` keys), so both",
          "layouts have a sample; the mix files use the current MLA layout (`attn_k_b` = the nope rows of each",
          "head transposed, ne [nope, kv_lora, n_head]; `attn_v_b` ne [kv_lora, v_head, n_head]; head_count_kv 1;",
          "key_length = kv_lora+rope, value_length = kv_lora, `key_length_mla`, `value_length_mla`).", "",
          "Not committed (too large for the ~10 MB budget, which the routed experts alone already exceed): a BF16",
          "GGUF of the reference (current layout; every 2-D/3-D tensor = FP8×scale rounded to bf16, so it has",
          "zero error against the bf16 reference). Make it with",
          "`python3 scripts/make-samples.py --out DIR --with-bf16` (writes `DIR/deepseek-tiny-BF16.gguf`).", ""]
    for fname, mix, items in sections:
        L += [f"### {fname}", ""] + type_table(items) + [""]
    L += ["## Report screenshots", "",
          "Not made by this script: `report.png` and `tune-report.png` are rendered by headless Chromium",
          "(`scripts/setup --test` installs it) from the HTML reports, with `quantscope` on `PATH`:", "",
          "```sh",
          "quantscope diff samples/deepseek-tiny-Q3_K_M.gguf --ref samples/deepseek-tiny-fp8 --report report.html",
          "quantscope tune samples/deepseek-tiny-Q3_K_M.gguf --ref samples/deepseek-tiny-fp8 --target-size 3MiB \\",
          "    --pareto -o best-3MiB.txt --report tune.html",
          "chromium --headless=new --no-sandbox --hide-scrollbars --window-size=1240,940 \\",
          "    --screenshot=samples/tune-report.png \"file://$PWD/tune.html\"",
          "```", ""]
    with open(os.path.join(out, "README.md"), "w") as f:
        f.write("\n".join(L))


if __name__ == "__main__":
    sys.exit(main(sys.argv))
