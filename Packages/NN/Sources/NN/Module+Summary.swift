import TensorCore

/// Collects each module call's output shape while `summary` runs a forward pass.
/// Task-local: a summary taken on one thread must not record (or race with) the forward passes
/// other threads run meanwhile (ThreadSanitizer found the global it was).
final class SummaryRecorder: @unchecked Sendable {
    @TaskLocal static var current: SummaryRecorder?
    var calls: [(ObjectIdentifier, String, [Int])] = []

    func record(_ module: Module, _ output: Tensor) {
        calls.append((ObjectIdentifier(module), "\(type(of: module))", output.shape))
    }
}

extension Module {
    /// A table of the modules called by a forward pass on `input`: path, type, output
    /// shape and parameter count, then the totals (like torchinfo's summary).
    public func summary(input: Tensor) -> String {
        let recorder = SummaryRecorder()
        SummaryRecorder.$current.withValue(recorder) { _ = withoutGradients { self(input) } }
        var paths: [ObjectIdentifier: String] = [:]
        for (path, m) in namedModules() { paths[ObjectIdentifier(m)] = path.isEmpty ? "(model)" : path }
        var rows: [(String, String, String, String)] = [("name", "type", "output shape", "parameters")]
        for (id, typeName, shape) in recorder.calls {
            let module = namedModules().first { ObjectIdentifier($0.1) == id }?.1
            let count = module?.namedOwnParameters.reduce(0) { $0 + $1.1.value.elementCount } ?? 0
            rows.append((paths[id] ?? "?", typeName, "\(shape)", "\(count)"))
        }
        let widths = [rows.map(\.0.count).max()!, rows.map(\.1.count).max()!, rows.map(\.2.count).max()!, rows.map(\.3.count).max()!]
        func pad(_ s: String, _ w: Int) -> String { s + String(repeating: " ", count: w - s.count) }
        var lines = rows.map { "\(pad($0.0, widths[0]))  \(pad($0.1, widths[1]))  \(pad($0.2, widths[2]))  \($0.3)" }
        lines.insert(String(repeating: "-", count: lines[0].count), at: 1)
        let total = parameters().reduce(0) { $0 + $1.value.elementCount }
        lines.append("total parameters: \(total) (trainable: \(parameterCount))")
        return lines.joined(separator: "\n")
    }
}
