import TensorCore

/// A workload: `prepare` builds inputs once, returns the step to time and the work one step does.
struct Workload {
    var name: String
    /// Unit of the reported rate, and how much of it one step does.
    var unit: String
    var workPerStep: Double
    var makeStep: () -> () -> Void
}

/// Runs `step` until about `budget` seconds pass, `samples` times, after a warm-up;
/// reports the median rate (work per second).
func measure(_ workload: Workload, samples: Int, budget: Double) -> (rate: Double, secondsPerStep: Double) {
    let step = workload.makeStep()
    let clock = ContinuousClock()
    func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }
    // Warm-up, and an estimate of the step time to size the timed loops.
    var iterations = 1
    var elapsed = 0.0
    while true {
        let start = clock.now
        for _ in 0..<iterations { step() }
        elapsed = seconds(clock.now - start)
        if elapsed > budget / 4 || iterations > 1 << 24 { break }
        iterations *= 2
    }
    let perSample = Swift.max(1, Int(Double(iterations) * budget / Swift.max(elapsed, 1e-9)))
    var times: [Double] = []
    for _ in 0..<samples {
        let start = clock.now
        for _ in 0..<perSample { step() }
        times.append(seconds(clock.now - start) / Double(perSample))
    }
    times.sort()
    let median = times[times.count / 2]
    return (workload.workPerStep / median, median)
}
