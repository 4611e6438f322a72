import TensorCore
#if canImport(Glibc)
import Glibc
#endif

/// Prints one JSON line per workload:
/// {"workload": ..., "impl": "tessera", "rate": ..., "unit": ..., "seconds_per_step": ..., "threads": ...}
let usage = """
usage: tessera-bench [--workload NAME[,NAME...]] [--threads N] [--samples K] [--budget SECONDS] [--list] [--describe]
  --describe   print the float32 GEMM the products run on here (chosen for this CPU at first use)
"""

var selected: Set<String>? = nil
var threads = CPUThreads.count
var samples = 5
var budget = 0.25
var arguments = Array(CommandLine.arguments.dropFirst())

func fail(_ message: String) -> Never {
    fputs("tessera-bench: \(message)\n\(usage)\n", stderr)
    exit(2)
}

while !arguments.isEmpty {
    let option = arguments.removeFirst()
    func value() -> String {
        guard !arguments.isEmpty else { fail("\(option) needs a value") }
        return arguments.removeFirst()
    }
    switch option {
    case "--workload": selected = Set(value().split(separator: ",").map(String.init))
    case "--threads": guard let n = Int(value()), n > 0 else { fail("--threads needs a positive integer") }; threads = n
    case "--samples": guard let n = Int(value()), n > 0 else { fail("--samples needs a positive integer") }; samples = n
    case "--budget": guard let b = Double(value()), b > 0 else { fail("--budget needs a positive number") }; budget = b
    case "--list": for w in allWorkloads() { print(w.name) }; exit(0)
    case "--describe": print(CPUBackend.float32GEMM); exit(0)
    case "--help", "-h": print(usage); exit(0)
    default: fail("unknown option \(option)")
    }
}

/// Peak resident memory of the process so far (per workload when, as in Benchmarks/compare,
/// each workload runs in its own process).
func peakResidentMegabytes() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_maxrss) / 1024           // KiB on Linux
}

CPUThreads.count = threads
let workloads = allWorkloads().filter { selected?.contains($0.name) ?? true }
if let selected, workloads.count != selected.count {
    fail("unknown workload in \(selected.sorted()); --list shows them")
}
for workload in workloads {
    let (rate, seconds) = measure(workload, samples: samples, budget: budget)
    print("{\"workload\": \"\(workload.name)\", \"impl\": \"tessera\", \"rate\": \(rate), \"unit\": \"\(workload.unit)\", \"seconds_per_step\": \(seconds), \"threads\": \(threads), \"peak_rss_mb\": \(peakResidentMegabytes())}")
}
