import TensorCore

/// `.cuda(0)` served by the CPU backend with storages labelled `cuda:0`, for checking device
/// handling without a GPU: a model moved to it must run with every tensor it makes on it,
/// give the CPU's numbers, and mixing devices anywhere stops with the op's message.
public enum EmulatedDevice {
    public static let device = Device.cuda(0)
    public static let backend = CPUBackend.emulating(.cuda(0))

    /// Installs the emulation as TensorCore's CUDA provider (replacing a real one).
    public static func register() {
        Backends.registerCUDA(reason: "only cuda:0 is emulated (CPU kernels, storages labelled cuda:0)") { index in
            index == 0 ? backend : nil
        }
    }
}
