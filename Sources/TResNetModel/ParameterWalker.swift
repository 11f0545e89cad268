import TResNetCore

/// What a tensor in the tree is for.
public enum TensorRole: String, Sendable, Codable {
    /// A learned weight (counted as a parameter; required).
    case parameter
    /// A required buffer: BatchNorm running statistics.
    case buffer
    /// Accepted present or absent, never written to outputs (`num_batches_tracked`).
    case optionalBuffer
}

/// One tensor the tree declares: its canonical (current timm) path, shape, role and the dtype it is stored in
/// by PyTorch (`float32`, or `int64` for `num_batches_tracked`).
public struct TensorSpec: Sendable, Hashable, CustomStringConvertible {
    public var path: String
    public var shape: [Int]
    public var role: TensorRole
    public var dtype: DType

    public init(path: String, shape: [Int], role: TensorRole, dtype: DType = .float32) {
        self.path = path
        self.shape = shape
        self.role = role
        self.dtype = dtype
    }

    public var elementCount: Int { shape.reduce(1, *) }
    /// True for tensors that belong to a BatchNorm (path component `bn`): they stay f32 in f16/bf16 outputs.
    public var isBatchNorm: Bool { path.split(separator: ".").dropLast().last == "bn" }

    /// `name [shape] dtype`, the line format of `Fixtures/keys/<variant>.txt`.
    public var description: String { "\(path) \(formatShape(shape)) \(dtype.rawValue)" }
}

/// A module the walk passes through, with its path (`body.layer2.0`, `body.conv1`, `head.fc`): the places
/// where activations can be tapped.
public struct ModuleSpec: Sendable, Hashable {
    public var path: String
    public var kind: String
}

/// A layer of the tree: a value that declares its tensors and children, once, in its `walk`. The same walk
/// lists the tree (names, shapes), binds it (fills each tensor slot) and names its modules (`path`).
public protocol Layer: Sendable {
    /// A short type name for listings (`ConvNormAct`, `Bottleneck`, …).
    var kind: String { get }
    /// The module's canonical path (`body.layer2.0.conv1`), set by the walk that builds the tree.
    var path: String { get set }
    /// Declares this layer's tensors (with the slot that holds each) and children, in state-dict order.
    mutating func walk(_ w: inout ParameterWalker) throws
}

/// Carries the current path down the tree (candle's `pp`) and records every tensor and module it passes, so
/// a name like `body.layer2.0.conv1.bn.running_mean` falls out of the structure and no layer handles more
/// than its own keys. With a `visit` closure it also reads or fills each tensor slot (binding, conversion).
public struct ParameterWalker {
    /// Called with each tensor's spec and its slot in the tree.
    public typealias Visit = (TensorSpec, inout Tensor?) throws -> Void

    public private(set) var components: [String] = []
    public private(set) var tensors: [TensorSpec] = []
    public private(set) var modules: [ModuleSpec] = []
    private let visit: Visit?

    public init(visit: Visit? = nil) { self.visit = visit }

    /// The current dotted path.
    public var path: String { components.joined(separator: ".") }

    private func joined(_ key: String) -> String { components.isEmpty ? key : path + "." + key }

    /// Declares the tensor `key` under the current path, held in `slot`.
    public mutating func tensor(
        _ key: String, _ shape: [Int], _ slot: inout Tensor?, _ role: TensorRole = .parameter,
        dtype: DType = .float32
    ) throws {
        let spec = TensorSpec(path: joined(key), shape: shape, role: role, dtype: dtype)
        tensors.append(spec)
        try visit?(spec, &slot)
    }

    /// Walks `layer` under `key`, naming it with its path.
    public mutating func child(_ key: String, _ layer: inout some Layer) throws {
        components.append(key)
        layer.path = path
        modules.append(ModuleSpec(path: path, kind: layer.kind))
        try layer.walk(&self)
        components.removeLast()
    }

    /// Walks `layer` under `key` when the tree has it (an optional module: SE, projection, BatchNorm).
    public mutating func optionalChild<L: Layer>(_ key: String, _ layer: inout L?) throws {
        guard var present = layer else { return }
        layer = nil  // keep `present` the only reference while it is walked (no copy of its tensors)
        defer { layer = present }
        try child(key, &present)
    }

    /// Walks `layers` under `key.0`, `key.1`, … (a PyTorch `nn.Sequential`).
    public mutating func sequence<L: Layer>(_ key: String, _ layers: inout [L]) throws {
        components.append(key)
        modules.append(ModuleSpec(path: path, kind: "Sequential"))
        for i in layers.indices { try child(String(i), &layers[i]) }
        components.removeLast()
    }
}

extension Layer {
    /// Walks a copy of this layer (the tree itself is unchanged): every tensor and module it declares.
    public func walked(visit: ParameterWalker.Visit? = nil) throws -> ParameterWalker {
        var copy = self
        var w = ParameterWalker(visit: visit)
        try copy.walk(&w)
        return w
    }

    /// Every tensor of this layer, in walk order, with paths relative to it (a walk without a visit closure
    /// never throws).
    public var tensorListing: [TensorSpec] { (try? walked().tensors) ?? [] }

    /// Every tensor slot of this layer with its spec, in walk order (nil slots included).
    public func boundTensors() -> [(spec: TensorSpec, tensor: Tensor?)] {
        var out: [(TensorSpec, Tensor?)] = []
        _ = try? walked { spec, slot in out.append((spec, slot)) }
        return out
    }
}
