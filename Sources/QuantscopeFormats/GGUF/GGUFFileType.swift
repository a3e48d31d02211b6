/// Names of `general.file_type` values: llama.cpp's `enum llama_ftype` (`include/llama.h`) without
/// its `LLAMA_FTYPE_` prefix, so that `15` reads `MOSTLY_Q4_K_M` as llama.cpp's sources spell it.
///
/// Values llama.h has since commented out (4–6, 33–35) keep their old names: files written
/// before their removal still carry them. Bit 1024 (`LLAMA_FTYPE_GUESSED`) marks a type llama.cpp
/// guessed rather than read; it is named as `<name> (guessed)`.
public enum GGUFFileType {
  /// `LLAMA_FTYPE_GUESSED`: set when the file type was not in the file.
  public static let guessedFlag = 1024

  /// Every named value.
  public static let names: [Int: String] = [
    0: "ALL_F32", 1: "MOSTLY_F16", 2: "MOSTLY_Q4_0", 3: "MOSTLY_Q4_1", 4: "MOSTLY_Q4_1_SOME_F16",
    5: "MOSTLY_Q4_2", 6: "MOSTLY_Q4_3", 7: "MOSTLY_Q8_0", 8: "MOSTLY_Q5_0", 9: "MOSTLY_Q5_1",
    10: "MOSTLY_Q2_K", 11: "MOSTLY_Q3_K_S", 12: "MOSTLY_Q3_K_M", 13: "MOSTLY_Q3_K_L", 14: "MOSTLY_Q4_K_S",
    15: "MOSTLY_Q4_K_M", 16: "MOSTLY_Q5_K_S", 17: "MOSTLY_Q5_K_M", 18: "MOSTLY_Q6_K", 19: "MOSTLY_IQ2_XXS",
    20: "MOSTLY_IQ2_XS", 21: "MOSTLY_Q2_K_S", 22: "MOSTLY_IQ3_XS", 23: "MOSTLY_IQ3_XXS", 24: "MOSTLY_IQ1_S",
    25: "MOSTLY_IQ4_NL", 26: "MOSTLY_IQ3_S", 27: "MOSTLY_IQ3_M", 28: "MOSTLY_IQ2_S", 29: "MOSTLY_IQ2_M",
    30: "MOSTLY_IQ4_XS", 31: "MOSTLY_IQ1_M", 32: "MOSTLY_BF16", 33: "MOSTLY_Q4_0_4_4", 34: "MOSTLY_Q4_0_4_8",
    35: "MOSTLY_Q4_0_8_8", 36: "MOSTLY_TQ1_0", 37: "MOSTLY_TQ2_0", 38: "MOSTLY_MXFP4_MOE", 39: "MOSTLY_NVFP4",
    40: "MOSTLY_Q1_0", 41: "MOSTLY_Q2_0",
  ]

  /// The name of `value` (`MOSTLY_Q4_K_M` for 15), or `nil` for a value llama.h does not name.
  public static func name(_ value: Int) -> String? {
    if value >= 0, value & guessedFlag != 0, let base = names[value & ~guessedFlag] {
      return base + " (guessed)"
    }
    return names[value]
  }

  /// `MOSTLY_Q4_K_M (15)`, or the bare number when it has no name.
  public static func describe(_ value: Int) -> String {
    name(value).map { "\($0) (\(value))" } ?? String(value)
  }
}
