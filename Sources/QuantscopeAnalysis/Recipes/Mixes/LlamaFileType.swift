import QuantscopeFormats

/// A llama-quantize file type (`llama_ftype`): the name given on its command line, the number it writes to
/// `general.file_type`, and the default tensor type its mix starts from.
///
/// Every type llama-quantize offers is here (its `QUANT_OPTIONS` table, without the aliases `Q3_K`, `Q4_K`,
/// `Q5_K` and the `COPY` pseudo-type). The mix rules that turn the default type into per-tensor types are in
/// ``LlamaMixEngine`` (versioned by ``MixRules``). Case names follow ggml's type spelling (`q4_K_M`), raw values
/// are the preset names (`q4_k_m`).
public enum LlamaFileType: String, Sendable, CaseIterable, Hashable {
  // The order is the preset order of `quantscope recipes list`: K mixes, legacy, IQ, ternary and MXFP4, float.
  case q2_K_S = "q2_k_s", q2_K = "q2_k", q3_K_S = "q3_k_s", q3_K_M = "q3_k_m", q3_K_L = "q3_k_l"
  case q4_K_S = "q4_k_s", q4_K_M = "q4_k_m", q5_K_S = "q5_k_s", q5_K_M = "q5_k_m", q6_K = "q6_k"
  case q8_0, q4_0, q4_1, q5_0, q5_1, q1_0, q2_0
  case iq1_S = "iq1_s", iq1_M = "iq1_m", iq2_XXS = "iq2_xxs", iq2_XS = "iq2_xs", iq2_S = "iq2_s", iq2_M = "iq2_m"
  case iq3_XXS = "iq3_xxs", iq3_XS = "iq3_xs", iq3_S = "iq3_s", iq3_M = "iq3_m", iq4_NL = "iq4_nl"
  case iq4_XS = "iq4_xs"
  case tq1_0, tq2_0
  case mxfp4_MOE = "mxfp4_moe"
  case f16, bf16, f32

  /// The file type named on llama-quantize's command line (`Q4_K_M`, any case), including its aliases
  /// `Q3_K`, `Q4_K` and `Q5_K` (the `_M` mixes).
  public init?(name: String) {
    let lower = name.lowercased()
    let aliases: [String: LlamaFileType] = ["q3_k": .q3_K_M, "q4_k": .q4_K_M, "q5_k": .q5_K_M]
    guard let type = LlamaFileType(rawValue: lower) ?? aliases[lower] else { return nil }
    self = type
  }

  /// The name as llama-quantize spells it (`Q4_K_M`).
  public var llamaName: String { rawValue.uppercased() }

  /// `llama_ftype`: what llama-quantize writes to `general.file_type`.
  public var id: UInt32 {
    switch self {
    case .f32: 0
    case .f16: 1
    case .q4_0: 2
    case .q4_1: 3
    case .q8_0: 7
    case .q5_0: 8
    case .q5_1: 9
    case .q2_K: 10
    case .q3_K_S: 11
    case .q3_K_M: 12
    case .q3_K_L: 13
    case .q4_K_S: 14
    case .q4_K_M: 15
    case .q5_K_S: 16
    case .q5_K_M: 17
    case .q6_K: 18
    case .iq2_XXS: 19
    case .iq2_XS: 20
    case .q2_K_S: 21
    case .iq3_XS: 22
    case .iq3_XXS: 23
    case .iq1_S: 24
    case .iq4_NL: 25
    case .iq3_S: 26
    case .iq3_M: 27
    case .iq2_S: 28
    case .iq2_M: 29
    case .iq4_XS: 30
    case .iq1_M: 31
    case .bf16: 32
    case .tq1_0: 36
    case .tq2_0: 37
    case .mxfp4_MOE: 38
    case .q1_0: 40
    case .q2_0: 41
    }
  }

