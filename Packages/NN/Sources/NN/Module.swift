import TensorCore

/// A tensor a module keeps but does not train (running statistics).
public final class Buffer {
    /// The buffer's current tensor (never recording gradients).
    public var value: Tensor
    /// A buffer holding `value`, detached.
    public init(_ value: Tensor) { self.value = value.detached() }
}

/// Errors from loading a state dict: every problem is listed, nothing is loaded.
public enum StateDictError: Error, CustomStringConvertible, Equatable {
    /// Names the state dict lacks, names this module lacks, and shapes that differ.
    case mismatch(missing: [String], unexpected: [String], shapeMismatches: [String])

    public var description: String {
        switch self {
        case let .mismatch(missing, unexpected, shapes):
            var parts: [String] = []
            if !missing.isEmpty { parts.append("missing keys: \(missing.joined(separator: ", "))") }
            if !unexpected.isEmpty { parts.append("unexpected keys: \(unexpected.joined(separator: ", "))") }
            if !shapes.isEmpty { parts.append("shape mismatches: \(shapes.joined(separator: "; "))") }
            return "loadStateDict: " + parts.joined(separator: "; ")
        }
    }
}

/// The base of layers and models, as PyTorch's `nn.Module` and mlx-swift's `Module`.
///
/// Parameters (`Parameter`), buffers (`Buffer`) and child modules are stored properties:
/// reflection finds them and names them by path (`encoder.0.weight`). Arrays of modules
/// are named by index. Subclasses override `forward(_:)`; modules are callable.
open class Module {
    /// Training mode (dropout active, batch statistics) versus evaluation mode.
    public private(set) var isTraining = true

    /// A module in training mode.
    public init() {}

    /// The computation of a one-input module. Modules with other signatures define their
    /// own `callAsFunction`.
    open func forward(_ input: Tensor) -> Tensor {
        tensorFailure("[\(Self.self)] does not implement forward(_:)")
    }

    /// Runs `forward` (and records the layer when a summary is being taken).
    public func callAsFunction(_ input: Tensor) -> Tensor {
        let output = forward(input)
        if let recorder = SummaryRecorder.current { recorder.record(self, output) }
        return output
    }

    /// Direct children with their names. The default finds stored properties by
    /// reflection; containers (Sequential) override it.
    open var namedChildren: [(String, Module)] {
        var result: [(String, Module)] = []
        for (label, value) in Module.reflectedProperties(of: self) {
            if let m = value as? Module { result.append((label, m)) }
            else if let ms = value as? [Module] { for (i, m) in ms.enumerated() { result.append(("\(label).\(i)", m)) } }
            else if let m = value as? Module? , let m { result.append((label, m)) }
        }
        return result
    }

    /// This module's own parameters (not its children's), by name.
    open var namedOwnParameters: [(String, Parameter)] {
        var result: [(String, Parameter)] = []
        for (label, value) in Module.reflectedProperties(of: self) {
            if let p = value as? Parameter { result.append((label, p)) }
            else if let p = value as? Parameter?, let p { result.append((label, p)) }
            else if let ps = value as? [Parameter] { for (i, p) in ps.enumerated() { result.append(("\(label).\(i)", p)) } }
        }
        return result
    }

    /// This module's own buffers (not its children's), by name.
    open var namedOwnBuffers: [(String, Buffer)] {
        var result: [(String, Buffer)] = []
        for (label, value) in Module.reflectedProperties(of: self) {
            if let b = value as? Buffer { result.append((label, b)) }
            else if let b = value as? Buffer?, let b { result.append((label, b)) }
        }
        return result
    }

    /// Stored properties of `object` and of its superclasses up to Module.
    static func reflectedProperties(of object: Module) -> [(String, Any)] {
        var result: [(String, Any)] = []
        var mirror: Mirror? = Mirror(reflecting: object)
        while let m = mirror, m.subjectType != Module.self {
            for child in m.children { if let label = child.label { result.append((label, child.value)) } }
            mirror = m.superclassMirror
        }
        return result
    }

