#if canImport(Glibc)
import Glibc
#endif
import TensorCore

/// CUDA kernels executed on the host: the same CUDA C a GPU runs, compiled by the toolchain's
/// `clang++` behind `EmulatorRuntime.prelude` into a shared library (cached on disk by source
/// hash), and launched by the emulated driver (`EmulatedDriver`) over host memory.
///
/// `CUDABackend.emulated()` is a backend on it; with `TESSERA_CUDA_EMULATOR=1`,
/// `CUDABackend.register()` serves `Device.cuda(0)` from it where the machine has no GPU.
/// It is for correctness (tests, CI, kernel development), not speed: blocks run one after
/// another, their threads as fibers.
public enum CUDAEmulator {
    /// Set to `1` to make `CUDABackend.register()` use the emulator when no GPU is present.
    public static let environmentVariable = "TESSERA_CUDA_EMULATOR"
    /// A C++ compiler to use instead of the toolchain's `clang++`.
    public static let compilerVariable = "TESSERA_EMULATOR_CXX"

    /// Whether the environment asks for the emulator.
    public static var requested: Bool {
        guard let value = getenv(environmentVariable) else { return false }
        return ["1", "yes", "true"].contains(String(cString: value).lowercased())
    }

    /// The C++ compiler: `$TESSERA_EMULATOR_CXX`, else the first `clang++`, `c++` or `g++` found
    /// on `PATH` or beside the Swift toolchain.
    public static let compiler: String? = {
        if let custom = getenv(compilerVariable) { return String(cString: custom) }
        var directories = (getenv("PATH").map { String(cString: $0) } ?? "").split(separator: ":").map(String.init)
        directories.append("/opt/swift/usr/bin")
        for name in ["clang++", "c++", "g++"] {
            for directory in directories where access(directory + "/" + name, X_OK) == 0 { return directory + "/" + name }
        }
        return nil
    }()

    /// Whether kernels can be compiled for the host here.
    public static var isAvailable: Bool { compiler != nil }

    /// The `extern "C" __global__` kernels a source defines, in order.
    static func kernelNames(in source: String) -> [String] {
        let pattern = #/extern\s+"C"\s+__global__\s+(?:__launch_bounds__\([^)]*\)\s+)?void\s+(\w+)\s*\(/#
        return source.matches(of: pattern).map { String($0.output.1) }
    }

    /// The host translation unit for a module: the runtime, the module's source in a namespace
    /// (so kernel names such as `select` cannot collide with the C library's) with its
    /// `extern "C"` dropped and dynamic shared arrays bound to the launch's buffer, and one
    /// `tessera_emu_launch_<kernel>` entry per kernel.
    static func translationUnit(for source: String) -> String {
        let names = kernelNames(in: source)
        var body = source.replacing(#/extern\s+"C"\s+__global__/#, with: "__global__")
        body = body.replacing(#/extern\s+__shared__\s+([^;\[]*?)\s*(\w+)\s*\[\s*\]\s*;/#) { match in
            let type = match.output.1.replacing(#/__align__\([^)]*\)/#, with: "")
            return "\(type)* \(match.output.2) = (\(type)*)emu::dynamic_shared();"
        }
        // Static shared arrays register themselves for the race checks when declared.
        body = body.replacing(#/__shared__\s+([A-Za-z_][\w\s:<>]*?)\s+(\w+)\s*((?:\[[^\]]*\])*)\s*;/#) { match in
            let (type, name, extents) = (match.output.1, match.output.2, match.output.3)
            return "static thread_local \(type) \(name)\(extents); emu::note_shared(&\(name), sizeof(\(name)), \"\(name)\");"
        }
        var parts = [EmulatorRuntime.prelude, "namespace tessera_kernels {", "#line 1 \"kernel.cu\"", body, "}  // namespace tessera_kernels"]
        for name in names {
            parts.append("""
            extern "C" int tessera_emu_launch_\(name)(const unsigned* dims, unsigned shared, void** arguments, char* message, int length) {
                return emu::launch_kernel("\(name)", &tessera_kernels::\(name), dims, shared, arguments, message, length);
            }
            """)
        }
        return parts.joined(separator: "\n")
    }

    private static var lock: pthread_mutex_t = { var m = pthread_mutex_t(); pthread_mutex_init(&m, nil); return m }()
    nonisolated(unsafe) private static var libraries: [String: DynamicLibrary] = [:]

    /// The compiled module of `translationUnit` (a full C++ source), compiled once per process
    /// and cached on disk; `instrumented`: with the race checks' load and store hooks (kernel
    /// modules; the support library has none). Compile errors throw `.compilation` with the
    /// compiler's messages.
    static func library(for text: String, name: String, instrumented: Bool = true) throws -> DynamicLibrary {
        pthread_mutex_lock(&lock); defer { pthread_mutex_unlock(&lock) }
        let key = KernelCache.fingerprint(text)
        if let loaded = libraries[key] { return loaded }
        guard let compiler else {
            throw CUDAError.unavailable("the CUDA emulator needs a C++ compiler (clang++ on PATH, or \(compilerVariable))")
        }
        let directory = KernelCache.directory.map { $0 + "/emulator" } ?? "/tmp/tessera-emulator-\(getuid())"
        KernelCache.makeDirectories(directory)
        let file = "\(directory)/\(key).so"
        if access(file, R_OK) != 0 {
            let stem = "\(directory)/\(key).\(getpid()).\(UInt(pthread_self()))"
            let sourceFile = stem + ".cpp", temporary = stem + ".so", log = stem + ".log"
            defer { unlink(sourceFile); unlink(log) }
            guard KernelCache.write(text, to: sourceFile) else { throw CUDAError.unavailable("cannot write \(sourceFile) for the CUDA emulator") }
            let arguments = [compiler, "-std=c++17", "-O1", "-fPIC", "-shared", "-fno-strict-aliasing", "-w"]
                + (instrumented && compiler.hasSuffix("clang++") ? raceInstrumentation : []) + ["-x", "c++", sourceFile, "-o", temporary]
            let status = run(arguments, log: log)
            guard status == 0 else {
                unlink(temporary)
                throw CUDAError.compilation(kernel: name + " for the CUDA emulator with \(compiler)", log: KernelCache.read(log) ?? "exit status \(status)")
            }
            rename(temporary, file)
        }
        let (opened, failures) = DynamicLibrary.open([file])
        guard let library = opened else { throw CUDAError.unavailable("the emulated module \(file) does not load: \(failures.first ?? "")") }
        libraries[key] = library
        return library
    }

    /// clang's thread-sanitizer instrumentation without its runtime: loads and stores call the
    /// prelude's shared-memory race checks (atomics, calls and memcpy are left alone).
    static let raceInstrumentation = ["-fsanitize=thread", "-mllvm", "-tsan-instrument-func-entry-exit=0",
                                      "-mllvm", "-tsan-instrument-atomics=0", "-mllvm", "-tsan-instrument-memintrinsics=0"]

    /// The compiled kernels of a module's CUDA source.
    static func module(source: String, name: String) throws -> DynamicLibrary {
        try library(for: translationUnit(for: source), name: name)
    }

    /// Runs a command, its output into `log`; its exit status (-1 if it could not start).
    private static func run(_ arguments: [String], log: String) -> Int32 {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, log, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let cArguments = arguments.map { strdup($0) } + [nil]
        defer { cArguments.forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, arguments[0], &actions, nil, cArguments, environ)
        guard spawned == 0 else { return -1 }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        return (status & 0x7f) == 0 ? (status >> 8) & 0xff : -1
    }
}
