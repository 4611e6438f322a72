import CheckpointHDF5
import Datasets
import Foundation
import TensorCore
import TimeSeriesModels
import Training

/// `tessera forecast lstm|gru|rnn|itransformer --dataset airline|sunspots|uschange`: trains a
/// forecaster through the TimeSeries library on a series less its held-out end and scores
/// the forecast of that end against the naive baselines.
public struct ForecastCommand {
    static let models = ForecastModelKind.allCases.map(\.rawValue)
    /// Per dataset: season length, held-out steps, window length, and whether the logarithm
    /// applies (the airline's seasonal swings grow with its level; the others have zeros or
    /// negative values).
    static let datasets: [String: (period: Int, holdout: Int, inputLength: Int, logarithm: Bool)] = [
        "airline": (12, 24, 36, true), "sunspots": (11, 22, 44, false), "uschange": (4, 12, 16, false),
    ]
    static let spec = CommandSpec(
        usage: "tessera forecast lstm|gru|rnn|itransformer [options]",
        summary: """
        Holds out the last --holdout steps of a series (airline: the last 24 months), trains the
        forecaster on sliding windows of the rest but its last --validation steps, which choose
        the epoch whose model is kept (log-transformed where the dataset calls for it,
        standardised with the training part's statistics, reversible instance normalisation in the
        model), forecasts the held-out steps from the end of the training part (directly up to
        --horizon, recursively beyond) and scores them with MAE, RMSE and MAPE beside the naive,
        seasonal-naive and drift forecasts. Writes results.json (final.mae, rmse, mape,
        seasonal_naive_mae, mae_ratio_to_seasonal_naive, beats_seasonal_naive), metrics.csv,
        curves.svg, forecast.svg, forecast.csv and model.h5 to --out.
        """,
        options: [
            OptionSpec("dataset", "NAME", "airline (default; monthly passengers 1949-1960), sunspots (yearly 1700-2008) or uschange (5 quarterly variates)"),
            OptionSpec("holdout", "N", "final steps held out and forecast (default airline 24, sunspots 22, uschange 12)"),
            OptionSpec("validation", "N", "steps before the holdout kept out of training to pick the best epoch's model (default: the holdout; 0: the last epoch)"),
            OptionSpec("horizon", "N", "steps the model predicts at once (default: the holdout)"),
            OptionSpec("input-length", "N", "steps of history per window (default airline 36, sunspots 44, uschange 16)"),
            OptionSpec("period", "N", "season length for the seasonal-naive forecast (default airline 12, sunspots 11, uschange 4)"),
            OptionSpec("transform", "NAME", "log or none before standardising (default: log for airline, none otherwise)"),
            OptionSpec("hidden", "N", "recurrent state or iTransformer token width (default 64)"),
            OptionSpec("layers", "N", "recurrent or encoder layers (default 1; itransformer 2)"),
            OptionSpec("heads", "N", "itransformer attention heads (default 4)"),
            OptionSpec("dropout", "X", "between recurrent layers or in the encoder (default 0; itransformer 0.1)"),
            OptionSpec("epochs", "N", "passes over the training windows (default 200)"),
            OptionSpec("batch-size", "B", "windows per step (default 16)"),
            OptionSpec("lr", "X", "AdamW peak learning rate, cosine-annealed (default 0.003)"),
            OptionSpec("weight-decay", "X", "AdamW decoupled weight decay (default 1e-4)"),
        ] + OptionSpec.runOptions(out: "runs/forecast-MODEL-DATASET"),
        footer: "Missing data: run Datasets/fetch airline sunspots uschange first.")
    public static var usage: String { spec.help }

    public var dataset = "airline"
    public var configuration: ForecastExperiment.Configuration
    public var options: RunOptions
    var arguments: [String]

