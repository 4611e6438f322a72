#if canImport(Glibc)
import Glibc
#endif

/// A shared library opened with `dlopen`, and the places that were tried.
public struct DynamicLibrary {
    /// The file that was opened.
    public let path: String
    let handle: UnsafeMutableRawPointer

    /// The first of `candidates` that opens, or nil with the reasons `dlerror` gave.
    /// `global`: make its symbols available to libraries loaded later (cuBLAS needs cuBLASLt's).
    public static func open(_ candidates: [String], global: Bool = false) -> (library: DynamicLibrary?, failures: [String]) {
        var failures: [String] = []
        for path in candidates {
            if let handle = dlopen(path, RTLD_NOW | (global ? RTLD_GLOBAL : RTLD_LOCAL)) {
                return (DynamicLibrary(path: path, handle: handle), failures)
            }
            failures.append(dlerror().map { String(cString: $0) } ?? "\(path): cannot be opened")
        }
        return (nil, failures)
    }

    /// A C function of the library as `T` (a `@convention(c)` function type), or nil.
    public func symbol<T>(_ name: String, as type: T.Type) -> T? {
        guard let pointer = dlsym(handle, name) else { return nil }
        return unsafeBitCast(pointer, to: type)
    }
}

/// Where CUDA libraries are looked for: `$TESSERA_CUDA_LIBRARY_PATH` (a directory) first, then
/// the loader's search path, trying the major versions CUDA ships (13, 12, 11).
public enum CUDALibraryNames {
    /// A directory searched before the system's for the CUDA libraries.
    public static let environmentVariable = "TESSERA_CUDA_LIBRARY_PATH"

    /// `libcublas.so.13`, ..., `libcublas.so` in the environment's directory, then bare names.
    public static func candidates(_ stem: String, versions: [String] = ["13", "12", "11", "11.2"],
                                  environment: String? = nil) -> [String] {
        let names = versions.map { "lib\(stem).so.\($0)" } + ["lib\(stem).so"]
        let directory = environment ?? getenv(environmentVariable).map { String(cString: $0) }
        let located = directory.map { dir in names.map { dir.hasSuffix("/") ? dir + $0 : dir + "/" + $0 } } ?? []
        return located + names
    }
}
