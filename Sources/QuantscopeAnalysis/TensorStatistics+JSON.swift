import QuantscopeCodecs
import QuantscopeFormats

extension TensorStatistics {
  /// One element of the `quantscope.stats/2` document's `tensors` array: the tensor, the scale
  /// tensor its values were decoded with (if any), the counts, the moments (non-finite ones as
  /// `null`) and the super weights.
  ///
  /// - Parameters:
  ///   - t: the tensor these statistics describe.
  ///   - d: the decoder that produced its values.
  public func jsonObject(tensor t: TensorInfo, decoder d: TensorDecoder) -> JSONValue {
    let s = self
    var fields: [(String, JSONValue)] = [
      ("name", .string(t.name)), ("type", .string(t.encoding.name)), ("shape", .array(t.shape.map { .int($0) })),
    ]
    if let scale = d.scale {
      fields.append(("scale", .string(scale.tensor.name)))
      fields.append(("scale_layout", .string(scale.kind)))
    }
    fields += [
      ("count", .int(s.count)), ("finite", .int(s.finiteCount)), ("nan", .int(s.nanCount)),
      ("pos_inf", .int(s.positiveInfinityCount)), ("neg_inf", .int(s.negativeInfinityCount)),
      ("zeros", .int(s.zeroCount)), ("zero_fraction", .finite(s.zeroFraction)),
      ("min", .finite(s.min)), ("max", .finite(s.max)), ("mean", .finite(s.mean)),
      ("std", .finite(s.standardDeviation)), ("rms", .finite(s.rms)), ("max_abs", .finite(s.absMax)),
      ("excess_kurtosis", .finite(s.kurtosis)),
      (
        "super_weights",
        .array(
          s.top.map {
            .members([
              ("row", .int($0.row)), ("column", .int($0.column)), ("index", .int($0.index)),
              ("value", .finite(Double($0.value))),
            ])
          })
      ),
    ]
    return .members(fields)
  }
}
