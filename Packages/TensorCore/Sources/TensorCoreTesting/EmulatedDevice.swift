import TensorCore

/// A device kind of its own (`emulated:0`) served by the CPU kernels with storages labelled
/// as living there, for checking device handling without a GPU: a model moved to it must run
/// with every tensor it makes on it, give the CPU's numbers, and mixing devices anywhere stops
/// with the op's message.
public enum EmulatedDevice {
    /// The device kind of the emulation, distinct from the CPU's.
    public static let kind = DeviceKind(named: "emulated")
    /// The one emulated device, `emulated:0`.
    public static let device = Device(kind: kind, index: 0)
    /// CPU kernels answering for `device`.
    public static let backend = CPUBackend.emulating(device)

    /// Registers the emulation through the public registration call any backend uses.
    public static func register() {
        Backends.register(kind, unavailableReason: "only emulated:0 exists (CPU kernels, storages labelled emulated:0)") { index in
            index == 0 ? backend : nil
        }
    }
}
