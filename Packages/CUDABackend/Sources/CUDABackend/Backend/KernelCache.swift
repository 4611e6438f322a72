#if canImport(Glibc)
import Glibc
#endif
import TensorCore

/// Compiled kernels of one device: NVRTC output cached on disk by source hash and
/// architecture (`$TESSERA_KERNEL_CACHE`, else `~/.cache/tessera/kernels`), modules loaded
/// once, functions looked up once.
final class KernelCache {
    struct Key: Hashable { let name: String; let source: Int }

    let driver: DriverAPI
    let architecture: Int
    private(set) lazy var compiler: Result<NVRTC, Error> = Result { try NVRTC() }
    private var modules: [String: [String: DriverAPI.Handle]] = [:]
    private var lock = pthread_mutex_t()

    init(driver: DriverAPI, architecture: Int) {
        self.driver = driver
        self.architecture = architecture
        pthread_mutex_init(&lock, nil)
    }

    /// The directory PTX files are cached in, created on first use; nil when none is writable.
    static var directory: String? {
        let base: String
        if let custom = getenv("TESSERA_KERNEL_CACHE") { base = String(cString: custom) }
        else if let xdg = getenv("XDG_CACHE_HOME") { base = String(cString: xdg) + "/tessera/kernels" }
        else if let home = getenv("HOME") { base = String(cString: home) + "/.cache/tessera/kernels" }
        else { return nil }
        makeDirectories(base)
        return access(base, W_OK) == 0 ? base : nil
    }

    /// Creates `path` and the directories above it that are missing (as `mkdir -p`).
    static func makeDirectories(_ path: String) {
        var prefix = ""
        for component in path.split(separator: "/") {
            prefix += "/" + component
            mkdir(prefix, 0o755)
        }
    }

    /// FNV-1a, 64 bits: stable across runs (Swift's `hashValue` is seeded per process).
    static func fingerprint(_ text: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        let hex = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }

    /// PTX for `source`, from the disk cache or NVRTC.
    func ptx(for source: String, name: String) throws -> String {
        let nvrtc = try compiler.get()
        let target = nvrtc.targetArchitecture(forDevice: architecture)
        let key = Self.fingerprint("\(nvrtc.version)|compute_\(target)|" + source)
        let file = Self.directory.map { "\($0)/\(key)-compute_\(target).ptx" }
        if let file, let cached = Self.read(file) { return cached }
        let ptx = try nvrtc.compile(source, name: name, architecture: target)
        if let file { Self.write(ptx, to: file) }
        return ptx
    }

    /// The functions `names` of the module compiled from `source` (compiled and loaded once).
    func functions(source: String, name: String, names: [String]) throws -> [String: DriverAPI.Handle] {
        pthread_mutex_lock(&lock)
        defer { pthread_mutex_unlock(&lock) }
        let cacheKey = name + "#" + Self.fingerprint(source)
        if let loaded = modules[cacheKey] { return loaded }
        let text: String
        if driver.loadsSource {
            // Compiled here first so a source error throws with the compiler's messages.
            _ = try CUDAEmulator.module(source: source, name: name)
            text = source
        } else {
            text = try ptx(for: source, name: name)
        }
        var module: DriverAPI.Handle?
        try text.withCString { try driver.check(driver.cuModuleLoadData(&module, $0), "cuModuleLoadData(\(name))") }
        var table: [String: DriverAPI.Handle] = [:]
        for kernel in names {
            var function: DriverAPI.Handle?
            try driver.check(driver.cuModuleGetFunction(&function, module, kernel), "cuModuleGetFunction(\(kernel) in \(name))")
            table[kernel] = function
        }
        modules[cacheKey] = table
        return table
    }

    static func read(_ path: String) -> String? {
        guard let f = fopen(path, "rb") else { return nil }
        defer { fclose(f) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = fread(&chunk, 1, chunk.count, f)
            if n <= 0 { break }
            bytes += chunk[0..<n]
        }
        return bytes.isEmpty ? nil : String(decoding: bytes, as: UTF8.self)
    }

    /// Writes through a temporary name and renames, so a concurrent reader never sees half a
    /// file; whether it was written.
    @discardableResult
    static func write(_ text: String, to path: String) -> Bool {
        let temporary = path + ".\(getpid()).tmp"
        guard let f = fopen(temporary, "wb") else { return false }
        let bytes = Array(text.utf8)
        let written = fwrite(bytes, 1, bytes.count, f)
        fclose(f)
        if written == bytes.count { return rename(temporary, path) == 0 }
        unlink(temporary)
        return false
    }
}
