import QuantscopeAnalysis
import QuantscopeFormats
import Testing

/// `general.file_type` names against the numbers llama-quantize writes.
@Suite("file type names")
struct FileTypeNameTests {
  @Test func `every llama-quantize file type's number is named after it`() {
    for type in LlamaFileType.allCases {
      let expected = type == .f32 ? "ALL_F32" : "MOSTLY_" + type.llamaName
      #expect(GGUFFileType.name(Int(type.id)) == expected, "\(type)")
    }
  }

  @Test func `descriptions, guessed types and unknown numbers`() {
    #expect(GGUFFileType.describe(15) == "MOSTLY_Q4_K_M (15)")
    #expect(GGUFFileType.describe(0) == "ALL_F32 (0)")
    #expect(GGUFFileType.name(1024 + 15) == "MOSTLY_Q4_K_M (guessed)")
    #expect(GGUFFileType.name(999) == nil)
    #expect(GGUFFileType.name(-1) == nil)
    #expect(GGUFFileType.describe(999) == "999")
  }
}
