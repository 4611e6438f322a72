#if canImport(Glibc)
import Glibc
#endif

/// NVRTC, the run-time CUDA C compiler, loaded with `dlopen`. It needs no GPU: kernel sources
/// compile to PTX anywhere libnvrtc exists, and the driver JIT-compiles the PTX for the device.
public final class NVRTC {
    typealias Program = OpaquePointer
    typealias Status = Int32

    /// The libnvrtc file that was opened.
    public let path: String
    /// (major, minor) of the compiler, e.g. (11, 8).
    public let version: (major: Int, minor: Int)
    let library: DynamicLibrary
    let createProgram: @convention(c) (UnsafeMutablePointer<Program?>, UnsafePointer<CChar>, UnsafePointer<CChar>?, Int32,
                                       UnsafePointer<UnsafePointer<CChar>?>?, UnsafePointer<UnsafePointer<CChar>?>?) -> Status
    let compileProgram: @convention(c) (Program?, Int32, UnsafePointer<UnsafePointer<CChar>?>?) -> Status
    let getLogSize: @convention(c) (Program?, UnsafeMutablePointer<Int>) -> Status
    let getLog: @convention(c) (Program?, UnsafeMutablePointer<CChar>) -> Status
    let getPTXSize: @convention(c) (Program?, UnsafeMutablePointer<Int>) -> Status
    let getPTX: @convention(c) (Program?, UnsafeMutablePointer<CChar>) -> Status
    let destroyProgram: @convention(c) (UnsafeMutablePointer<Program?>) -> Status
    let getNumSupportedArchs: (@convention(c) (UnsafeMutablePointer<Int32>) -> Status)?
    let getSupportedArchs: (@convention(c) (UnsafeMutablePointer<Int32>) -> Status)?

    /// Loads the first NVRTC found: `$TESSERA_CUDA_LIBRARY_PATH`, then `libnvrtc.so.13/12/11.2`.
    public init(candidates: [String] = CUDALibraryNames.candidates("nvrtc")) throws {
        let (opened, failures) = DynamicLibrary.open(candidates)
        guard let library = opened else {
            throw CUDAError.unavailable("NVRTC (libnvrtc.so) was not found (\(failures.first ?? "no candidates"))")
        }
        self.library = library
        path = library.path
        func load<T>(_ name: String) throws -> T {
            guard let f = library.symbol(name, as: T.self) else { throw CUDAError.missingSymbol(library: library.path, symbol: name) }
            return f
        }
        let versionFunction: @convention(c) (UnsafeMutablePointer<Int32>, UnsafeMutablePointer<Int32>) -> Status = try load("nvrtcVersion")
        var major: Int32 = 0, minor: Int32 = 0
        _ = versionFunction(&major, &minor)
        version = (Int(major), Int(minor))
        createProgram = try load("nvrtcCreateProgram")
        compileProgram = try load("nvrtcCompileProgram")
        getLogSize = try load("nvrtcGetProgramLogSize")
        getLog = try load("nvrtcGetProgramLog")
        getPTXSize = try load("nvrtcGetPTXSize")
        getPTX = try load("nvrtcGetPTX")
        destroyProgram = try load("nvrtcDestroyProgram")
        getNumSupportedArchs = library.symbol("nvrtcGetNumSupportedArchs", as: (@convention(c) (UnsafeMutablePointer<Int32>) -> Status).self)
        getSupportedArchs = library.symbol("nvrtcGetSupportedArchs", as: (@convention(c) (UnsafeMutablePointer<Int32>) -> Status).self)
    }

    /// The compute capabilities this NVRTC can target (e.g. [35, 37, ..., 90]); empty if it cannot say.
    public var supportedArchitectures: [Int] {
        guard let count = getNumSupportedArchs, let list = getSupportedArchs else { return [] }
        var n: Int32 = 0
        guard count(&n) == 0, n > 0 else { return [] }
        var archs = [Int32](repeating: 0, count: Int(n))
        guard list(&archs) == 0 else { return [] }
        return archs.map(Int.init)
    }

    /// The virtual architecture to compile for on a device of compute capability `capability`
    /// (e.g. 90): the device's own when this NVRTC knows it, else the newest it knows that is
    /// not newer (PTX for an older virtual architecture runs on newer devices).
    public func targetArchitecture(forDevice capability: Int) -> Int {
        let known = supportedArchitectures
        guard !known.isEmpty else { return capability }
        return known.filter { $0 <= capability }.max() ?? known.min()!
    }

    /// Compiles `source` to PTX for `compute_<architecture>`. Source errors throw
    /// `.compilation` with NVRTC's log.
    public func compile(_ source: String, name: String, architecture: Int, options extra: [String] = []) throws -> String {
        var program: Program?
        let status = source.withCString { src in name.withCString { createProgram(&program, src, $0, 0, nil, nil) } }
        guard status == 0, program != nil else { throw CUDAError.nvrtc(call: "nvrtcCreateProgram(\(name))", code: status) }
        defer { _ = destroyProgram(&program) }
        let options = ["--gpu-architecture=compute_\(architecture)", "--std=c++14", "-default-device"] + extra
        let cOptions = options.map { strdup($0) }
        defer { cOptions.forEach { free($0) } }
        let compiled = cOptions.map { UnsafePointer($0) }.withUnsafeBufferPointer { compileProgram(program, Int32(options.count), $0.baseAddress) }
        if compiled != 0 {
            throw CUDAError.compilation(kernel: name, log: log(program))
        }
        var size = 0
        guard getPTXSize(program, &size) == 0 else { throw CUDAError.nvrtc(call: "nvrtcGetPTXSize(\(name))", code: -1) }
        var ptx = [CChar](repeating: 0, count: size + 1)
        guard getPTX(program, &ptx) == 0 else { throw CUDAError.nvrtc(call: "nvrtcGetPTX(\(name))", code: -1) }
        return String(cString: ptx)
    }

    private func log(_ program: Program?) -> String {
        var size = 0
        guard getLogSize(program, &size) == 0, size > 1 else { return "(no log)" }
        var text = [CChar](repeating: 0, count: size + 1)
        _ = getLog(program, &text)
        return String(cString: text)
    }
}
