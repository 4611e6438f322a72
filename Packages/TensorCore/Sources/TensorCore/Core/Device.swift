#if canImport(Glibc)
import Glibc
#endif

/// A kind of device: the CPU, or one minted by the package that provides a backend for it
/// (CUDABackend mints `cuda`). Kinds compare as small integers; the name is for messages.
///
/// ```swift
/// extension DeviceKind { public static let metal = DeviceKind(named: "metal") }
/// ```
public struct DeviceKind: Hashable, Sendable, CustomStringConvertible {
    /// Position in the registry's table: what dispatch and comparisons use.
    @usableFromInline let id: Int

    /// The host's memory and cores.
    public static let cpu = DeviceKind(id: 0)

    init(id: Int) { self.id = id }

    /// The kind called `name`, minted on first use; the same kind for the same name afterwards,
    /// so two packages naming one kind agree. Stops when more than `Backends.maximumKinds`
    /// kinds are minted (a programmer error: kinds are declared once, as static constants).
    public init(named name: String) {
        id = Backends.kindID(named: name)
    }

    /// The name the kind was minted with.
    public var name: String { Backends.kindName(id) }
    public var description: String { name }
}

/// Where a tensor's storage lives: a kind and an index (`cuda:1`).
public struct Device: Hashable, Sendable, CustomStringConvertible {
    /// The kind of device (`cpu`, `cuda`, …).
    public let kind: DeviceKind
    /// Which device of that kind.
    public let index: Int

    /// Device `index` of `kind`.
    public init(kind: DeviceKind, index: Int = 0) {
        self.kind = kind
        self.index = index
    }

    /// The host CPU.
    public static let cpu = Device(kind: .cpu)

    public var description: String { kind == .cpu ? "cpu" : "\(kind.name):\(index)" }
}

/// Where backends are found: a table indexed by device kind, then by device index. The CPU
/// backend is always there; any package registers the backends of the kind it minted with
/// `Backends.register(_:unavailableReason:provider:)`, CUDABackend and test doubles alike.
///
/// Per-op dispatch never comes here (a `Storage` holds its backend); this is consulted when a
/// tensor is made on a named device. Reads take no lock: a slot is written once, under the
/// lock, before it is published with one pointer store.
public enum Backends {
    /// Device kinds and indices the table has room for.
    public static let maximumKinds = 32, maximumIndices = 64

    final class Entry {
        let kind: DeviceKind
        let provider: (Int) -> (any Backend)?
        let unavailableReason: String
        /// Resolved backends by device index (nil until first asked for).
        let resolved = UnsafeMutablePointer<(any Backend)?>.allocate(capacity: Backends.maximumIndices)

        init(kind: DeviceKind, provider: @escaping (Int) -> (any Backend)?, unavailableReason: String) {
            self.kind = kind
            self.provider = provider
            self.unavailableReason = unavailableReason
            resolved.initialize(repeating: nil, count: Backends.maximumIndices)
        }
    }

    nonisolated(unsafe) private static var names: [String] = ["cpu"]
    nonisolated(unsafe) private static var retired: [Entry] = []
    nonisolated(unsafe) private static let entries: UnsafeMutablePointer<Entry?> = {
        let table = UnsafeMutablePointer<Entry?>.allocate(capacity: maximumKinds)
        table.initialize(repeating: nil, count: maximumKinds)
        return table
    }()
    /// Guards `names`.
    nonisolated(unsafe) private static var nameLock: pthread_mutex_t = {
        var m = pthread_mutex_t()
        pthread_mutex_init(&m, nil)
        return m
    }()
    /// Guards `entries` and their slots, reads included. Recursive: a provider may mint a kind or
    /// ask for another device's backend while it builds its own.
    nonisolated(unsafe) private static var tableLock: pthread_mutex_t = {
        var attributes = pthread_mutexattr_t()
        pthread_mutexattr_init(&attributes)
        pthread_mutexattr_settype(&attributes, Int32(PTHREAD_MUTEX_RECURSIVE))
        var m = pthread_mutex_t()
        pthread_mutex_init(&m, &attributes)
        return m
    }()

    static func kindID(named name: String) -> Int {
        pthread_mutex_lock(&nameLock); defer { pthread_mutex_unlock(&nameLock) }
        if let existing = names.firstIndex(of: name) { return existing }
        tensorCheck(names.count < maximumKinds, "[device] cannot mint kind '\(name)': \(maximumKinds) kinds exist already")
        names.append(name)
        return names.count - 1
    }

    static func kindName(_ id: Int) -> String {
        pthread_mutex_lock(&nameLock); defer { pthread_mutex_unlock(&nameLock) }
        return names[id]
    }

    /// Makes devices of `kind` usable. `provider(index)` returns the backend of device
    /// `index`, or nil where there is none (asked once per index; the answer is kept);
    /// `unavailableReason` says why in the message of an op asked to run there. Registering
    /// a kind again replaces its backends (tests install doubles this way).
    public static func register(_ kind: DeviceKind, unavailableReason: String,
                                provider: @escaping (Int) -> (any Backend)?) {
        tensorCheck(kind != .cpu, "[device] the CPU backend is built in and cannot be replaced")
        let entry = Entry(kind: kind, provider: provider, unavailableReason: unavailableReason)
        pthread_mutex_lock(&tableLock)
        // A replaced entry stays alive with its backends: storages do not retain their backend,
        // and a reader may hold the old entry without a lock.
        if let replaced = entries[kind.id] { retired.append(replaced) }
        entries[kind.id] = entry
        pthread_mutex_unlock(&tableLock)
    }

    /// The backend of `device`; stops with the registered reason where it has none.
    public static func backend(for device: Device) -> any Backend {
        if device.kind == .cpu { return CPUBackend.shared }
        guard let backend = backendIfAvailable(for: device) else {
            pthread_mutex_lock(&tableLock)
            let registered = entries[device.kind.id]?.unavailableReason
            pthread_mutex_unlock(&tableLock)
            let reason = registered
                ?? "no backend registered for device kind '\(device.kind.name)' (import its package and call its register())"
            tensorFailure("[device] \(device) unavailable: \(reason)")
        }
        return backend
    }

    /// The backend of `device`, or nil where none is registered or usable.
    public static func backendIfAvailable(for device: Device) -> (any Backend)? {
        if device.kind == .cpu { return device.index == 0 ? CPUBackend.shared : nil }
        // Always under the lock: the unlocked fast path read a slot another thread was filling
        // (ThreadSanitizer). Only non-CPU devices get here, whose ops cost microseconds anyway.
        pthread_mutex_lock(&tableLock); defer { pthread_mutex_unlock(&tableLock) }
        guard let entry = entries[device.kind.id], device.index >= 0, device.index < maximumIndices else { return nil }
        if let known = entry.resolved[device.index] { return known }
        guard let made = entry.provider(device.index) else { return nil }
        entry.resolved[device.index] = made
        return made
    }
}
