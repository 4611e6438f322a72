import CMPI
import Foundation
import Synchronization

/// A collective in flight (PyTorch's `Work`): `wait()` returns when it completed on this rank
/// and throws what made it fail.
public final class CollectiveWork: @unchecked Sendable {
    private let condition = NSCondition()
    private var done = false
    private var failure: Error?
    /// Kept alive until completion (the buffer's storage).
    private var owner: AnyObject?
    /// When the communication thread began and ended it (uptime nanoseconds; 0 before).
    private var began: UInt64 = 0, ended: UInt64 = 0

    /// Threads blocked in `wait()` on this group's works (the poller spins while one waits).
    private let waiters: Waiters?

    /// A work that completes when `complete(throwing:)` is called.
    init(owner: AnyObject?, waiters: Waiters? = nil) {
        self.owner = owner
        self.waiters = waiters
    }

    /// A work that has already completed.
    static func completed(failure: Error? = nil) -> CollectiveWork {
        let work = CollectiveWork(owner: nil)
        work.complete(throwing: failure)
        return work
    }

    /// Marks the work done (with `failure` if it failed) and wakes its waiters.
    func complete(throwing failure: Error?) {
        let now = DispatchTime.now().uptimeNanoseconds
        condition.lock()
        if began == 0 { began = now }
        ended = now
        done = true
        self.failure = failure
        owner = nil
        condition.broadcast()
        condition.unlock()
    }

    /// Marks the moment the communication thread starts the collective.
    func begin() {
        let now = DispatchTime.now().uptimeNanoseconds
        condition.lock()
        began = now
        condition.unlock()
    }

    /// Seconds the collective took on the communication thread, from its start to its
    /// completion (0 before it completes).
    public var seconds: Double {
        condition.lock()
        defer { condition.unlock() }
        return done ? Double(ended &- began) / 1e9 : 0
    }

    /// Whether the collective has completed (successfully or not).
    public var isCompleted: Bool {
        condition.lock()
        defer { condition.unlock() }
        return done
    }

    /// Returns when the collective completed; throws its error.
    public func wait() throws {
        waiters?.count.add(1, ordering: .relaxed)
        defer { waiters?.count.subtract(1, ordering: .relaxed) }
        condition.lock()
        while !done { condition.wait() }
        let failure = self.failure
        condition.unlock()
        if let failure { throw failure }
    }
}

/// One thread that runs a process group's collectives one after another, in the order they
/// were started, as PyTorch's process groups run their work queue: collectives then start in
/// the same order on every rank, and the thread that started one (the backward pass) goes on
/// while it runs.
final class CommunicationQueue: @unchecked Sendable {
    private let condition = NSCondition()
    private var items: [(body: () throws -> Void, work: CollectiveWork)] = []
    private var stopping = false
    private var thread: Thread?

    init(name: String) {
        let thread = Thread { [unowned self] in self.serve() }
        thread.name = name
        thread.stackSize = 1 << 20
        self.thread = thread
        thread.start()
    }

    /// Runs `body` after every earlier item; its error fails `work`.
    func enqueue(_ work: CollectiveWork, _ body: @escaping () throws -> Void) {
        condition.lock()
        if stopping {
            condition.unlock()
            work.complete(throwing: DistributedError.finalized(operation: "collective"))
            return
        }
        items.append((body, work))
        condition.signal()
        condition.unlock()
    }

    /// Runs `body` on the queue's thread after every earlier item and waits for it.
    func run(_ body: @escaping () throws -> Void) throws {
        let work = CollectiveWork(owner: nil)
        enqueue(work, body)
        try work.wait()
    }

    /// Finishes the queued items, then ends the thread.
    func stop() {
        let done = CollectiveWork(owner: nil)
        enqueue(done) {}
        try? done.wait()
        condition.lock()
        stopping = true
        condition.signal()
        condition.unlock()
    }

    private func serve() {
        // Polling sleeps of a few microseconds: without this, Linux stretches each to at least
        // its default 50 µs timer slack, which would add to every collective's latency.
        _ = tessera_set_timer_slack(1000)
        while true {
            condition.lock()
            while items.isEmpty && !stopping { condition.wait() }
            if items.isEmpty && stopping {
                condition.unlock()
                return
            }
            let item = items.removeFirst()
            condition.unlock()
            item.work.begin()
            do {
                try item.body()
                item.work.complete(throwing: nil)
            } catch {
                item.work.complete(throwing: error)
            }
        }
    }
}

/// How many threads wait for a process group's collectives: while one does, the collective in
/// flight is on its critical path and the poller tests it without sleeping; while none does
/// (an all-reduce overlapping backward), it sleeps between tests and leaves the core to the
/// computation.
final class Waiters: Sendable {
    let count = Atomic<Int>(0)
    var any: Bool { count.load(ordering: .relaxed) > 0 }
}
