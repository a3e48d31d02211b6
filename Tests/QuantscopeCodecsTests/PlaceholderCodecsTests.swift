import Testing

@Test func `Codecs test target builds`() {
  #expect(Bool(true))
}
