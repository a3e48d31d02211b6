#!/usr/bin/env python3
"""Independent Python oracle for DeepSeek-V3/R1 FP8 checkpoints and their llama.cpp `deepseek2` GGUFs.

Used by scripts/make-samples.py and, through its CLI, by the Swift tests. It depends only on numpy and
ml_dtypes (no `safetensors`, no `torch`, no `gguf`): safetensors shards are parsed from their raw bytes,
F8_E4M3 (e4m3fn) codes are decoded with a table built from the bit formula, BF16 is `u16 << 16`.

Facts implemented here (DeepSeek's FP8 checkpoint layout and llama.cpp's convert_hf_to_gguf.py deepseek2 mapping):
  * dequantization: y[r, c] = fp8(x[r, c]) * scale_inv[r // 128, c // 128]; exact in float64 (a 4-bit
    significand times a 24-bit one needs at most 28 bits), one rounding in float32 (what DeepSeek's kernel and
    llama.cpp's converter compute), and optionally rounded to bf16 (round to nearest even) after that;
  * the HF -> GGUF name map for `deepseek2`, expert stacking (expert index outermost), the kv_b_proj split into
    attn_k_b (transposed) and attn_v_b (current layout) or attn_kv_b (legacy layout);
  * layers >= num_hidden_layers (the MTP module) are dropped, as convert_hf_to_gguf does.

CLI:
  deepseek_mapping.py dequant CHECKPOINT_DIR HF_NAME OUT.npy [--precision f64|f32|bf16]
      writes the dequantized HF tensor (HF orientation [out, in]); f64 = exact, f32 = one f32 multiply,
      bf16 = the f32 product rounded to bf16 (stored as float32 values). Non-FP8 tensors are widened exactly.
  deepseek_mapping.py map CHECKPOINT_DIR [--layout current|legacy|both]
      prints JSON {gguf_name: [hf_source, ..., transform]} in GGUF writing order.
  deepseek_mapping.py gguf-ref CHECKPOINT_DIR GGUF_NAME OUT.npy [--precision ...] [--layout ...]
      writes the reference values of a GGUF tensor in GGUF numpy orientation (shape = reversed ne).
"""
from __future__ import annotations

import json
import math
import os
import struct
import sys
from collections import OrderedDict

import numpy as np

BLOCK = 128  # DeepSeek's weight_block_size [128, 128]

# ---------------------------------------------------------------------------------------------------------
# FP8 e4m3fn and BF16 decoding (independent of ml_dtypes; ml_dtypes is only used for bf16 rounding)


def _e4m3fn_table() -> np.ndarray:
    """The 256 e4m3fn codes as float64, from the bit formula (bias 7, no infinities, NaN = S.1111.111)."""
    table = np.empty(256, dtype=np.float64)
    for b in range(256):
        sign = -1.0 if b & 0x80 else 1.0
        e = (b >> 3) & 0xF
        m = b & 0x7
        if e == 0xF and m == 0x7:
            table[b] = math.nan
        elif e == 0:
            table[b] = sign * (m / 8.0) * 2.0 ** (1 - 7)
        else:
            table[b] = sign * (1.0 + m / 8.0) * 2.0 ** (e - 7)
    return table


E4M3FN = _e4m3fn_table()


def bf16_bits_to_f32(bits: np.ndarray) -> np.ndarray:
    """BF16 bit patterns (uint16) to float32, exactly: f32 bits = u16 << 16."""
    return (bits.astype(np.uint32) << np.uint32(16)).view(np.float32)


