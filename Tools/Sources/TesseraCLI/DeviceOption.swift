import CUDABackend
import TensorCore

/// `--device cpu|cuda|cuda:N` for every command that trains or samples.
enum DeviceOption {
    /// The GPU asked for is not usable here; the reason comes from the driver probe.
    struct Unavailable: Error, CustomStringConvertible {
        let device: String, reason: String
        var description: String { "--device \(device): \(reason)" }
    }

    /// The device index for `cuda`/`cuda:N`, nil for `cpu`; a usage error for anything else.
    static func parse(_ text: String) throws -> Int? {
        if text == "cpu" { return nil }
        if text == "cuda" { return 0 }
        if text.hasPrefix("cuda:"), let index = Int(text.dropFirst(5)), index >= 0 { return index }
        throw UsageError("invalid value '\(text)' for --device; expected cpu, cuda or cuda:N")
    }

    /// The device, registering the CUDA backend first when a GPU is asked for.
    static func resolve(_ text: String) throws -> Device {
        guard let index = try parse(text) else { return .cpu }
        let availability = CUDABackend.register()
        guard case .available(_, let devices) = availability else { throw Unavailable(device: text, reason: availability.description) }
        guard index < devices.count else {
            throw Unavailable(device: text, reason: "this machine has \(devices.count) CUDA device\(devices.count == 1 ? "" : "s")")
        }
        guard Backends.backendIfAvailable(for: .cuda(index)) != nil else {
            throw Unavailable(device: text, reason: "cuda:\(index) could not be initialised")
        }
        return .cuda(index)
    }
}