  /// `llama_ftype_get_default_type`: the type every quantizable tensor starts from.
  public var defaultType: GGMLType {
    switch self {
    case .q4_0: .q4_0
    case .q4_1: .q4_1
    case .q5_0: .q5_0
    case .q5_1: .q5_1
    case .q8_0: .q8_0
    case .f16: .f16
    case .bf16: .bf16
    case .f32: .f32
    case .q1_0: .q1_0
    case .q2_0: .q2_0
    case .mxfp4_MOE: .mxfp4
    case .q2_K_S, .q2_K: .q2_K
    case .iq3_XS: .iq3_s
    case .q3_K_S, .q3_K_M, .q3_K_L: .q3_K
    case .q4_K_S, .q4_K_M: .q4_K
    case .q5_K_S, .q5_K_M: .q5_K
    case .q6_K: .q6_K
    case .tq1_0: .tq1_0
    case .tq2_0: .tq2_0
    case .iq2_XXS: .iq2_xxs
    case .iq2_XS: .iq2_xs
    case .iq2_S: .iq2_xs
    case .iq2_M: .iq2_s
    case .iq3_XXS: .iq3_xxs
    case .iq1_S: .iq1_s
    case .iq1_M: .iq1_m
    case .iq4_NL: .iq4_nl
    case .iq4_XS: .iq4_xs
    case .iq3_S, .iq3_M: .iq3_s
    }
  }

  /// What the preset is for, one line (`recipes list` and the README's table).
  public var summary: String {
    switch self {
    case .q2_K_S: "2.5-3 bpw K mix, Q2_K almost everywhere; needs an imatrix"
    case .q2_K: "smallest common K mix: Q2_K, ffn_down and attn_output Q3_K"
    case .q3_K_S: "Q3_K everywhere but the output"
    case .q3_K_M: "Q3_K with Q4_K/Q5_K attn_v, ffn_down, attn_output"
    case .q3_K_L: "Q3_K with Q5_K attn_v, ffn_down, attn_output"
    case .q4_K_S: "Q4_K with Q5_K on the first attn_v and ffn_down"
    case .q4_K_M: "the usual release mix: Q4_K, Q6_K on half of attn_v and ffn_down"
    case .q5_K_S: "Q5_K everywhere but the output"
    case .q5_K_M: "Q5_K, Q6_K on half of attn_v and ffn_down"
    case .q6_K: "Q6_K everywhere: near-lossless"
    case .q8_0: "Q8_0 everywhere: reference quality at half of F16"
    case .q4_0: "legacy 4-bit, fast on every backend"
    case .q4_1: "legacy 4-bit with a minimum"
    case .q5_0: "legacy 5-bit"
    case .q5_1: "legacy 5-bit with a minimum"
    case .q1_0: "1-bit sign with a scale (experimental)"
    case .q2_0: "2-bit, groups of 64 (experimental)"
    case .iq1_S: "1.56 bpw; needs an imatrix"
    case .iq1_M: "1.75 bpw; needs an imatrix"
    case .iq2_XXS: "2.06 bpw; needs an imatrix"
    case .iq2_XS: "2.31 bpw; needs an imatrix"
    case .iq2_S: "2.5 bpw mix; needs an imatrix"
    case .iq2_M: "2.7 bpw mix; needs an imatrix"
    case .iq3_XXS: "3.06 bpw; needs an imatrix"
    case .iq3_XS: "3.3 bpw mix of IQ3_S and IQ3_XXS"
    case .iq3_S: "3.44 bpw"
    case .iq3_M: "3.66 bpw mix of IQ3_S and Q4_K"
    case .iq4_NL: "4.5 bpw non-linear, 32-element blocks"
    case .iq4_XS: "4.25 bpw non-linear"
    case .tq1_0: "1.69 bpw ternary, for ternary-trained models (BitNet)"
    case .tq2_0: "2.06 bpw ternary, for ternary-trained models (BitNet)"
    case .mxfp4_MOE: "MXFP4 routed experts, Q8_0 elsewhere (gpt-oss style)"
    case .f16: "F16 everywhere"
    case .bf16: "BF16 everywhere"
    case .f32: "F32 everywhere"
    }
  }

  /// Whether the mix leaves its default type's choice alone because that type is not quantized
  /// (`ggml_is_quantized(default_type)` is false): F16, BF16, F32 ignore `--tensor-type` and the mix rules.
  public var isFloat: Bool { !defaultType.isQuantized }
}
