import Foundation
import NN
import TensorCore
import Training

/// Data-parallel training of one module across the ranks of a process group, as PyTorch's
/// `DistributedDataParallel`: each rank runs the same model on its own shard of every batch,
/// and after backward every parameter's `grad` holds the average over the ranks, so every
/// rank's optimizer takes the same step.
///
/// - At construction the ranks' models are compared (a mismatch throws, naming the rank and
///   the parameter) and rank 0's parameters and buffers are copied to every rank.
/// - Gradients are grouped into buckets of about `bucketCapacityBytes` (the first bucket 1 MiB,
///   as PyTorch's), in reverse order of the parameters, which is about the order backward
///   produces them. A hook on every parameter marks its gradient ready; a bucket whose every
///   gradient is ready starts its all-reduce at once (buckets start in order, the same on
///   every rank) while backward goes on with the earlier layers: communication overlaps
///   computation.
/// - `finishGradientSynchronization()` (the trainer calls it before the optimizer step)
///   waits for the buckets and writes the averages into the parameters' `grad`.
/// - `withoutGradientSynchronization { }` (PyTorch's `no_sync`) lets gradients accumulate
///   locally; the next synchronised backward averages the accumulated sums.
///
/// ```swift
/// let group = try MPIProcessGroup.world()
/// let ddp = try DistributedDataParallel(model, group: group)
/// trainer.distribution = ddp        // or: loss.backward(); try ddp.finishGradientSynchronization()
/// ```
public final class DistributedDataParallel: TrainingDistribution {
    /// The module trained (its parameters are the ones synchronised).
    public let module: Module
    /// The ranks it trains across.
    public let group: ProcessGroup
    /// Bytes of gradients per bucket (but the first).
    public let bucketCapacityBytes: Int
    /// Whether parameters a backward pass leaves out are allowed (their gradient counts as
    /// zero on that rank; one no rank used keeps `grad` nil).
    public let findUnusedParameters: Bool
    /// Whether `prepareForward()` sends rank 0's buffers (running statistics) to every rank.
    public let broadcastsBuffers: Bool
    /// Whether the next backward pass synchronises gradients.
    public var synchronizesGradients = true

    public var rank: Int { group.rank }
    public var worldSize: Int { group.worldSize }

    /// Seconds the finished buckets' all-reduces took on the communication thread, summed
    /// over every synchronisation so far.
    public private(set) var communicationSeconds = 0.0
    /// Seconds `finishGradientSynchronization()` waited for them: communication backward did
    /// not hide. `1 - exposedSeconds / communicationSeconds` is the fraction hidden.
    public private(set) var exposedSeconds = 0.0

    private struct Slot {
        let parameter: Parameter
        let name: String
        let offset: Int
        var ready = false

        /// This parameter's elements in the bucket's flat `buffer`, shaped as the parameter.
        func region(of buffer: Operand) -> Operand {
            let shape = parameter.shape
            return Operand(storage: buffer.storage,
                           layout: Layout(shape: shape, strides: Layout.contiguousStrides(for: shape), offset: buffer.layout.offset + offset),
                           dtype: buffer.dtype)
        }
    }

    private final class Bucket {
        let wire: WireType
        var slots: [Slot]
        let count: Int
        var buffer: Tensor
        var readyCount = 0
        var work: CollectiveWork?

        init(wire: WireType, slots: [Slot], count: Int, device: Device) {
            self.wire = wire
            self.slots = slots
            self.count = count
            buffer = Tensor.zeros([count], dtype: wire.dtype, device: device)
        }
    }

    private var buckets: [Bucket] = []
    private var location: [ObjectIdentifier: (bucket: Int, slot: Int)] = [:]
    private var hooks: [GradientHookHandle] = []
    private var nextToLaunch = 0
    /// A parameter made ready twice in one synchronisation (two backward passes without a
    /// `finishGradientSynchronization` between them).
    private var readiedTwice: String?

    /// Wraps `module` for training across `group`'s ranks (collective: every rank constructs
    /// it with the same model). Throws `DistributedError.modelMismatch` when the ranks' models
    /// differ, and what the collectives throw.
    public init(_ module: Module, group: ProcessGroup, bucketCapacityBytes: Int = 25 << 20, findUnusedParameters: Bool = false,
                broadcastsBuffers: Bool = true) throws {
        tensorCheck(bucketCapacityBytes > 0, "[DistributedDataParallel] bucket capacity must be positive, got \(bucketCapacityBytes)")
        self.module = module
        self.group = group
        self.bucketCapacityBytes = bucketCapacityBytes
        self.findUnusedParameters = findUnusedParameters
        self.broadcastsBuffers = broadcastsBuffers
        let named = module.namedParameters().filter { $0.1.requiresGrad }
        for (name, p) in named {
            tensorCheck(p.value.device == group.device,
                        "[DistributedDataParallel] parameter '\(name)' is on \(p.value.device); the \(group.backendName) group moves "
                        + "memory of \(group.device)")
        }
        try verifySameModel(named)
        try broadcastState()
        guard group.worldSize > 1 else { return }
        makeBuckets(named)
        for (index, bucket) in buckets.enumerated() {
            for (k, slot) in bucket.slots.enumerated() {
                location[ObjectIdentifier(slot.parameter)] = (index, k)
                hooks.append(slot.parameter.registerGradientAccumulatedHook { [weak self] p in self?.gradientReady(p) })
            }
        }
    }

