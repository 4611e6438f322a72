#if canImport(Glibc)
import Glibc
#endif

/// Per-thread autograd switches: whether operations record a graph, and anomaly detection.

final class ThreadState {
    var gradientsEnabled = true
    var anomalyDetection = false

    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key) { pointer in
            if let pointer { Unmanaged<ThreadState>.fromOpaque(pointer).release() }
        }
        return key
    }()

    static var current: ThreadState {
        if let pointer = pthread_getspecific(key) {
            return Unmanaged<ThreadState>.fromOpaque(pointer).takeUnretainedValue()
        }
        let state = ThreadState()
        pthread_setspecific(key, Unmanaged.passRetained(state).toOpaque())
        return state
    }
}

/// Runs `body` without recording gradients (evaluation, optimizer updates), like
/// `torch.no_grad()`. Applies to the calling thread.
@discardableResult
public func withoutGradients<R>(_ body: () throws -> R) rethrows -> R {
    let state = ThreadState.current
    let previous = state.gradientsEnabled
    state.gradientsEnabled = false
    defer { state.gradientsEnabled = previous }
    return try body()
}

/// Runs `body` with gradient recording switched on or off.
@discardableResult
public func withGradients<R>(enabled: Bool, _ body: () throws -> R) rethrows -> R {
    let state = ThreadState.current
    let previous = state.gradientsEnabled
    state.gradientsEnabled = enabled
    defer { state.gradientsEnabled = previous }
    return try body()
}

/// Whether operations on this thread currently record a graph.
public var isRecordingGradients: Bool { ThreadState.current.gradientsEnabled }

