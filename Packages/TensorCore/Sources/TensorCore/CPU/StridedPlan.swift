import Synchronization
import CTesseraKernels

/// Walks up to four operands of one shape together, a contiguous run ("row") at a time.
///
/// Axes that are contiguous in every operand are merged first, so a strided view of a
/// contiguous tensor usually becomes one long row. Offsets are in elements, one SIMD lane
/// per operand.

struct StridedPlan {
    var shape: [Int]
    var strides: [SIMD4<Int>]
    var base: SIMD4<Int>
    var elementCount: Int

    
    init(shape: [Int], layouts: [Layout]) {
        var base = SIMD4<Int>(repeating: 0)
        for (i, layout) in layouts.enumerated() { base[i] = layout.offset }
        var dims: [(size: Int, strides: SIMD4<Int>)] = []
        for axis in 0..<shape.count where shape[axis] != 1 {
            var s = SIMD4<Int>(repeating: 0)
            for (i, layout) in layouts.enumerated() { s[i] = layout.strides[axis] }
            if let last = dims.last, last.strides == s &* shape[axis] {
                dims[dims.count - 1] = (last.size * shape[axis], s)
            } else {
                dims.append((shape[axis], s))
            }
        }
        self.shape = dims.map { $0.size }
        self.strides = dims.map { $0.strides }
        self.base = base
        self.elementCount = shape.reduce(1, *)
    }

    /// Stride of the innermost merged axis, per operand.
    var innerStrides: SIMD4<Int> { strides.last ?? SIMD4(repeating: 0) }

    /// Calls `body(offsets, count)` for each row intersecting the linear range. Always
    /// inlined: `body` then carries the element function known at the call site, and its
    /// loops compile to direct code instead of a closure call per element (measured: a
    /// broadcast ReLU backward went from ~2.5 ns to well under 1 ns per element).
    @inline(__always)
    func forEachRow(in range: Range<Int>, _ body: (SIMD4<Int>, Int) -> Void) {
        // Empty tensors have a zero extent somewhere: nothing to visit (and no modulo by 0).
        if range.isEmpty { return }
        let rank = shape.count
        if rank == 0 {
            if !range.isEmpty { body(base, 1) }
            return
        }
        let inner = shape[rank - 1]
        var index = [Int](repeating: 0, count: rank)
        var remainder = range.lowerBound
        var offsets = base
        for d in stride(from: rank - 1, through: 0, by: -1) {
            index[d] = remainder % shape[d]
            remainder /= shape[d]
            offsets &+= strides[d] &* index[d]
        }
        var remaining = range.count
        while remaining > 0 {
            let n = Swift.min(inner - index[rank - 1], remaining)
            body(offsets, n)
            remaining -= n
            if remaining == 0 { break }
            offsets &+= strides[rank - 1] &* n
            index[rank - 1] += n
            var d = rank - 1
            while d > 0 && index[d] == shape[d] {
                offsets &-= strides[d] &* shape[d]
                index[d] = 0
                d -= 1
                index[d] += 1
                offsets &+= strides[d]
            }
        }
    }
}

/// How many threads CPU kernels and OpenBLAS use.
public enum CPUThreads {
    /// Atomic: kernels read it on every call while another thread may set it (ThreadSanitizer
    /// reported the plain global when one test changed it while others ran).
    static let stored = Atomic<Int>(max(1, ProcessInfoLite.activeProcessorCount))

    /// Setting this also sets OpenBLAS's thread count.
    public static var count: Int {
        get { stored.load(ordering: .relaxed) }
        set {
            let count = max(1, newValue)
            stored.store(count, ordering: .relaxed)
            CPUBackend.setBLASThreads(count)
        }
    }
}

/// Work (elements x cost) below this runs on the calling thread. Splitting costs ~5-10 µs,
/// and OpenBLAS's spinning workers compete with ours for the cores right after a GEMM, so
/// only large element-wise work is worth spreading (measured on the MLP benchmark).
let parallelThreshold = 1 << 20

/// Splits `0..<count` into contiguous chunks run concurrently when the work is large.

@inline(__always)
func parallelChunks(count: Int, cost: Int = 1, _ body: (Range<Int>) -> Void) {
    let threads = CPUThreads.count
    // Memory-bound loops (cost below 4 per element) stay on one thread: measured on the
    // 2-core machine, a second thread made add_16M 2.3× slower and a GPT step 20% slower
    // (it competes with OpenBLAS's spinning workers for the cores), while exp-heavy loops
    // (softmax, activations) still gain from it.
    if threads <= 1 || cost < 4 || count * cost < parallelThreshold || count < 2 {
        body(0..<count)
        return
    }
    let chunks = Swift.min(threads, count)
    let per = (count + chunks - 1) / chunks
    parallelTasks(count: chunks) { chunk in
        let start = chunk * per
        let end = Swift.min(count, start + per)
        if start < end { body(start..<end) }
    }
}

/// Runs `body(i)` for every `i` in `0..<count` on the shared pool of CTesseraKernels (the
/// same threads as the float32 GEMM, so element-wise work and products never compete for
/// the cores with a second set of spinning workers), and returns when all are done.
func parallelTasks(count: Int, _ body: (Int) -> Void) {
    withoutActuallyEscaping(body) { body in
        var task = body
        withUnsafeMutablePointer(to: &task) { pointer in
            tessera_pool_run({ context, index in
                context!.assumingMemoryBound(to: ((Int) -> Void).self).pointee(index)
            }, pointer, count)
        }
    }
}

/// Processor count without Foundation.
enum ProcessInfoLite {
    static var activeProcessorCount: Int {
        #if canImport(Glibc)
        return Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
        #else
        return 1
        #endif
    }
}
#if canImport(Glibc)
import Glibc
#endif
