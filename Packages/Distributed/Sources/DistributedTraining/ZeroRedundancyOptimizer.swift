import Foundation
import Optim
import TensorCore
import Training

/// ZeRO stage 1, as PyTorch's `ZeroRedundancyOptimizer`: each rank keeps and updates the
/// optimizer state of its own share of the parameters (about 1 / worldSize of them, by size),
/// then every rank receives every share's new values. Gradients are still averaged over all
/// ranks (DistributedDataParallel); what shrinks is the optimizer's memory: Adam's two moments
/// per parameter live on one rank each.
///
/// ```swift
/// let ddp = try DistributedDataParallel(model, group: group)
/// let optimizer = ZeroRedundancyOptimizer(model.parameters(), group: group) {
///     Adam(parameters: $0, learningRate: 1e-3)
/// }
/// ```
///
/// `step()` cannot throw (the `Optimizer` protocol): a collective that fails inside it is kept
/// in `lastError`, and the process group, broken by the failure, throws it from the next
/// collective (the next gradient synchronisation). `stateDict()` is this rank's share, in the
/// whole model's numbering, until `consolidateState(onto:)` gathers every share onto one rank.
public final class ZeroRedundancyOptimizer: Optimizer, ShardedOptimizerState {
    /// The ranks sharing the state.
    public let group: ProcessGroup
    /// Every parameter, in order (the state dict's numbering).
    public let parameters: [Parameter]
    /// The rank that owns each parameter's state.
    public let owners: [Int]
    /// The optimizer of this rank's share.
    public let local: Optimizer
    /// The error of the last `step()`'s parameter exchange (nil when it completed).
    public private(set) var lastError: Error?

    /// This rank's share, as indices into `parameters`.
    private let shard: [Int]
    /// The whole state after `consolidateState(onto:)` on the rank it was gathered onto.
    private var consolidated: OptimizerStateDict?

    /// Shards `parameters` over `group`'s ranks (the largest first, each to the rank holding
    /// the fewest elements so far, as PyTorch partitions) and builds this rank's optimizer with
    /// `makeOptimizer(share)` (an empty share on a rank with nothing to own).
    public init(_ parameters: [Parameter], group: ProcessGroup, makeOptimizer: ([Parameter]) -> Optimizer) {
        self.group = group
        self.parameters = parameters
        var owners = [Int](repeating: 0, count: parameters.count)
        var sizes = [Int](repeating: 0, count: group.worldSize)
        let bySize = parameters.indices.sorted {
            (parameters[$0].value.elementCount, -$0) > (parameters[$1].value.elementCount, -$1)
        }
        for i in bySize {
            let rank = sizes.indices.min { (sizes[$0], $0) < (sizes[$1], $1) }!
            owners[i] = rank
            sizes[rank] += parameters[i].value.elementCount
        }
        self.owners = owners
        shard = parameters.indices.filter { owners[$0] == group.rank }
        local = makeOptimizer(shard.map { parameters[$0] })
    }

    /// Elements of parameters whose state this rank keeps.
    public var localParameterCount: Int { shard.reduce(0) { $0 + parameters[$1].value.elementCount } }

    public var learningRates: [Double] {
        get { local.learningRates }
        set { local.learningRates = newValue }
    }

    /// Clears every parameter's gradient (not only this rank's share).
    public func zeroGradients() {
        for p in parameters { p.grad = nil }
    }

    /// Updates this rank's share, then sends every share's values to every rank.
    public func step() {
        consolidated = nil
        local.step()
        do {
            try exchangeParameters()
            lastError = nil
        } catch {
            lastError = error
        }
    }

    /// `step()`, throwing what the parameter exchange throws.
    public func synchronizedStep() throws {
        step()
        if let lastError { throw lastError }
    }

    /// Each owner's updated parameters, one broadcast per owner and dtype.
    private func exchangeParameters() throws {
        guard group.worldSize > 1 else { return }
        for owner in 0..<group.worldSize {
            let owned = parameters.indices.filter { owners[$0] == owner }
            for dtype in DType.allCases {
                let members = owned.filter { parameters[$0].dtype == dtype }
                guard !members.isEmpty else { continue }
                let flat = Tensor.concatenated(members.map { parameters[$0].value.detached().reshaped(to: [-1]) }, axis: 0)
                let received = try group.broadcast(flat, from: owner)
                guard owner != group.rank else { continue }
                var offset = 0
                for i in members {
                    let p = parameters[i], n = p.value.elementCount
                    p.value = received[offset..<(offset + n)].reshaped(to: p.shape)
                    offset += n
                }
            }
        }
    }

