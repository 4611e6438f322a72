import CHDF5
#if canImport(Glibc)
import Glibc
#endif

/// One HDF5 identifier, closed exactly once when the wrapper goes away (so that no error
/// path leaks handles).
final class HDF5Handle {
    let id: hid_t
    private let close: (hid_t) -> herr_t

    init?(_ id: hid_t, close: @escaping (hid_t) -> herr_t) {
        guard id >= 0 else { return nil }
        self.id = id
        self.close = close
    }

    deinit { _ = close(id) }
}

/// HDF5 is built without thread safety: every call into it goes through this lock.
enum HDF5 {
    private static var lock: pthread_mutex_t = {
        var m = pthread_mutex_t()
        var attributes = pthread_mutexattr_t()
        pthread_mutexattr_init(&attributes)
        pthread_mutexattr_settype(&attributes, Int32(PTHREAD_MUTEX_RECURSIVE))
        pthread_mutex_init(&m, &attributes)
        return m
    }()

    private static let opened: Void = { H5open() }()

    /// File access properties for every open and create: no flock. Writes are atomic by
    /// rename already, and a child process that inherited a descriptor (any fork/exec while a
    /// file is open) would otherwise hold the lock and make later opens fail.
    static func fileAccess() -> HDF5Handle? {
        guard let fapl = HDF5Handle(H5Pcreate(tessera_h5p_file_access()), close: H5Pclose),
              H5Pset_file_locking(fapl.id, false, true) >= 0 else { return nil }
        return fapl
    }

    static func locked<R>(_ body: () throws -> R) rethrows -> R {
        _ = opened
        pthread_mutex_lock(&lock)
        // Debian builds HDF5 thread-safe, where the error-printing switch is per thread.
        tessera_h5_silence_errors()
        defer { pthread_mutex_unlock(&lock) }
        return try body()
    }

    /// Open HDF5 identifiers in this process (should return to its earlier value after any load or save).
    public static var openObjectCount: Int { locked { Int(tessera_h5_open_object_count()) } }
}

/// `H5P_DEFAULT` (and `H5S_ALL`): the C macro imports as Int32, the API takes hid_t.
let h5Default: hid_t = 0