    public init(arguments: [String]) throws {
        self.arguments = arguments
        let args = try Self.spec.parse(arguments)
        let model = ForecastModelKind(rawValue: try args.onlyPositional(from: Self.models, usage: "tessera forecast"))!
        dataset = args.values["dataset"] ?? dataset
        guard let defaults = Self.datasets[dataset] else {
            throw UsageError("invalid value '\(dataset)' for --dataset; expected airline, sunspots or uschange")
        }
        let holdout = try args.value("holdout", default: defaults.holdout, where: { $0 >= 1 && $0 <= 1000 }, expected: "an integer in 1...1000")
        let transform = args.values["transform"] ?? (defaults.logarithm ? "log" : "none")
        guard ["log", "none"].contains(transform) else { throw UsageError("invalid value '\(transform)' for --transform; expected log or none") }
        configuration = ForecastExperiment.Configuration(
            model: model,
            inputLength: try args.value("input-length", default: defaults.inputLength, where: { $0 >= 1 && $0 <= 10_000 }, expected: "an integer in 1...10000"),
            horizon: try args.value("horizon", default: holdout, where: { $0 >= 1 && $0 <= 1000 }, expected: "an integer in 1...1000"),
            holdout: holdout,
            validation: try args.value("validation", default: holdout, where: { $0 >= 0 && $0 <= 1000 }, expected: "an integer in 0...1000"),
            period: try args.value("period", default: defaults.period, where: { $0 >= 1 && $0 <= 1000 }, expected: "an integer in 1...1000"),
            logarithm: transform == "log")
        let isTransformer = model == .itransformer
        configuration.hiddenSize = try args.value("hidden", default: 64, where: { $0 >= 1 && $0 <= 4096 }, expected: "an integer in 1...4096")
        configuration.layers = try args.value("layers", default: isTransformer ? 2 : 1, where: { $0 >= 1 && $0 <= 16 }, expected: "an integer in 1...16")
        configuration.heads = try args.value("heads", default: 4, where: { $0 >= 1 && $0 <= 64 }, expected: "an integer in 1...64")
        if isTransformer && configuration.hiddenSize % configuration.heads != 0 {
            throw UsageError("--hidden \(configuration.hiddenSize) must be a multiple of --heads \(configuration.heads)")
        }
        if !isTransformer && args.values["heads"] != nil { throw UsageError("--heads is the itransformer's") }
        configuration.dropout = try args.value("dropout", default: isTransformer ? 0.1 : 0, where: { $0 >= 0 && $0 < 1 }, expected: "a number in [0, 1)")
        configuration.epochs = try args.value("epochs", default: 200, where: { $0 >= 1 && $0 <= 100_000 }, expected: "an integer in 1...100000")
        configuration.batchSize = try args.value("batch-size", default: 16, where: { $0 >= 1 && $0 <= 100_000 }, expected: "an integer in 1...100000")
        configuration.learningRate = try args.value("lr", default: 3e-3, where: { $0 > 0 && $0.isFinite }, expected: "a positive number")
        configuration.weightDecay = try args.value("weight-decay", default: 1e-4, where: { $0 >= 0 && $0.isFinite }, expected: "a non-negative number")
        options = try RunOptions(args)
        configuration.seed = options.seed
        try options.refuseCheckpoints("forecasting runs take seconds and are not checkpointed")
    }

    public func run(print output: (String) -> Void = { Swift.print($0) }) throws {
        // The trainer keeps its log closure for the run only.
        try withoutActuallyEscaping(output) { try forecast(print: $0) }
    }

