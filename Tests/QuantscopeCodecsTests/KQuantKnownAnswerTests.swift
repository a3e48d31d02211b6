import QuantscopeCodecs
import QuantscopeFormats
import QuantscopeTestSupport
import Testing

/// The known-answer tests of the reference (`gguf-and-ggml-types.md` §5.16): inputs built from a
/// xorshift32 stream with exact f32 arithmetic, 8 rows × 1024 (four K super-blocks per row, so
/// the importance vector restarts at every row), and the first 32 hex digits of the SHA-256 of
/// ggml's quantized bytes and of their dequantization. They add what the golden file lacks:
/// longer rows, a whole all-zero super-block (set B), and heavy-tailed ratios (set C).
@Suite("Known answers: legacy quants and K-quants")
struct KQuantKnownAnswerTests {
  /// One row of the reference table.
  struct KAT: Sendable, CustomTestStringConvertible {
    let set: String
    let type: GGMLType
    let bytes: String
    let values: String
    let bytesIm: String?
    let valuesIm: String?
    init(_ set: String, _ type: GGMLType, _ bytes: String, _ values: String, _ bytesIm: String?, _ valuesIm: String?) {
      self.set = set
      self.type = type
      self.bytes = bytes
      self.values = values
      self.bytesIm = bytesIm
      self.valuesIm = valuesIm
    }
    var testDescription: String { "\(set) \(type)" }
  }