    // MARK: state

    /// This rank's share of the state under the whole model's numbering (`state.<i>.…`) and
    /// the group hyper-parameters; after `consolidateState(onto:)`, on that rank, the whole state.
    public func stateDict() -> OptimizerStateDict {
        if let consolidated { return consolidated }
        return renumbered(local.stateDict(), toGlobal: true)
    }

    /// Loads a whole state dict (every rank's share, as written by rank 0 after
    /// consolidation, or by an unsharded optimizer over the same parameters): this rank keeps
    /// its share.
    public func load(stateDict dict: OptimizerStateDict) throws {
        consolidated = nil
        try local.load(stateDict: renumbered(dict, toGlobal: false))
    }

    public func consolidateState(onto root: Int) throws {
        consolidated = nil
        let mine = stateDict()
        var whole = OptimizerStateDict()
        for rank in 0..<group.worldSize {
            // The sender's keys, dtypes and shapes as JSON bytes, then each tensor's elements.
            let description: [String: Any] = rank == group.rank ? [
                "scalars": mine.scalars,
                "tensors": mine.tensors.keys.sorted().map { ["key": $0, "dtype": mine.tensors[$0]!.dtype.rawValue,
                                                              "shape": mine.tensors[$0]!.shape] as [String: Any] },
            ] : [:]
            let bytes = rank == group.rank ? [UInt8](try JSONSerialization.data(withJSONObject: description)) : []
            let length = try group.broadcast(Tensor([Int64(bytes.count)], shape: [1]).moved(to: group.device), from: rank)
                .scalars(as: Int64.self)[0]
            let payload = (rank == group.rank ? Tensor(bytes, shape: [bytes.count]) : Tensor.zeros([Int(length)], dtype: .uint8))
                .moved(to: group.device)
            let received = try group.broadcast(payload, from: rank).scalars(as: UInt8.self)
            guard let json = try JSONSerialization.jsonObject(with: Data(received)) as? [String: Any],
                  let scalars = json["scalars"] as? [String: Double], let tensors = json["tensors"] as? [[String: Any]] else {
                throw DistributedError.unavailable(reason: "consolidateState: rank \(rank) sent an unreadable state description")
            }
            for (key, value) in scalars where rank == 0 || key.hasPrefix("state.") { whole.scalars[key] = value }
            for entry in tensors {
                guard let key = entry["key"] as? String, let code = entry["dtype"] as? Int, let dtype = DType(rawValue: code),
                      let shape = entry["shape"] as? [Int] else {
                    throw DistributedError.unavailable(reason: "consolidateState: rank \(rank) sent an unreadable tensor entry")
                }
                let tensor = rank == group.rank ? mine.tensors[key]!.moved(to: group.device)
                    : Tensor.zeros(shape, dtype: dtype, device: group.device)
                let value = try group.broadcast(tensor, from: rank)
                if group.rank == root { whole.tensors[key] = value }
            }
        }
        if group.rank == root { consolidated = whole }
    }

    /// `state.<k>.…` of the local optimizer as `state.<shard[k]>.…` (toGlobal), or the
    /// reverse, dropping entries of parameters this rank does not own; other keys pass.
    private func renumbered(_ dict: OptimizerStateDict, toGlobal: Bool) -> OptimizerStateDict {
        var map: [Int: Int] = [:]
        for (k, i) in shard.enumerated() { map[toGlobal ? k : i] = toGlobal ? i : k }
        func rename(_ key: String) -> String? {
            guard key.hasPrefix("state.") else { return key }
            let rest = key.dropFirst("state.".count)
            guard let dot = rest.firstIndex(of: "."), let index = Int(rest[..<dot]) else { return key }
            guard let target = map[index] else { return nil }
            return "state.\(target)" + rest[dot...]
        }
        var result = OptimizerStateDict()
        for (key, value) in dict.tensors { if let name = rename(key) { result.tensors[name] = value } }
        for (key, value) in dict.scalars { if let name = rename(key) { result.scalars[name] = value } }
        return result
    }
}
