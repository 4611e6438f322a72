/// Walks the tape backwards from roots, as PyTorch's engine does.
enum AutogradEngine {
    /// Nodes reachable from `roots`, ordered so that every node comes before its inputs.
    /// Iterative, so very deep graphs (long RNN unrolls) do not overflow the stack.
    static func topologicalOrder(from roots: [AutogradInfo]) -> [AutogradInfo] {
        var visited = Set<ObjectIdentifier>()
        var postorder: [AutogradInfo] = []
        var stack: [(AutogradInfo, Int)] = []
        for root in roots where visited.insert(ObjectIdentifier(root)).inserted {
            stack.append((root, 0))
            while let (node, next) = stack.last {
                if next < node.inputs.count {
                    stack[stack.count - 1].1 = next + 1
                    if let input = node.inputs[next], visited.insert(ObjectIdentifier(input)).inserted {
                        stack.append((input, 0))
                    }
                } else {
                    stack.removeLast()
                    postorder.append(node)
                }
            }
        }
        return postorder.reversed()
    }

    /// Propagates `seeds` from `roots`. With `targets`, returns their gradients and leaves
    /// `grad` untouched; without, accumulates into leaves' (and retaining nodes') `grad`.
    static func run(roots: [AutogradInfo], seeds: [Tensor], targets: [AutogradInfo]?,
                    createGraph: Bool) -> [Tensor?] {
        let order = topologicalOrder(from: roots)
        var pending: [ObjectIdentifier: Tensor] = [:]
        for (root, seed) in zip(roots, seeds) {
            let id = ObjectIdentifier(root)
            pending[id] = pending[id].map { $0 + seed } ?? seed
        }
        var targetIndex: [ObjectIdentifier: Int] = [:]
        var results = [Tensor?](repeating: nil, count: targets?.count ?? 0)
        if let targets { for (i, t) in targets.enumerated() { targetIndex[ObjectIdentifier(t)] = i } }
        let anomaly = ThreadState.current.anomalyDetection

        withGradients(enabled: createGraph) {
            for node in order {
                let id = ObjectIdentifier(node)
                guard let gradient = pending.removeValue(forKey: id) else { continue }
                if let i = targetIndex[id] { results[i] = gradient }
                if targets == nil && (node.isLeaf || node.retainsGrad) {
                    let g = createGraph ? gradient : gradient.detached()
                    node.grad = node.grad.map { $0 + g } ?? g
                    if let hooks = node.accumulationHooks { for entry in hooks { entry.hook() } }
                }
                guard let backward = node.backward else { continue }
                if let region = node.region, !createGraph, let input = node.inputs[0] {
                    if _slowPath(anomaly) { Anomaly.checkBackward(gradient, operation: node.operation) }
                    let inputId = ObjectIdentifier(input)
                    var total = pending.removeValue(forKey: inputId)
                    addRegion(gradient, region, into: &total)
                    pending[inputId] = total
                    continue
                }
                var output = node.savedOutput ?? gradient
                if createGraph, node.savedOutput != nil { output.autograd = node }
                let inputGradients = backward(gradient, output)
                for (input, g) in zip(node.inputs, inputGradients) {
                    guard let input, let g else { continue }
                    if _slowPath(anomaly) { Anomaly.checkBackward(g, operation: node.operation) }
                    let inputId = ObjectIdentifier(input)
                    pending[inputId] = pending[inputId].map { $0 + g } ?? g
                }
            }
        }
        return results
    }

    /// What a region leaves out of a tensor of `shape`, as regions to zero: the slabs before
    /// and after it when it selects one index or a step-1 range of one axis (`narrowed`, the
    /// parts of a split), else the whole tensor. A narrow view's gradient then costs no
    /// full-size zero fill.
    static func complement(_ items: [TensorIndex], shape: [Int]) -> [[TensorIndex]] {
        var axis = -1, lo = 0, hi = 0
        for (k, item) in items.enumerated() {
            let range: (Int, Int)?
            switch item.kind {
            case .all: continue
            case .index(let i): range = k < shape.count ? (i < 0 ? i + shape[k] : i, (i < 0 ? i + shape[k] : i) + 1) : nil
            case .slice(let start, let end, 1) where k < shape.count:
                let n = shape[k]
                range = (start.map { $0 < 0 ? $0 + n : $0 } ?? 0, end.map { $0 < 0 ? $0 + n : $0 } ?? n)
            default: range = nil
            }
            guard axis < 0, let range else { return [[]] }
            (axis, lo, hi) = (k, range.0, range.1)
        }
        guard axis >= 0 else { return [] }
        let prefix = [TensorIndex](repeating: .all, count: axis)
        return [(0, lo), (hi, shape[axis])].filter { $0.1 > $0.0 }.map {
            prefix + [TensorIndex.slice(start: $0.0, end: $0.1, step: 1)]
        }
    }

