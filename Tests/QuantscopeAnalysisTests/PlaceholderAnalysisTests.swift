import Testing

@Test func `Analysis test target builds`() {
  #expect(Bool(true))
}
