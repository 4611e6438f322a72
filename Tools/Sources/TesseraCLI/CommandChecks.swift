import Foundation

/// Checks every command makes before work starts, so that a mistake costs nothing: sizes the
/// machine cannot hold and folders that cannot be written are usage errors naming the option.
enum CommandChecks {
    /// `--threads N`: positive and at most the machine's cores (more only slows the kernels).
    static func threads(_ args: Arguments) throws -> Int? {
        guard args.values["threads"] != nil else { return nil }
        let cores = ProcessInfo.processInfo.activeProcessorCount
        return try args.value("threads", default: 1, where: { $0 > 0 && $0 <= cores },
                              expected: "a positive integer up to this machine's \(cores) cores")
    }

    /// A count of elements (parameters, activations) that must fit in memory: the product of
    /// `sizes` without overflow, times `bytesPerElement` (weights, gradients and optimizer
    /// state), within the machine's memory; a usage error naming `option` otherwise.
    static func fitsInMemory(_ products: [[Int]], bytesPerElement: Int, option: String) throws {
        var total = 0
        for sizes in products {
            var product = 1
            for size in sizes {
                let (p, overflow) = product.multipliedReportingOverflow(by: size)
                guard !overflow else { throw UsageError("--\(option): the model would have more elements than can be counted") }
                product = p
            }
            let (sum, overflow) = total.addingReportingOverflow(product)
            guard !overflow else { throw UsageError("--\(option): the model would have more elements than can be counted") }
            total = sum
        }
        let memory = ProcessInfo.processInfo.physicalMemory
        let (bytes, overflow) = total.multipliedReportingOverflow(by: bytesPerElement)
        guard !overflow, UInt64(bytes) <= memory else {
            throw UsageError("--\(option): \(total) parameters need about \(overflow ? "more than 2^63" : String(bytes / 1_000_000)) MB "
                             + "for weights, gradients and optimizer state; this machine has \(memory / 1_000_000) MB")
        }
    }

    /// Creates `path` (and its parents) now, or says why it cannot be an output folder:
    /// a file in the way or a folder that cannot be made, before any training runs.
    static func prepareDirectory(_ path: String, option: String) throws {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { throw UsageError("--\(option) \(path) is a file, not a folder") }
            guard FileManager.default.isWritableFile(atPath: path) else { throw UsageError("--\(option) \(path) is not writable") }
            return
        }
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw UsageError("--\(option) \(path) cannot be created (a file in its path, or no permission)")
        }
    }
}
