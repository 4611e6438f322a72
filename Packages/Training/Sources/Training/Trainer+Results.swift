import Foundation

extension Trainer {
    /// Writes the run's results into `directory`: `results.json` (the recorded configuration
    /// and the trainer's, per-epoch metrics, and `final`), `metrics.csv`, and `curves.svg` and `curves.png`.
    /// `final` gains whatever the caller measured after training (`test_accuracy`, …).
    public func writeResults(to directory: String, final: [String: Double]) throws {
        var configurationJSON = recordedConfiguration
        if let trainer = try? JSONValue(encoding: configuration) { configurationJSON["trainer"] = trainer }
        if let distribution { configurationJSON["world_size"] = .number(Double(distribution.worldSize)) }
        try Self.writeResults(history: history, configuration: configurationJSON, final: final, to: directory)
    }

    /// The same files for a run whose loop is not a `Trainer`'s (an evaluation, an attack).
    /// The curves' x axis counts evaluations when the records carry a `step`, else epochs.
    public static func writeResults(history: TrainingHistory, configuration configurationJSON: [String: JSONValue],
                                    final: [String: Double], to directory: String) throws {
        let results: JSONValue = .object([
            "configuration": .object(configurationJSON),
            "epochs": history.jsonValue,
            "final": .object(final.mapValues { .number($0) }),
        ])
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            try (results.text() + "\n").write(toFile: "\(directory)/results.json", atomically: true, encoding: .utf8)
            try history.csv.write(toFile: "\(directory)/metrics.csv", atomically: true, encoding: .utf8)
            try svgDocument(charts(history, xLabel: xLabel(history))).write(toFile: "\(directory)/curves.svg", atomically: true,
                                                                            encoding: .utf8)
        } catch {
            throw TrainingError.cannotWrite(path: directory, reason: "\(error.localizedDescription)")
        }
        try writeCurvesPNG(history, to: directory, xLabel: xLabel(history))
    }

    static func xLabel(_ history: TrainingHistory) -> String {
        history.epochs.last?["step"] == nil ? "epoch" : "evaluation"
    }

    /// Loss and accuracy panels, every split that has the metric as a series.
    static func charts(_ history: TrainingHistory, xLabel: String) -> [LineChart] {
        let colors = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd"]
        return history.curves.map { curve in
            LineChart(title: curve.kind, xLabel: xLabel, series: curve.series.enumerated().map { i, s in
                LineChart.Series(name: s.split, values: s.values, color: colors[i % colors.count])
            })
        }
    }
}
