import Foundation

/// Where fetched datasets live: `$TESSERA_DATA`, else the first `Datasets/data` found from
/// the current directory upwards.
public enum DatasetLocation {
    /// `$TESSERA_DATA`, else `Datasets/data` of the nearest enclosing checkout, else `./Datasets/data`.
    public static func defaultRoot() -> String {
        if let env = ProcessInfo.processInfo.environment["TESSERA_DATA"], !env.isEmpty { return env }
        var directory = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
        for _ in 0..<8 {
            let candidate = directory.appendingPathComponent("Datasets/data")
            if FileManager.default.fileExists(atPath: directory.appendingPathComponent("Datasets/fetch").path) {
                return candidate.path
            }
            directory.deleteLastPathComponent()
        }
        return "Datasets/data"
    }
}

/// Reads a file's bytes, mapping a missing file to a typed error that names the fetch command.
func readBytes(_ path: String, dataset: String) throws -> [UInt8] {
    guard FileManager.default.fileExists(atPath: path) else {
        throw DatasetError.missingFile(path: path, fetchCommand: "Datasets/fetch \(dataset)")
    }
    guard let data = FileManager.default.contents(atPath: path) else {
        throw DatasetError.corrupt(path: path, reason: "unreadable")
    }
    return [UInt8](data)
}
