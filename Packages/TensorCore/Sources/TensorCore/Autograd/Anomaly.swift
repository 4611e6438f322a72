/// Anomaly detection: names the first operation whose result (forward) or input gradient
/// (backward) contains NaN or Inf, like `torch.autograd.detect_anomaly`.
public enum Anomaly {
    /// Where a detected anomaly goes. The default stops the program with the message;
    /// tests and tools may replace it (for example to collect messages).
    nonisolated(unsafe) public static var handler: (String) -> Void = { message in tensorFailure(message) }

    /// Runs `body` with detection on for this thread.
    @discardableResult
    public static func detect<R>(_ body: () throws -> R) rethrows -> R {
        let state = ThreadState.current
        let previous = state.anomalyDetection
        state.anomalyDetection = true
        defer { state.anomalyDetection = previous }
        return try body()
    }

    static func checkForward(_ t: Tensor, operation: StaticString) {
        if let bad = firstNonFinite(t) {
            handler("[anomaly] \(operation) produced \(bad) in the forward pass (output \(shapeText(t.shape)))")
        }
    }

    static func checkBackward(_ g: Tensor, operation: StaticString) {
        if let bad = firstNonFinite(g) {
            handler("[anomaly] the backward of \(operation) produced \(bad) in a gradient of shape \(shapeText(g.shape))")
        }
    }

    private static func firstNonFinite(_ t: Tensor) -> String? {
        guard t.dtype.isFloatingPoint else { return nil }
        for v in withoutGradients({ t.scalars(as: Double.self) }) where !v.isFinite {
            return v.isNaN ? "NaN" : "Inf"
        }
        return nil
    }
}
