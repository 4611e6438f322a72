import Foundation

extension Trainer {
    /// Writes the run's results into `directory`: `results.json` (the recorded configuration
    /// and the trainer's, per-epoch metrics, and `final`), `metrics.csv` and `curves.svg`.
    /// `final` gains whatever the caller measured after training (`test_accuracy`, …).
    public func writeResults(to directory: String, final: [String: Double]) throws {
        var configurationJSON = recordedConfiguration
        if let trainer = try? JSONValue(encoding: configuration) { configurationJSON["trainer"] = trainer }
        try Self.writeResults(history: history, configuration: configurationJSON, final: final, to: directory)
    }

    /// The same files for a run whose loop is not a `Trainer`'s (step-based language models).
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
            try svgDocument(charts(history)).write(toFile: "\(directory)/curves.svg", atomically: true, encoding: .utf8)
        } catch {
            throw TrainingError.cannotWrite(path: directory, reason: "\(error.localizedDescription)")
        }
    }

    /// Loss and accuracy panels, every split that has the metric as a series.
    static func charts(_ history: TrainingHistory) -> [LineChart] {
        let colors = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd"]
        let names = history.metricNames
        return ["loss", "accuracy"].compactMap { kind in
            let matching = names.filter { $0.hasSuffix("_" + kind) }
            guard !matching.isEmpty else { return nil }
            let series = matching.enumerated().map { i, name in
                LineChart.Series(name: String(name.dropLast(kind.count + 1)), values: history.values(of: name), color: colors[i % colors.count])
            }
            return LineChart(title: kind, xLabel: "epoch", series: series)
        }
    }
}
