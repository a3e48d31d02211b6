/// A value shared across worker threads whose accesses are disjoint by construction.
package struct UnsafeSendable<T>: @unchecked Sendable {
  /// The shared value.
  package let value: T
  /// Wraps `value`.
  package init(_ value: T) { self.value = value }
}
