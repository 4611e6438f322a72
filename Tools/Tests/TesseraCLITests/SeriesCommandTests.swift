import Foundation
import Testing
import Training
@testable import TesseraCLI

extension CommandTests {
    /// `tessera forecast` and `tessera train fcn` on generated files in the fetched layout.
    struct SeriesCommandTests {
        func temporary(_ name: String) -> String {
            NSTemporaryDirectory() + "tessera-\(name)-\(UInt64.random(in: 0..<UInt64.max))"
        }

        /// An airline-shaped series (144 months of trend times season) and a two-class UCR set
        /// (sines against square waves) under a fresh data root.
        func syntheticRoot() throws -> String {
            let root = temporary("series-data")
            try FileManager.default.createDirectory(atPath: root + "/airline", withIntermediateDirectories: true)
            try FileManager.default.createDirectory(atPath: root + "/ucr", withIntermediateDirectories: true)
            var csv = "Date,Passengers\n"
            for t in 0..<144 {
                let value = (100 + 2 * Double(t)) * (1 + 0.2 * sin(2 * Double.pi * Double(t) / 12))
                csv += String(format: "%d-%02d,%.1f\n", 1949 + t / 12, t % 12 + 1, value)
            }
            try csv.write(toFile: root + "/airline/Airline.csv", atomically: true, encoding: .utf8)
            for (split, n) in [("TRAIN", 20), ("TEST", 30)] {
                var text = "@problemName GunPoint\n@classLabel true 1 2\n@data\n"
                for i in 0..<n {
                    let values = (0..<30).map { t -> Double in
                        let s = sin(Double(t) / 2 + Double(i))
                        return i % 2 == 0 ? s : (s >= 0 ? 1 : -1)
                    }
                    text += values.map { String(format: "%.4f", $0) }.joined(separator: ",") + ":\(i % 2 + 1)\n"
                }
                try text.write(toFile: root + "/ucr/GunPoint_\(split).ts", atomically: true, encoding: .utf8)
            }
            return root
        }

        func results(_ out: String) throws -> JSONValue {
            try JSONValue(parsing: Data(contentsOf: URL(fileURLWithPath: out + "/results.json")))
        }

        @Test func forecastWritesItsFiguresAndPictures() throws {
            let root = try syntheticRoot(), out = temporary("forecast")
            try ForecastCommand(arguments: ["lstm", "--data", root, "--epochs", "5", "--hidden", "8", "--out", out]).run(print: { _ in })
            let json = try results(out)
            for key in ["mae", "rmse", "mape", "seasonal_naive_mae", "naive_mae", "drift_mae", "mae_ratio_to_seasonal_naive",
                        "beats_seasonal_naive", "best_epoch", "validation_mae"] {
                #expect(json["final"]?[key]?.numberValue?.isFinite == true, "final.\(key)")
            }
            #expect(json["configuration"]?["holdout"]?.numberValue == 24 && json["configuration"]?["logarithm"] == .bool(true))
            #expect(json["configuration"]?["held_out_from"]?.stringValue == "1959-01")
            let forecast = try String(contentsOfFile: out + "/forecast.csv", encoding: .utf8).split(separator: "\n")
            #expect(forecast.count == 25 && forecast[0].hasPrefix("time,Passengers_actual,Passengers_forecast"))
            for file in ["forecast.svg", "curves.svg", "model.h5", "metrics.csv"] {
                #expect(FileManager.default.fileExists(atPath: out + "/" + file), "\(file)")
            }
        }

        @Test func fcnClassifiesTheGeneratedSet() throws {
            let root = try syntheticRoot(), out = temporary("fcn")
            try SeriesClassifierCommand(arguments: ["fcn", "--data", root, "--epochs", "15", "--batch-size", "4", "--widths", "8,8,8", "--lr", "0.01", "--out", out])
                .run(print: { _ in })
            let json = try results(out)
            #expect(try #require(json["final"]?["test_accuracy"]?.numberValue) >= 0.9)
            #expect(json["configuration"]?["dataset"]?.stringValue == "GunPoint")
        }

        @Test func misuseIsAUsageError() throws {
            for bad in [["arima"], ["lstm", "--dataset", "nile"], ["lstm", "--heads", "2"], ["itransformer", "--hidden", "10", "--heads", "4"],
                        ["lstm", "--transform", "boxcox"], ["lstm", "--holdout", "0"], ["lstm", "--checkpoint-dir", "/tmp/x"]] {
                #expect(throws: UsageError.self, "\(bad)") { _ = try ForecastCommand(arguments: bad) }
            }
            for bad in [["fcn", "--dataset", "mnist"], ["fcn", "--widths", "8,0"], ["fcn", "--epochs", "0"]] {
                #expect(throws: UsageError.self, "\(bad)") { _ = try SeriesClassifierCommand(arguments: bad) }
            }
            // Lengths are checked against the series: 144 months less 24 and 100 leave too few.
            let root = try syntheticRoot()
            #expect(throws: UsageError.self) {
                try ForecastCommand(arguments: ["lstm", "--data", root, "--validation", "100", "--out", temporary("f")]).run(print: { _ in })
            }
        }
    }
}