    /// Every module below (and including) this one, with its path ("" for self).
    public func namedModules(prefix: String = "") -> [(String, Module)] {
        var result = [(prefix, self as Module)]
        for (name, child) in namedChildren {
            result += child.namedModules(prefix: prefix.isEmpty ? name : "\(prefix).\(name)")
        }
        return result
    }

    /// Parameters by dotted path; a parameter shared by two modules appears once.
    public func namedParameters() -> [(String, Parameter)] {
        var seen = Set<ObjectIdentifier>()
        var result: [(String, Parameter)] = []
        for (path, module) in namedModules() {
            for (name, p) in module.namedOwnParameters where seen.insert(ObjectIdentifier(p)).inserted {
                result.append((path.isEmpty ? name : "\(path).\(name)", p))
            }
        }
        return result
    }

    /// Every parameter of the module and its children, in registration order.
    public func parameters() -> [Parameter] { namedParameters().map { $0.1 } }

    /// Every buffer of the module and its children, by dotted name.
    public func namedBuffers() -> [(String, Buffer)] {
        namedModules().flatMap { path, module in
            module.namedOwnBuffers.map { (path.isEmpty ? $0.0 : "\(path).\($0.0)", $0.1) }
        }
    }

    /// Number of scalars in trainable parameters.
    public var parameterCount: Int { parameters().filter(\.requiresGrad).reduce(0) { $0 + $1.value.elementCount } }

    /// Parameter and buffer values by dotted path (detached; storage shared until written).
    public func stateDict() -> [String: Tensor] {
        var dict: [String: Tensor] = [:]
        for (name, p) in namedParameters() { dict[name] = p.value.detached() }
        for (name, b) in namedBuffers() { dict[name] = b.value }
        return dict
    }

    /// Loads values by path. With `strict`, missing and unexpected keys are errors; shape
    /// mismatches always are. Nothing is changed when it throws.
    public func loadStateDict(_ dict: [String: Tensor], strict: Bool = true) throws {
        let parameters = Dictionary(namedParameters(), uniquingKeysWith: { a, _ in a })
        let buffers = Dictionary(namedBuffers(), uniquingKeysWith: { a, _ in a })
        let known = Set(parameters.keys).union(buffers.keys)
        let missing = known.subtracting(dict.keys).sorted()
        let unexpected = Set(dict.keys).subtracting(known).sorted()
        var shapes: [String] = []
        for (key, value) in dict {
            let current = parameters[key]?.value ?? buffers[key]?.value
            if let current, current.shape != value.shape {
                shapes.append("\(key): expected \(current.shape), got \(value.shape)")
            }
        }
        if !shapes.isEmpty || (strict && (!missing.isEmpty || !unexpected.isEmpty)) {
            throw StateDictError.mismatch(missing: strict ? missing : [], unexpected: strict ? unexpected : [],
                                          shapeMismatches: shapes.sorted())
        }
        for (key, value) in dict {
            // As PyTorch's copy_: values land in the entry's dtype and on its device.
            if let p = parameters[key] { p.value = value.cast(to: p.value.dtype).detached().moved(to: p.value.device).copied().detached() }
            else if let b = buffers[key] { b.value = value.cast(to: b.value.dtype).detached().moved(to: b.value.device) }
        }
    }

    /// Training mode for this module and all below it.
    @discardableResult
    public func train(_ on: Bool = true) -> Self {
        for (_, m) in namedModules() { m.isTraining = on }
        return self
    }

    /// Evaluation mode (`train(false)`).
    @discardableResult
    public func eval() -> Self { train(false) }

    /// Stops (or restarts) training of every parameter below this module.
    public func freeze(_ frozen: Bool = true) {
        for p in parameters() { p.requiresGrad = !frozen }
    }

    /// Where the module's first parameter (or buffer) lives: the device its inputs should be
    /// on. A module with neither says `.cpu`.
    public var device: Device {
        if let p = parameters().first { return p.value.device }
        return namedBuffers().first?.1.value.device ?? .cpu
    }

    /// Moves parameters and buffers to `device`.
    public func move(to device: Device) {
        for p in parameters() { p.value = p.value.detached().moved(to: device) }
        for (_, b) in namedBuffers() { b.value = b.value.moved(to: device) }
    }
}