  static let table: [KAT] = [
    KAT(
      "A", .q4_0, "dec2eb2d6496f042cc56b3977330df6a", "ce691554996b8f540f5b1b80da7815c6",
      "d4dbdabcbe140fcec956d4af2b642f1e", "a260a9e1999b244ba2c9ce4b0c1aeb08"),
    KAT(
      "A", .q4_1, "687301a4b5e5c06ae2166c52749d2548", "926c6fd74e86886aa631e9a4a69e427c",
      "4bbbb7c5beac28ce86f648c65df09824", "7e401d2d83ea1161ea406967f25f3ae8"),
    KAT(
      "A", .q5_0, "275afacbe45727db2ac11c74ea0f9f3c", "85e69469615984808a6732b050c2cf23",
      "1f2c11f26081de2c0c7a7c40dcc99fdb", "4c6c3cb084d13b5412a63629eb5e8328"),
    KAT(
      "A", .q5_1, "7d2a234e24b5700d8635dc4bdfbca6b2", "fd3ccdbdb0797c2b1ff3a124e7ec0384",
      "b2362d80c5369ef0cdf52053d2179a50", "d3a89250cc6e0986fda2518210c3c2ca"),
    KAT("A", .q8_0, "b5260ed811c0af3063c7bb1dba8d7750", "b453523713eb310f3cd290c6f89d2872", nil, nil),
    KAT(
      "A", .q2_K, "73b56dc52384b676c1d25d3252fdad81", "56da8699932c553848a3c5a54a91c122",
      "c9f1c4f413cf0c314f3a266d81122d7d", "5b67210ccebca8f4fe81b7910b945d94"),
    KAT(
      "A", .q3_K, "0f054de71d18b0ccb7edcbb5da56b67d", "03234348e93b31082d36a23cdd31cf85",
      "e2095a7e9845d522e179a9bf1a27078b", "dd9f67980800d6a0477cf6f00afbef23"),
    KAT(
      "A", .q4_K, "1cabf6adf07866726a411179085d6ffc", "672b4fca52d8c076a95889fadb000e1b",
      "ced0feaa53f82751d62ba01b4a33de65", "1275eabded4ff65f5385d2cb7d6e6002"),
    KAT(
      "A", .q5_K, "22f3cc738554450d3a75a5537ddce789", "48dfca00edb1096c4a4655bbd9fffd73",
      "911eb2cffa329087da9bb57369443219", "5cbb227de3d44bbf3ebafef631ebca71"),
    KAT(
      "A", .q6_K, "7ac292a0b427fdfb47ca289a05f2f666", "8aa3db5bb19c35bbff9dfddb3601b631",
      "8ada68fcef8956b12266b3dcbb2d78c9", "e8471f13d21705c57d835949f3f1ae1b"),
    KAT(
      "B", .q4_0, "1c15b4d753b0342fa7cf7176249cde3a", "8d3503c911d1fd036892277c61b42c70",
      "f002072272cb530064c3da6fe4b440ef", "95b9907c354f6307ab8fd003d3fe3e70"),
    KAT(
      "B", .q4_1, "de45216f7185084f08e73e169b006b2c", "3eb0c77961359b404e20fd51509bc2a2",
      "78aad33feb9bb2b33bce5375051c481d", "8088af748f80f24504595a9452fec345"),
    KAT(
      "B", .q5_0, "2bb4acb04e140dc30d6754db257dc571", "af9ce8859845e09f6685eea66c6401a0",
      "9d618582220706c49210cb899339c74f", "d5c416331e20a06cd5ed284ef78c988c"),
    KAT(
      "B", .q5_1, "b17e35b3499f3c6d3931eaff3bdc24f7", "653c39a68bf51e6ba8cf1853bd2ea719",
      "e0bee5de85ab87adfab982c994c64d3c", "f854f7c19e39390f4ca5596b7693a296"),
    KAT("B", .q8_0, "811634e12e9918ebce3a6e3f549009bd", "c6e2045994e4589cd40b20a84a65d130", nil, nil),
    KAT(
      "B", .q2_K, "61d61a0da7fe709dae7e415f38827e3c", "31a2e01d559a4cb1adcce856b9f7391d",
      "e13ce33369d5ef25757384cbcf2c3a78", "b8b57851640adae443568214378d49d9"),
    KAT(
      "B", .q3_K, "37a8b9222fc446bb4a7136bc19fb88fe", "ad5a124faeb6c57bbb5b4f212431c8c7",
      "e72fa2f59362ae33628fff82fbed774f", "7e71bfa551b3fd627575fc0ab1533f0d"),
    KAT(
      "B", .q4_K, "7ac83e56f64ccd655d4dddae57c5bbb6", "a44e26f2efce3c163556bd3270c75d3f",
      "d861d56a6dd72203cc154f560548026d", "5d9483ea928e29cbb78b7863e93a851c"),
    KAT(
      "B", .q5_K, "56ad9583b6c4c55343f8dcee09e2e940", "0736259c1954819445baf360358fbaba",
      "5845df6cdd8f326baecc63dfe5e82fe6", "639dccff1b7468f7e19ff05ec68d6279"),
    KAT(
      "B", .q6_K, "cab1c20cb91edc4af6397513959abec0", "e6886ad38d5c64ad1861a48cd12c8bd2",
      "26539e434fcff95c72a673ccb728bc8a", "5c2d48a17e169f0e705da07f365c88a6"),
    KAT(
      "C", .q4_0, "860e31453be8c569d16933952c3701af", "29f13d0b1aa5b090f1bec3a6b1c2c54e",
      "5defe2ddad4f42dd99f7716f5b5998ad", "05c53dd167ceea4da66735257dae83aa"),
    KAT(
      "C", .q4_1, "961238e120a4c1a24552b9d142c4cecc", "f1dc347b8ca90723decd72fc9874b7a1",
      "f81d29fbfefdad9df7d8b67604549193", "1fd8de804652ecc7c515ad87e3e8d5e7"),
    KAT(
      "C", .q5_0, "f148d72d9e955d8b3f20c8bf0c3e2409", "b07e19412fcf6d6951387613a6444b6c",
      "32d1367b8dba5a9fb29d9a5617065df2", "a3191356221cf7f25942657040cde59d"),
    KAT(
      "C", .q5_1, "fde9bd3666b10af786c252a992d39c2a", "9e456bd37faa58057665bcd870ddd43a",
      "f67874a7ff9c725a3462e8bf04cd73e1", "20df01ee3d9e1e0215cd7eab586c1733"),
    KAT("C", .q8_0, "52579c8edb939f6dff9292a691c90d18", "98ea2607e5691e86369497b49df54482", nil, nil),
    KAT(
      "C", .q2_K, "33aae32c073fbcfa6dbabc94f34c96a2", "82994fa3f9473991c3112815f7f5ecd0",
      "3035e6dfa886b9ad4ab99245ef6c40e1", "52d6a583f2c1d221c111492d86d973f3"),
    KAT(
      "C", .q3_K, "deff1f4e3d432dc18df2c0243024cb05", "ea91e2810e01ab05ff8ad7acabb38f4f",
      "be248190313952e32bbd61a2163f8572", "32419061ea9170e0880ffe519c747542"),
    KAT(
      "C", .q4_K, "0c164e4a38e31e71e7984898da910f17", "86778cc8a66e9161ac14acaf33230e6a",
      "fcad39333fad8fdc135bcfa788d82c67", "4dd5bd8d5fb2ccf49286cf31f5fa8807"),
    KAT(
      "C", .q5_K, "3b078468831fbc97c7bc2ce4920a598c", "5e8d910854fd8815670d2c24c3512684",
      "eceb562a1af874efc7a094a423f3d1f3", "8a702f9019c40b7d66db127f46371660"),
    KAT(
      "C", .q6_K, "1439463ab651bc888d35bf081770570e", "e7d39be09429e74c6480edeb464ecd07",
      "43121b5eed82ca4e65aeb30fa54f6f2b", "0512eafccf6e0a151967f383a351272f"),
  ]