    deinit {
        hooks.forEach { $0.remove() }
    }

    /// The number of gradient buckets (0 in a world of one, where nothing is synchronised).
    public var bucketCount: Int { buckets.count }

    /// The module's output (the module itself runs; call `prepareForward()` first when buffers
    /// should follow rank 0's, as the trainer does).
    public func callAsFunction(_ input: Tensor) -> Tensor { module(input) }

    /// Runs `body` with gradient synchronisation off: its backward passes accumulate locally
    /// (PyTorch's `no_sync`), and the next synchronised backward averages the sums.
    public func withoutGradientSynchronization<R>(_ body: () throws -> R) rethrows -> R {
        let previous = synchronizesGradients
        synchronizesGradients = false
        defer { synchronizesGradients = previous }
        return try body()
    }

    // MARK: TrainingDistribution

    public func prepareForward() throws {
        guard broadcastsBuffers, group.worldSize > 1 else { return }
        for (_, buffer) in module.namedBuffers() { buffer.value = try group.broadcast(buffer.value, from: 0) }
    }

    public func sumAcrossRanks(_ values: [Double]) throws -> [Double] { try group.sum(values) }

    /// Waits for every bucket's all-reduce and writes the averaged gradients into the
    /// parameters' `grad`. Throws `DistributedError.unusedParameter` when a parameter received
    /// no gradient and `findUnusedParameters` is off, and what the collectives throw.
    public func finishGradientSynchronization() throws {
        guard group.worldSize > 1 else { return }
        defer { reset() }
        if let name = readiedTwice {
            tensorFailure("[DistributedDataParallel] parameter '\(name)' received gradients from two backward passes in one "
                          + "synchronisation; wrap all but the last in withoutGradientSynchronization")
        }
        var locallyUsed: [Double] = []
        for bucket in buckets {
            for k in bucket.slots.indices {
                locallyUsed.append(bucket.slots[k].ready || bucket.slots[k].parameter.grad != nil ? 1 : 0)
                if bucket.slots[k].ready { continue }
                guard findUnusedParameters else { throw DistributedError.unusedParameter(name: bucket.slots[k].name) }
                bucket.slots[k].ready = true
                bucket.readyCount += 1
            }
        }
        launchReadyBuckets()
        let waitStarted = DispatchTime.now().uptimeNanoseconds
        for bucket in buckets { try bucket.work?.wait() }
        exposedSeconds += Double(DispatchTime.now().uptimeNanoseconds - waitStarted) / 1e9
        communicationSeconds += buckets.reduce(0) { $0 + ($1.work?.seconds ?? 0) }
        // One more collective, only when parameters may go unused: which ones some rank used.
        let used = findUnusedParameters ? try group.allReduce(Tensor(locallyUsed, shape: [locallyUsed.count]).moved(to: group.device), .max)
            .scalars(as: Double.self) : locallyUsed.map { _ in 1 }
        var index = 0
        let scale = 1 / Double(group.worldSize)
        for bucket in buckets {
            // Averaged in place; the gradients become views of the bucket. The next launch
            // writes into it again without a copy once the optimizer has dropped them (copy on
            // write keeps any gradient a caller still holds).
            let averaged = bucket.buffer.uniqueOperand()
            averaged.storage.backend.binary(.multiply, averaged, scalar: scale, scalarIsLeft: false, into: averaged)
            bucket.buffer.withOperand { operand in
                for slot in bucket.slots {
                    defer { index += 1 }
                    guard used[index] > 0 else { slot.parameter.grad = nil; continue }
                    slot.parameter.grad = Tensor(operand: slot.region(of: operand)).cast(to: slot.parameter.dtype)
                }
            }
        }
    }

    public var description: String {
        "DistributedDataParallel(rank \(rank) of \(worldSize), \(buckets.count) buckets over \(group.backendName))"
    }

    // MARK: buckets

