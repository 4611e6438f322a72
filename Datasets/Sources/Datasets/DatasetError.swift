/// Problems with dataset files: each message says what is wrong and what to run.
public enum DatasetError: Error, CustomStringConvertible, Equatable {
    /// The file is not there; the message names the fetch command.
    case missingFile(path: String, fetchCommand: String)
    /// The file is shorter than its header says.
    case truncated(path: String, expectedBytes: Int, actualBytes: Int)
    /// The file is damaged or holds values out of range.
    case corrupt(path: String, reason: String)
    /// No reader knows that dataset name.
    case unknownDataset(String)

    public var description: String {
        switch self {
        case let .missingFile(path, fetch):
            return "dataset file \(path) is missing; run `\(fetch)`"
        case let .truncated(path, expected, actual):
            return "dataset file \(path) is truncated: expected \(expected) bytes, found \(actual); delete it and fetch again"
        case let .corrupt(path, reason):
            return "dataset file \(path) is corrupt (\(reason)); delete it and fetch again"
        case let .unknownDataset(name):
            return "unknown dataset '\(name)'; known: fashion-mnist, mnist, mnist-5k, digits, shakespeare, sentiment, airline, uschange, sunspots, ucr (GunPoint, ItalyPowerDemand, ArrowHead)"
        }
    }
}