    func forecast(print output: @escaping (String) -> Void) throws {
        let out = try options.prepare(defaultOut: "runs/forecast-\(configuration.model.rawValue)-\(dataset)")
        let table = try SeriesDatasets.series(dataset, root: options.root)
        let c = configuration
        // Checked here, with the series' length in hand, so a bad combination is a usage error.
        let trainLength = table.count - c.holdout, fitLength = trainLength - c.validation
        guard SlidingWindows.count(length: Swift.max(fitLength, 0), inputLength: c.inputLength, horizon: c.horizon) > 0 else {
            throw UsageError("\(dataset) has \(table.count) steps: less --holdout \(c.holdout) and --validation \(c.validation) that "
                             + "leaves \(fitLength), too few for one window of --input-length \(c.inputLength) and --horizon \(c.horizon)")
        }
        guard trainLength >= c.period else { throw UsageError("--period \(c.period) is longer than the training part (\(trainLength) steps)") }
        if c.logarithm, let smallest = table.values.joined().min(), smallest <= 0 {
            throw UsageError("--transform log needs positive values; \(dataset) has \(smallest)")
        }
        output("\(dataset): \(table.count) steps of \(table.variates.joined(separator: ", ")); training windows in the first \(fitLength) "
               + "(\(table.times[0]) to \(table.times[fitLength - 1])), the next \(c.validation) choose the epoch, forecasting the last "
               + "\(c.holdout) from \(table.times[trainLength])")
        let result = try ForecastExperiment.run(series: table.tensor(), configuration: c, log: output)

        let recorded: [String: JSONValue] = [
            "command": .string("tessera " + (["forecast"] + arguments).joined(separator: " ")), "dataset": .string(dataset),
            "variates": .array(table.variates.map { .string($0) }), "steps": .number(Double(table.count)),
            "held_out_from": .string(table.times[trainLength]),
        ]
        try writeForecast(result, table: table, trainLength: trainLength, to: out)
        try RunRecord.write(history: result.history, configuration: recorded, settings: c, final: result.final, model: result.model,
                            epoch: c.epochs, metadata: ["kind": .string("forecaster"), "model": .string(c.model.rawValue),
                                                        "dataset": .string(dataset)], to: out, print: output)
        output("wrote \(out)/results.json")
    }

    /// forecast.csv (time, then actual, forecast and each baseline per variate) and
    /// forecast.svg (the first variate: the last three held-out spans of history, the actual
    /// held-out steps, the model's forecast and the seasonal-naive one).
    func writeForecast(_ result: ForecastExperiment.Result, table: SeriesTable, trainLength: Int, to out: String) throws {
        let names = ["forecast"] + result.baselines.keys.sorted()
        let columns = [result.actual] + [result.forecast] + result.baselines.keys.sorted().map { result.baselines[$0]! }
        let values = columns.map { $0.cast(to: .float64).scalars(as: Double.self) }
        let v = table.variates.count
        var csv = "time," + table.variates.flatMap { variate in (["actual"] + names).map { "\(variate)_\($0)" } }.joined(separator: ",") + "\n"
        for t in 0..<configuration.holdout {
            let row = (0..<v).flatMap { j in values.map { String($0[t * v + j]) } }
            csv += table.times[trainLength + t] + "," + row.joined(separator: ",") + "\n"
        }
        try csv.write(toFile: out + "/forecast.csv", atomically: true, encoding: .utf8)
        let shown = Swift.min(trainLength, 3 * configuration.holdout)
        let past = Array((trainLength - shown)..<trainLength), ahead = Array(trainLength..<(trainLength + configuration.holdout))
        func first(_ k: Int) -> [Double] { stride(from: 0, to: values[k].count, by: v).map { values[k][$0] } }
        try XYChart(title: "\(dataset) (\(table.variates[0])): \(configuration.model.rawValue) forecast of the last \(configuration.holdout) steps",
                    xLabel: "step (\(table.times[0]) = 0)", yLabel: table.variates[0],
                    series: [.init(name: "history", x: past.map(Double.init), y: past.map { table.values[$0][0] }, color: "#7f7f7f"),
                             .init(name: "actual", x: ahead.map(Double.init), y: first(0), color: "#000000"),
                             .init(name: configuration.model.rawValue, x: ahead.map(Double.init), y: first(1), color: "#d62728"),
                             .init(name: "seasonal naive", x: ahead.map(Double.init), y: first(1 + names.firstIndex(of: "seasonal_naive")!),
                                   color: "#1f77b4")])
            .svgDocument().write(toFile: out + "/forecast.svg", atomically: true, encoding: .utf8)
    }
}