  /// The three input sets and the importance vector.
  struct Inputs {
    var a: [Float] = []
    var b: [Float] = []
    var c: [Float] = []
    var im: [Float] = []

    init() {
      let n = 8 * 1024
      var s: UInt32 = 0x1234_5678
      var stream: [UInt32] = []
      for _ in 0..<(2 * n) {
        s ^= s << 13
        s ^= s >> 17
        s ^= s << 5
        stream.append(s)
      }
      func sf(_ u: UInt32) -> Float { Float(Int32(bitPattern: u)) * 0x1p-31 }
      a = (0..<n).map { sf(stream[$0]) * 2.5 }
      b = a.map { ($0 * $0) * $0 }
      for c in 0..<256 { b[3 * 1024 + c] = 0 }
      c = (0..<n).map { a[$0] / (0.0625 + abs(sf(stream[n + $0]) * 2.5)) }
      im = (0..<1024).map { Float(1 + $0 % 7) * 0.25 }
    }

    func set(_ name: String) -> [Float] { name == "A" ? a : name == "B" ? b : c }
  }

  static let inputs = Inputs()

  static func floatBytes(_ v: [Float]) -> [UInt8] {
    v.flatMap { f -> [UInt8] in
      let u = f.bitPattern.littleEndian
      return [UInt8(u & 0xff), UInt8((u >> 8) & 0xff), UInt8((u >> 16) & 0xff), UInt8(u >> 24)]
    }
  }

  @Test func `inputs match the reference checksums`() {
    let i = Self.inputs
    #expect(i.a[0].bitPattern == 0xc016_818f && i.a[1].bitPattern == 0x3ed5_8f6e)
    #expect(SHA256.hex(Self.floatBytes(i.a)) == "51404e782f0412248bc8beed7a061606abbecdf5c1661188e6194797ec2cb3a6")
    #expect(SHA256.hex(Self.floatBytes(i.b)) == "37cff8c780a7340e0c1a5cee46b8a7adbfff79e3bbaa7ec56eb372e532677b58")
    #expect(SHA256.hex(Self.floatBytes(i.c)) == "4af13a98fd06648c809447583617b4d188853eabdc8c3d241355847debd4ad40")
    #expect(SHA256.hex(Self.floatBytes(i.im)) == "bdc8da1d271d15a04b9b716542f3e3ec92391d7ee743d80b967c8354a60cbc23")
  }

  @Test(arguments: table)
  func `quantized bytes and their decoding hash as ggml's`(kat: KAT) throws {
    let x = Self.inputs.set(kat.set)
    let plain = try quantizeWithCodec(kat.type, x, rows: 8, rowLength: 1024, importance: nil)
    #expect(String(SHA256.hex(plain).prefix(32)) == kat.bytes, "bytes, no imatrix")
    let decoded = try decodeWithCodec(kat.type, plain)
    #expect(String(SHA256.hex(Self.floatBytes(decoded)).prefix(32)) == kat.values, "values, no imatrix")

    let weighted = try quantizeWithCodec(kat.type, x, rows: 8, rowLength: 1024, importance: Self.inputs.im)
    if let bytesIm = kat.bytesIm, let valuesIm = kat.valuesIm {
      #expect(String(SHA256.hex(weighted).prefix(32)) == bytesIm, "bytes, imatrix")
      let decodedIm = try decodeWithCodec(kat.type, weighted)
      #expect(String(SHA256.hex(Self.floatBytes(decodedIm)).prefix(32)) == valuesIm, "values, imatrix")
    } else {
      // The type ignores the imatrix.
      #expect(weighted == plain)
    }
  }

  @Test func `SHA-256 helper matches FIPS 180 examples`() {
    #expect(SHA256.hex(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    #expect(SHA256.hex([]) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    #expect(
      SHA256.hex(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8))
        == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
  }
}
