// quantscope-bench: throughput benchmarks that print figures beside a baseline measured in the same run.
// Usage: swift run -c release quantscope-bench decode|quantize [--types q4_k,q8_0 …] [--repeat N]
//
// Every kernel is taken from `Codecs.all`, so codec families added later show up without
// changes here.
import Foundation
import QuantscopeCodecs
import QuantscopeFormats

let usage = """
  usage: quantscope-bench decode   [--types T,T…] [--repeat N] [--megabytes M]
         quantscope-bench quantize [--types T,T…] [--seconds S]
  """

/// Command-line options shared by the benchmarks.
struct Options {
  var command = ""
  var types: [GGMLType]? = nil
  var repeats = 10
  var megabytes = 64
  var seconds = 0.4
}

func parseOptions(_ arguments: [String]) -> Options? {
  var options = Options()
  var rest = arguments[...]
  guard let command = rest.popFirst() else { return nil }
  options.command = command
  while let flag = rest.popFirst() {
    switch flag {
    case "--types":
      var names: [String] = []
      while let next = rest.first, !next.hasPrefix("--") {
        names += next.split(separator: ",").map(String.init)
        rest.removeFirst()
      }
      var types: [GGMLType] = []
      for name in names {
        guard let type = GGMLType(name: name) else {
          FileHandle.standardError.write(Data("quantscope-bench: unknown type \(name)\n".utf8))
          return nil
        }
        types.append(type)
      }
      options.types = types
    case "--repeat":
      guard let v = rest.popFirst().flatMap(Int.init), v > 0 else { return nil }
      options.repeats = v
    case "--megabytes":
      guard let v = rest.popFirst().flatMap(Int.init), v > 0 else { return nil }
      options.megabytes = v
    case "--seconds":
      guard let v = rest.popFirst().flatMap(Double.init), v > 0 else { return nil }
      options.seconds = v
    default:
      return nil
    }
  }
  return options
}

if CommandLine.arguments.count > 1 && CommandLine.arguments[1] == "diff" { DiffBenchmark.main(Array(CommandLine.arguments.dropFirst(2))) }

guard let options = parseOptions(Array(CommandLine.arguments.dropFirst())) else {
  print(usage)
  exit(64)
}

switch options.command {
case "decode": DecodeBenchmark(options: options).run()
case "quantize": QuantizeBenchmark(options: options).run()
default:
  print(usage)
  exit(64)
}