def round_to_bf16(x: np.ndarray) -> np.ndarray:
    """float32 -> bf16 with round-to-nearest-even (llama.cpp / gguf-py / Triton), returned as float32 values."""
    x = np.ascontiguousarray(x, dtype=np.float32)
    bits = x.view(np.uint32).astype(np.uint64)
    rounded = ((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16).astype(np.uint32)
    nan = np.isnan(x)
    if nan.any():  # quiet NaN, as ggml_compute_fp32_to_bf16 does
        rounded[nan] = ((bits[nan] >> 16) | 64).astype(np.uint32)
    return (rounded << np.uint32(16)).view(np.float32).reshape(x.shape)


# ---------------------------------------------------------------------------------------------------------
# safetensors reading (raw bytes)

DTYPE_BYTES = {"BOOL": 1, "U8": 1, "I8": 1, "F8_E4M3": 1, "F8_E5M2": 1, "I16": 2, "U16": 2, "F16": 2,
               "BF16": 2, "I32": 4, "U32": 4, "F32": 4, "I64": 8, "U64": 8, "F64": 8}


class SafetensorsFile:
    """One safetensors file: header parsed, tensors read on demand as raw numpy arrays."""

    def __init__(self, path: str):
        self.path = path
        with open(path, "rb") as f:
            (n,) = struct.unpack("<Q", f.read(8))
            header = json.loads(f.read(n).decode("utf-8"))
        self.data_start = 8 + n
        self.metadata = header.pop("__metadata__", {})
        self.entries = header

    def raw(self, name: str) -> tuple[str, list[int], np.ndarray]:
        """(dtype string, shape, array) where F8 comes back as uint8 codes and BF16 as uint16 bits."""
        e = self.entries[name]
        dtype, shape = e["dtype"], list(e["shape"])
        begin, end = e["data_offsets"]
        with open(self.path, "rb") as f:
            f.seek(self.data_start + begin)
            buf = f.read(end - begin)
        np_dtype = {"F8_E4M3": np.uint8, "U8": np.uint8, "BF16": np.uint16, "F16": np.float16,
                    "F32": np.float32, "F64": np.float64, "I32": np.int32, "I64": np.int64}[dtype]
        arr = np.frombuffer(buf, dtype=np.dtype(np_dtype).newbyteorder("<")).reshape(shape)
        return dtype, shape, arr


class Checkpoint:
    """A (possibly sharded) DeepSeek-style checkpoint directory: config.json + safetensors shards."""

    def __init__(self, directory: str):
        self.directory = directory
        with open(os.path.join(directory, "config.json")) as f:
            self.config = json.load(f)
        index_path = os.path.join(directory, "model.safetensors.index.json")
        if os.path.exists(index_path):
            with open(index_path) as f:
                self.weight_map = json.load(f)["weight_map"]
        else:
            self.weight_map = {n: "model.safetensors" for n in
                               SafetensorsFile(os.path.join(directory, "model.safetensors")).entries}
        self._files: dict[str, SafetensorsFile] = {}

    def _file(self, name: str) -> SafetensorsFile:
        shard = self.weight_map[name]
        if shard not in self._files:
            self._files[shard] = SafetensorsFile(os.path.join(self.directory, shard))
        return self._files[shard]

    def names(self) -> list[str]:
        return sorted(self.weight_map)

    def raw(self, name: str):
        return self._file(name).raw(name)

    def scale_name(self, name: str) -> str | None:
        candidate = name + "_scale_inv"
        return candidate if candidate in self.weight_map else None

    def tensor(self, name: str, precision: str = "f64") -> np.ndarray:
        """The reference values of an HF tensor in its HF orientation.

        precision: "f64" exact; "f32" one float32 multiply; "bf16" the f32 product rounded to bf16.
        Non-FP8 tensors are widened exactly (BF16/F32 -> float32 or float64) for every precision.
        """
        dtype, shape, arr = self.raw(name)
        if dtype == "F8_E4M3":
            sname = self.scale_name(name)
            if sname is None:
                raise ValueError(f"{name}: F8_E4M3 without a {name}_scale_inv partner")
            _, _, scale = self.raw(sname)
            return dequantize(arr, scale, precision)
        if dtype == "BF16":
            values = bf16_bits_to_f32(arr)
        elif dtype in ("F32", "F16"):
            values = arr.astype(np.float32)
        else:
            values = arr
        return values.astype(np.float64) if precision == "f64" else values.astype(np.float32)


def expand_scale(scale: np.ndarray, shape: tuple[int, int], block: int = BLOCK) -> np.ndarray:
    """One scale per element: repeat each tile scale over its block, cropped at the edges (partial tiles)."""
    rows, cols = shape
    return np.repeat(np.repeat(scale, block, axis=0), block, axis=1)[:rows, :cols]


def dequantize(codes: np.ndarray, scale: np.ndarray, precision: str = "f64") -> np.ndarray:
    """FP8 e4m3fn codes [M, N] times 128x128 tile scales [ceil(M/128), ceil(N/128)]."""
    if codes.ndim != 2:
        raise ValueError("FP8 weights are 2-D")
    m, n = codes.shape
    if scale.shape != (math.ceil(m / BLOCK), math.ceil(n / BLOCK)):
        raise ValueError(f"scale shape {scale.shape} does not tile weight shape {codes.shape}")
    s = expand_scale(np.asarray(scale, dtype=np.float32), (m, n))
    x = E4M3FN[codes]
    if precision == "f64":
        return x * s.astype(np.float64)  # exact: at most 28 significant bits
    product = x.astype(np.float32) * s  # one f32 rounding, as weight.float() * scale in the converter
    if precision == "f32":
        return product
    if precision == "bf16":
        return round_to_bf16(product)
    raise ValueError(f"unknown precision {precision!r}")


# ---------------------------------------------------------------------------------------------------------
# HF -> GGUF deepseek2 mapping

# (HF suffix after "model.layers.L.", GGUF suffix after "blk.L.") for one-to-one tensors, in writing order.
_ATTN = [
    ("input_layernorm.weight", "attn_norm.weight"),
    ("self_attn.q_a_proj.weight", "attn_q_a.weight"),
    ("self_attn.q_a_layernorm.weight", "attn_q_a_norm.weight"),
    ("self_attn.q_b_proj.weight", "attn_q_b.weight"),
    ("self_attn.q_proj.weight", "attn_q.weight"),  # V2-Lite only (no q_lora_rank)
    ("self_attn.kv_a_proj_with_mqa.weight", "attn_kv_a_mqa.weight"),
    ("self_attn.kv_a_layernorm.weight", "attn_kv_a_norm.weight"),
]
_AFTER_KV = [
    ("self_attn.o_proj.weight", "attn_output.weight"),
    ("post_attention_layernorm.weight", "ffn_norm.weight"),
]
_DENSE = [("mlp.gate_proj.weight", "ffn_gate.weight"), ("mlp.up_proj.weight", "ffn_up.weight"),
          ("mlp.down_proj.weight", "ffn_down.weight")]
_MOE_SINGLE = [("mlp.gate.weight", "ffn_gate_inp.weight"),
               ("mlp.gate.e_score_correction_bias", "exp_probs_b.bias")]
_SHARED = [("mlp.shared_experts.gate_proj.weight", "ffn_gate_shexp.weight"),
           ("mlp.shared_experts.up_proj.weight", "ffn_up_shexp.weight"),
           ("mlp.shared_experts.down_proj.weight", "ffn_down_shexp.weight")]
_EXPERTS = [("gate_proj", "ffn_gate_exps.weight"), ("up_proj", "ffn_up_exps.weight"),
            ("down_proj", "ffn_down_exps.weight")]


def gguf_map(config: dict, layout: str = "current", present: set[str] | None = None) -> "OrderedDict[str, list]":
    """{gguf_name: [hf_source, ..., transform]} for a deepseek2 GGUF.

    transform is one of: "identity", "stack_experts" (sources in expert order, stacked on a new outermost
    axis), "kv_b_to_k_b" (view [n_head, nope+v, kv_lora], take [:, :nope, :], swap the last two axes),
    "kv_b_to_v_b" (take [:, nope:, :]), "kv_b" (legacy, identity).
    layout: "current" (attn_k_b + attn_v_b), "legacy" (attn_kv_b) or "both".
    present: if given, one-to-one tensors missing from the checkpoint are left out (e.g. q_proj vs q_a_proj).
    """
    if layout not in ("current", "legacy", "both"):
        raise ValueError(f"unknown layout {layout!r}")
    n_layer = int(config["num_hidden_layers"])  # layers >= this (MTP) are dropped
    first_dense = int(config.get("first_k_dense_replace", 0))
    freq = int(config.get("moe_layer_freq", 1))
    n_expert = int(config.get("n_routed_experts") or 0)
    has_q_lora = config.get("q_lora_rank") is not None
    out: "OrderedDict[str, list]" = OrderedDict()

    def add(gguf_name: str, sources: list[str], transform: str) -> None:
        if transform == "identity" and present is not None and sources[0] not in present:
            return
        out[gguf_name] = [*sources, transform]

    add("token_embd.weight", ["model.embed_tokens.weight"], "identity")
    for layer in range(n_layer):
        hf, gg = f"model.layers.{layer}.", f"blk.{layer}."
        for h, g in _ATTN:
            if has_q_lora and h == "self_attn.q_proj.weight":
                continue
            if not has_q_lora and h.startswith(("self_attn.q_a", "self_attn.q_b")):
                continue
            add(gg + g, [hf + h], "identity")
        kv_b = hf + "self_attn.kv_b_proj.weight"
        if layout in ("legacy", "both"):
            add(gg + "attn_kv_b.weight", [kv_b], "kv_b")
        if layout in ("current", "both"):
            add(gg + "attn_k_b.weight", [kv_b], "kv_b_to_k_b")
            add(gg + "attn_v_b.weight", [kv_b], "kv_b_to_v_b")
        for h, g in _AFTER_KV:
            add(gg + g, [hf + h], "identity")
        is_moe = n_expert > 0 and layer >= first_dense and layer % freq == 0
        if not is_moe:
            for h, g in _DENSE:
                add(gg + g, [hf + h], "identity")
            continue
        for h, g in _MOE_SINGLE:
            add(gg + g, [hf + h], "identity")
        for proj, g in _EXPERTS:
            add(gg + g, [f"{hf}mlp.experts.{e}.{proj}.weight" for e in range(n_expert)], "stack_experts")
        if int(config.get("n_shared_experts") or 0) > 0:
            for h, g in _SHARED:
                add(gg + g, [hf + h], "identity")
    add("output_norm.weight", ["model.norm.weight"], "identity")
    if not config.get("tie_word_embeddings", False):
        add("output.weight", ["lm_head.weight"], "identity")
    return out


def apply_transform(config: dict, transform: str, sources: list[np.ndarray]) -> np.ndarray:
    """Builds the GGUF tensor (numpy orientation, i.e. shape = reversed ne) from its HF sources."""
    if transform in ("identity", "kv_b"):
        return sources[0]
    if transform == "stack_experts":
        return np.stack(sources, axis=0)
    n_head = int(config["num_key_value_heads"])
    nope, v_dim = int(config["qk_nope_head_dim"]), int(config["v_head_dim"])
    kv = sources[0].reshape(n_head, nope + v_dim, sources[0].shape[-1])
    if transform == "kv_b_to_k_b":
        return np.ascontiguousarray(kv[:, :nope, :].transpose(0, 2, 1))
    if transform == "kv_b_to_v_b":
        return np.ascontiguousarray(kv[:, nope:, :])
    raise ValueError(f"unknown transform {transform!r}")


def is_forced_f32(gguf_name: str, ndim: int) -> bool:
    """Tensors convert_hf_to_gguf always writes as F32 and llama-quantize never quantizes."""
    return (ndim <= 1 or gguf_name.endswith("_norm.weight") or ".ffn_gate_inp." in gguf_name
            or not gguf_name.endswith(".weight"))


def gguf_reference(ckpt: Checkpoint, gguf_name: str, precision: str = "f64", layout: str = "current",
                   mapping: "OrderedDict[str, list] | None" = None) -> np.ndarray:
    """Reference values of one GGUF tensor, in GGUF numpy orientation."""
    mapping = mapping if mapping is not None else gguf_map(ckpt.config, layout, set(ckpt.weight_map))
    entry = mapping[gguf_name]
    *sources, transform = entry
    return apply_transform(ckpt.config, transform, [ckpt.tensor(s, precision) for s in sources])


# ---------------------------------------------------------------------------------------------------------
# CLI


def _usage() -> None:
    sys.stderr.write(__doc__.split("CLI:", 1)[1])
    sys.exit(64)


def _option(args: list[str], flag: str, default: str) -> str:
    if flag in args:
        i = args.index(flag)
        if i + 1 >= len(args):
            _usage()
        value = args[i + 1]
        del args[i:i + 2]
        return value
    return default


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        _usage()
    command, args = argv[1], list(argv[2:])
    precision = _option(args, "--precision", "f64")
    layout = _option(args, "--layout", "current")
    if command == "dequant" and len(args) == 3:
        ckpt = Checkpoint(args[0])
        np.save(args[2], ckpt.tensor(args[1], precision))
    elif command == "map" and len(args) == 1:
        ckpt = Checkpoint(args[0])
        json.dump(gguf_map(ckpt.config, layout, set(ckpt.weight_map)), sys.stdout, indent=1)
        sys.stdout.write("\n")
    elif command == "gguf-ref" and len(args) == 3:
        ckpt = Checkpoint(args[0])
        np.save(args[2], gguf_reference(ckpt, args[1], precision, layout))
    else:
        _usage()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