    private func makeBuckets(_ named: [(String, Parameter)]) {
        var current: [Slot] = []
        var currentWire: WireType?
        var elements = 0
        func close() {
            if let wire = currentWire, !current.isEmpty { buckets.append(Bucket(wire: wire, slots: current, count: elements, device: group.device)) }
            current = []
            elements = 0
        }
        for (name, p) in named.reversed() {
            let wire = WireType(p.dtype)
            let capacity = buckets.isEmpty ? min(1 << 20, bucketCapacityBytes) : bucketCapacityBytes
            if wire != currentWire || (!current.isEmpty && (elements + p.value.elementCount) * wire.byteSize > capacity) { close() }
            currentWire = wire
            current.append(Slot(parameter: p, name: name, offset: elements))
            elements += p.value.elementCount
        }
        close()
    }

    private func gradientReady(_ parameter: Parameter) {
        guard synchronizesGradients, let (b, k) = location[ObjectIdentifier(parameter)] else { return }
        let bucket = buckets[b]
        if bucket.slots[k].ready {
            readiedTwice = bucket.slots[k].name
            return
        }
        bucket.slots[k].ready = true
        bucket.readyCount += 1
        if bucket.readyCount == bucket.slots.count { launchReadyBuckets() }
    }

    /// Starts the all-reduces of the ready buckets that follow the last one started: buckets
    /// start in index order on every rank, whatever order their gradients came in.
    private func launchReadyBuckets() {
        while nextToLaunch < buckets.count && buckets[nextToLaunch].readyCount == buckets[nextToLaunch].slots.count {
            launch(buckets[nextToLaunch])
            nextToLaunch += 1
        }
    }

    private func launch(_ bucket: Bucket) {
        let target = bucket.buffer.uniqueOperand()
        for slot in bucket.slots {
            let region = slot.region(of: target)
            if let grad = slot.parameter.grad {
                grad.withOperand { target.storage.backend.copy($0, into: region) }
            } else {
                target.storage.backend.fill(region, with: 0)
            }
        }
        bucket.work = group.startAllReduce(target.firstElement, count: bucket.count, type: bucket.wire, .sum, owner: target.storage)
    }

    private func reset() {
        for bucket in buckets {
            for k in bucket.slots.indices { bucket.slots[k].ready = false }
            bucket.readyCount = 0
            bucket.work = nil
        }
        nextToLaunch = 0
        readiedTwice = nil
    }

    // MARK: construction

    /// Compares every rank's parameter shapes and dtypes with rank 0's (three collectives).
    private func verifySameModel(_ named: [(String, Parameter)]) throws {
        guard group.worldSize > 1 else { return }
        let width = 8
        let longest = Int(try group.allReduce(Tensor([Int64(named.count)], shape: [1]).moved(to: group.device), .max)
            .scalars(as: Int64.self)[0])
        var rows = [Int64](repeating: -1, count: max(longest, 1) * width)
        for (i, (_, p)) in named.enumerated() {
            let shape = p.shape
            rows[i * width] = Int64(p.dtype.rawValue)
            rows[i * width + 1] = Int64(shape.count)
            for (d, size) in shape.prefix(width - 2).enumerated() { rows[i * width + 2 + d] = Int64(size) }
            if shape.count > width - 2 { rows[i * width + width - 1] = Int64(shape.dropFirst(width - 3).reduce(1, *)) }
        }
        let all = try group.allGatherStacked(Tensor(rows, shape: [max(longest, 1), width]).moved(to: group.device))
            .scalars(as: Int64.self)
        let stride = max(longest, 1) * width
        func shape(_ rank: Int, _ i: Int) -> [Int] {
            let row = Array(all[(rank * stride + i * width)..<(rank * stride + (i + 1) * width)])
            guard row[1] >= 0 else { return [] }
            return row[2..<(2 + min(Int(row[1]), width - 2))].map(Int.init)
        }
        for other in 1..<group.worldSize {
            for i in 0..<max(longest, 1) {
                let a = all[(other * stride + i * width)..<(other * stride + (i + 1) * width)]
                let b = all[(i * width)..<((i + 1) * width)]
                if !a.elementsEqual(b) {
                    let name = i < named.count ? named[i].0 : "parameter \(i)"
                    throw DistributedError.modelMismatch(rank: other, parameter: name, shape: shape(other, i), rootShape: shape(0, i))
                }
            }
        }
    }

    /// Rank 0's parameters and buffers on every rank.
    private func broadcastState() throws {
        guard group.worldSize > 1 else { return }
        for p in module.parameters() { p.value = try group.broadcast(p.value, from: 0) }
        for (_, buffer) in module.namedBuffers() { buffer.value = try group.broadcast(buffer.value, from: 0) }
    }
}
