import TensorCore

/// Several optimizers under names, as one `Optimizer`: a GAN's discriminator and generator
/// optimizers (each with its own learning rate and moments) travel together through a
/// trainer's checkpoints and schedules. `stateDict()` prefixes each part's keys with its name
/// (`discriminator.state.0.exp_avg`); `step()` and `zeroGradients()` act on every part (a
/// step that alternates updates calls the parts directly, by name).
public final class CombinedOptimizer: Optimizer {
    /// The parts, in order, with their names.
    public let parts: [(name: String, optimizer: Optimizer)]

    /// Optimizers under distinct names without dots.
    public init(_ parts: [(name: String, optimizer: Optimizer)]) {
        tensorCheck(!parts.isEmpty, "[CombinedOptimizer] needs at least one optimizer")
        let names = parts.map(\.name)
        tensorCheck(Set(names).count == names.count && names.allSatisfy { !$0.isEmpty && !$0.contains(".") },
                    "[CombinedOptimizer] names \(names) must be distinct, non-empty and without dots")
        self.parts = parts
    }

    /// The part called `name`.
    public subscript(name: String) -> Optimizer {
        guard let part = parts.first(where: { $0.name == name }) else {
            tensorFailure("[CombinedOptimizer] has no optimizer '\(name)' (it has \(parts.map(\.name)))")
        }
        return part.optimizer
    }

    public func step() { parts.forEach { $0.optimizer.step() } }

    public func zeroGradients() { parts.forEach { $0.optimizer.zeroGradients() } }

    /// Every part's groups' learning rates, in order of the parts.
    public var learningRates: [Double] {
        get { parts.flatMap { $0.optimizer.learningRates } }
        set {
            let counts = parts.map { $0.optimizer.learningRates.count }
            tensorCheck(newValue.count == counts.reduce(0, +),
                        "[CombinedOptimizer] \(newValue.count) learning rates for \(counts.reduce(0, +)) groups")
            var start = 0
            for (part, count) in zip(parts, counts) {
                part.optimizer.learningRates = Array(newValue[start..<start + count])
                start += count
            }
        }
    }

    public func stateDict() -> OptimizerStateDict {
        var combined = OptimizerStateDict()
        for (name, optimizer) in parts {
            let state = optimizer.stateDict()
            for (key, tensor) in state.tensors { combined.tensors["\(name).\(key)"] = tensor }
            for (key, value) in state.scalars { combined.scalars["\(name).\(key)"] = value }
        }
        return combined
    }

    /// Loads every part from its prefixed keys; throws when a key belongs to no part or a part
    /// refuses its state (nothing is loaded into the parts after the refusing one).
    public func load(stateDict: OptimizerStateDict) throws {
        let names = Set(parts.map(\.name))
        let strays = (Array(stateDict.tensors.keys) + Array(stateDict.scalars.keys))
            .filter { key in !names.contains(String(key.prefix(while: { $0 != "." }))) }
        if !strays.isEmpty {
            throw OptimizerError.stateMismatch("keys \(strays.sorted().prefix(5)) belong to none of \(parts.map(\.name))")
        }
        for (name, optimizer) in parts {
            let prefix = name + "."
            func own<V>(_ entries: [String: V]) -> [String: V] {
                Dictionary(uniqueKeysWithValues: entries.filter { $0.key.hasPrefix(prefix) }.map { (String($0.key.dropFirst(prefix.count)), $0.value) })
            }
            do {
                try optimizer.load(stateDict: OptimizerStateDict(tensors: own(stateDict.tensors), scalars: own(stateDict.scalars)))
            } catch {
                throw OptimizerError.stateMismatch("\(name): \(error)")
            }
        }
    }
}
