import Foundation
import NN
import TensorCore

/// One or more variates observed at regular times (a month, a quarter, a year), oldest first.
public struct SeriesTable: Equatable, Sendable {
    /// The dataset's name (`airline`).
    public var name: String
    /// Each time's label as the file writes it (`1949-01`, `1970 Q1`, `1700`).
    public var times: [String]
    /// The variates' names, in column order.
    public var variates: [String]
    /// `values[t][v]`: variate `v` at time `t`.
    public var values: [[Double]]

    /// A table of `values` (one row per time, one column per variate).
    public init(name: String, times: [String], variates: [String], values: [[Double]]) {
        tensorCheck(times.count == values.count && values.allSatisfy { $0.count == variates.count },
                    "[SeriesTable] \(times.count) times, \(variates.count) variates and \(values.count) rows of "
                    + "\(Set(values.map(\.count)).sorted()) values do not agree")
        self.name = name
        self.times = times
        self.variates = variates
        self.values = values
    }

    /// Observations.
    public var count: Int { times.count }

    /// The values as a `[time, variate]` tensor of `dtype`.
    public func tensor(dtype: DType = .float32) -> Tensor {
        Tensor(values.flatMap { $0 }, shape: [count, variates.count]).cast(to: dtype)
    }

    /// Variate `index`'s values over time.
    public func column(_ index: Int) -> [Double] { values.map { $0[index] } }
}

/// A labelled set of equal-length series from the UCR/UEA archive.
public struct LabelledSeries {
    /// `inputs` `[N, dimensions, length]` (float32), `targets` the class indices `[N]`.
    public var dataset: TensorDataset
    /// The class labels as the file names them; target `i` is `classLabels[i]`.
    public var classLabels: [String]
}

/// Time series fetched by `Datasets/fetch airline uschange sunspots ucr`: the Box–Jenkins
/// monthly airline passengers 1949–1960 and the US quarterly percentage changes 1970–2016
/// (both from sktime's wheel), the yearly sunspot numbers 1700–2008 (statsmodels), and the
/// UCR archive's GunPoint, ItalyPowerDemand and ArrowHead classification sets (sktime).
public enum SeriesDatasets {
    /// The series datasets' names, for `series(_:)`.
    public static let seriesNames = ["airline", "uschange", "sunspots"]
    /// The UCR sets `Datasets/fetch ucr` provides.
    public static let ucrNames = ["GunPoint", "ItalyPowerDemand", "ArrowHead"]

    /// A series dataset by name (`airline`, `uschange`, `sunspots`).
    public static func series(_ name: String, root: String = DatasetLocation.defaultRoot()) throws -> SeriesTable {
        switch name {
        case "airline": return try airline(root: root)
        case "uschange": return try uschange(root: root)
        case "sunspots": return try sunspots(root: root)
        default: throw DatasetError.unknownDataset(name)
        }
    }

    /// Monthly international airline passengers in thousands, January 1949 to December 1960
    /// (144 months; Box & Jenkins' series G).
    public static func airline(root: String = DatasetLocation.defaultRoot()) throws -> SeriesTable {
        let table = try read(root + "/airline/Airline.csv", dataset: "airline")
        return try checkedCount(table, 144, path: root + "/airline/Airline.csv")
    }

    /// US quarterly percentage changes of consumption, income, production and savings, and
    /// the change of the unemployment rate, 1970 Q1 to 2016 Q3 (187 quarters, 5 variates;
    /// Hyndman & Athanasopoulos' `uschange`). The file's first column is a row number.
    public static func uschange(root: String = DatasetLocation.defaultRoot()) throws -> SeriesTable {
        let table = try read(root + "/uschange/Uschange.csv", dataset: "uschange", dropsFirstColumn: true)
        return try checkedCount(table, 187, path: root + "/uschange/Uschange.csv")
    }

    /// Yearly mean sunspot numbers, 1700 to 2008 (309 years).
    public static func sunspots(root: String = DatasetLocation.defaultRoot()) throws -> SeriesTable {
        let table = try read(root + "/sunspots/sunspots.csv", dataset: "sunspots")
        return try checkedCount(table, 309, path: root + "/sunspots/sunspots.csv")
    }

    /// A UCR archive set's `split` (`GunPoint`, `ItalyPowerDemand`, `ArrowHead`), from the
    /// sktime `.ts` files.
    public static func ucr(_ name: String, split: Split, root: String = DatasetLocation.defaultRoot()) throws -> LabelledSeries {
        guard ucrNames.contains(name) else { throw DatasetError.unknownDataset(name) }
        let path = root + "/ucr/\(name)_\(split == .train ? "TRAIN" : "TEST").ts"
        return try decodeTS(try readBytes(path, dataset: "ucr"), path: path)
    }

    static func read(_ path: String, dataset: String, dropsFirstColumn: Bool = false) throws -> SeriesTable {
        try decodeCSV(try readBytes(path, dataset: dataset), name: dataset, dropsFirstColumn: dropsFirstColumn, path: path)
    }