    /// Adds `gradient`, placed in `region` (zeros elsewhere), to `total`: in place when
    /// `total` is a contiguous buffer nothing else references, else into a fresh one.
    static func addRegion(_ gradient: Tensor, _ region: (items: [TensorIndex], shape: [Int]), into total: inout Tensor?) {
        func padded() -> Tensor {
            var z = Tensor(uninitializedShape: region.shape, dtype: gradient.dtype, backend: gradient.backend)
            for rest in complement(region.items, shape: region.shape) {
                z.backend.fill(Operand(storage: z.storage, layout: z.indexedLayout(rest), dtype: z.dtype), with: 0)
            }
            z.assign(gradient, at: region.items)
            return z
        }
        guard total != nil else {
            total = padded()
            return
        }
        if total!.dtype == gradient.dtype && total!.device == gradient.device && total!.layout.isContiguous
            && isKnownUniquelyReferenced(&total!.storage) {
            let target = Operand(storage: total!.storage, layout: total!.indexedLayout(region.items), dtype: gradient.dtype)
            total!.backend.binary(.add, target, gradient.operand.with(layout: gradient.layout.broadcast(to: target.shape)),
                                  into: target)
            return
        }
        total = total! + padded()
    }
}

extension Tensor {
    /// Computes the gradient of this scalar with respect to every leaf that requires
    /// gradients and adds it to the leaf's `grad`.
    public func backward() {
        backward(createGraph: false)
    }

    /// `createGraph: true` records the backward pass itself, so gradients can be
    /// differentiated again (Hessian-vector products, gradient penalties).
    public func backward(createGraph: Bool) {
        tensorCheck(elementCount == 1,
                    "[backward] needs a scalar (one element) output, got shape \(shapeText(shape)); pass gradient: for other shapes")
        backward(gradient: Tensor.ones(like: self), createGraph: createGraph)
    }

    /// Vector-Jacobian product from this tensor with seed `gradient` (same shape).
    public func backward(gradient: Tensor, createGraph: Bool = false) {
        guard let info = autograd else {
            tensorFailure("[backward] tensor does not require gradients: no input of the computation had requiresGrad = true")
        }
        tensorCheck(gradient.shape == shape,
                    "[backward] gradient \(shapeText(gradient.shape)) does not match output \(shapeText(shape))")
        _ = AutogradEngine.run(roots: [info], seeds: [gradient], targets: nil, createGraph: createGraph)
    }
}

/// Gradients of `outputs` (seeded with `seeds`, default ones) with respect to `inputs`,
/// without touching any `grad` (like `torch.autograd.grad`). An input the outputs do not
/// depend on gets zeros.
public func gradients(of outputs: [Tensor], withRespectTo inputs: [Tensor], seeds: [Tensor]? = nil,
                      createGraph: Bool = false) -> [Tensor] {
    let seedTensors = seeds ?? outputs.map { Tensor.ones(like: $0) }
    tensorCheck(seedTensors.count == outputs.count, "[gradients] \(seedTensors.count) seeds for \(outputs.count) outputs")
    var roots: [AutogradInfo] = [], rootSeeds: [Tensor] = []
    for (output, seed) in zip(outputs, seedTensors) {
        tensorCheck(seed.shape == output.shape,
                    "[gradients] seed \(shapeText(seed.shape)) does not match output \(shapeText(output.shape))")
        if let info = output.autograd { roots.append(info); rootSeeds.append(seed) }
    }
    let targets: [AutogradInfo] = inputs.map { input in
        guard let info = input.autograd else {
            tensorFailure("[gradients] an input does not require gradients; set requiresGrad = true before computing")
        }
        return info
    }
    let results = AutogradEngine.run(roots: roots, seeds: rootSeeds, targets: targets, createGraph: createGraph)
    return zip(results, inputs).map { $0 ?? Tensor.zeros(like: $1) }
}
