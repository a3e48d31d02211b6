import Testing

@Test func `CLI test target builds`() {
  #expect(Bool(true))
}