    static func checkedCount(_ table: SeriesTable, _ expected: Int, path: String) throws -> SeriesTable {
        guard table.count == expected else {
            throw DatasetError.corrupt(path: path, reason: "\(table.count) observations where the dataset has \(expected)")
        }
        return table
    }

    /// Parses a CSV of a header line and one row per time: the time label in the first
    /// column (after a dropped row-number column when `dropsFirstColumn`), then one number
    /// per variate. Throws `DatasetError.corrupt` naming `path` and the line for anything
    /// else (a missing value, a word where a number belongs, a short row).
    public static func decodeCSV(_ bytes: [UInt8], name: String, dropsFirstColumn: Bool = false, path: String) throws -> SeriesTable {
        let text = try TextDatasets.decodeText(bytes, path: path)
        var records = try CSV.records(text, path: path)
        guard !records.isEmpty else { throw DatasetError.corrupt(path: path, reason: "empty file") }
        let skip = dropsFirstColumn ? 1 : 0
        let header = records.removeFirst().dropFirst(skip)
        guard header.count > 1 else { throw DatasetError.corrupt(path: path, reason: "the header names no variate") }
        let variates = header.dropFirst().map { $0.trimmingCharacters(in: .whitespaces) }
        var times: [String] = [], values: [[Double]] = []
        for (index, record) in records.enumerated() {
            let fields = record.dropFirst(skip)
            guard fields.count == header.count else {
                throw DatasetError.corrupt(path: path, reason: "line \(index + 2) has \(fields.count) fields where the header has \(header.count)")
            }
            times.append(fields.first!.trimmingCharacters(in: .whitespaces))
            var row: [Double] = []
            for (column, field) in fields.dropFirst().enumerated() {
                guard let value = Double(field.trimmingCharacters(in: .whitespaces)), value.isFinite else {
                    throw DatasetError.corrupt(path: path, reason: "line \(index + 2): '\(field)' for \(variates[column]) is not a number")
                }
                row.append(value)
            }
            values.append(row)
        }
        guard !values.isEmpty else { throw DatasetError.corrupt(path: path, reason: "no observations") }
        return SeriesTable(name: name, times: times, variates: variates, values: values)
    }

    /// Parses the sktime/UEA `.ts` format: `#` comments, `@` header lines (`@classLabel true
    /// A B …` names the classes, `@equalLength true`), then after `@data` one case per line,
    /// its dimensions separated by `:` as comma-separated values and its class label last.
    /// Cases of unequal length, missing values (`?`) and labels outside `@classLabel` throw
    /// `DatasetError.corrupt` naming the line.
    public static func decodeTS(_ bytes: [UInt8], path: String) throws -> LabelledSeries {
        let text = try TextDatasets.decodeText(bytes, path: path)
        var labels: [String]?, inData = false
        var cases: [[[Float]]] = [], targets: [Int64] = []
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            let lineNumber = index + 1
            if !inData {
                let words = line.split(separator: " ").map(String.init)
                switch words[0].lowercased() {
                case "@classlabel":
                    guard words.count >= 3, words[1].lowercased() == "true" else {
                        throw DatasetError.corrupt(path: path, reason: "line \(lineNumber): the set has no class labels")
                    }
                    labels = Array(words.dropFirst(2))
                case "@data": inData = true
                default: break
                }
                continue
            }
            guard let classes = labels else {
                throw DatasetError.corrupt(path: path, reason: "data before an @classLabel line")
            }
            let parts = line.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
            guard parts.count >= 2, let label = classes.firstIndex(of: parts.last!.trimmingCharacters(in: .whitespaces)) else {
                throw DatasetError.corrupt(path: path, reason: "line \(lineNumber): no class label among \(classes)")
            }
            var dimensions: [[Float]] = []
            for part in parts.dropLast() {
                var series: [Float] = []
                for field in part.split(separator: ",", omittingEmptySubsequences: false) {
                    guard let value = Float(field), value.isFinite else {
                        throw DatasetError.corrupt(path: path, reason: "line \(lineNumber): '\(field)' is not a number (missing values are not supported)")
                    }
                    series.append(value)
                }
                dimensions.append(series)
            }
            let reference = cases.first ?? dimensions
            guard dimensions.count == reference.count, zip(dimensions, reference).allSatisfy({ $0.count == $1.count }),
                  Set(dimensions.map(\.count)).count == 1 else {
                throw DatasetError.corrupt(path: path, reason: "line \(lineNumber): series of unequal length or dimension count")
            }
            cases.append(dimensions)
            targets.append(Int64(label))
        }
        guard let classes = labels, let first = cases.first else {
            throw DatasetError.corrupt(path: path, reason: "no @data cases")
        }
        let inputs = Tensor(cases.flatMap { $0.flatMap { $0 } }, shape: [cases.count, first.count, first[0].count])
        return LabelledSeries(dataset: TensorDataset(inputs: inputs, targets: Tensor(targets)), classLabels: classes)
    }
}
