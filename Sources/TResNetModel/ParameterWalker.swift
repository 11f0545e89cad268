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

/// A layer of the tree: a value that declares its tensors and children, once, in its `walk`.
public protocol Layer: Sendable {
    /// A short type name for listings (`ConvNormAct`, `Bottleneck`, …).
    var kind: String { get }
    /// Declares this layer's tensors and children, in state-dict order.
    func walk(_ w: inout ParameterWalker)
}

/// Carries the current path down the tree (candle's `pp`) and records every tensor and module it passes, so
/// a name like `body.layer2.0.conv1.bn.running_mean` falls out of the structure and no layer handles more
/// than its own keys.
public struct ParameterWalker: Sendable {
    public private(set) var components: [String] = []
    public private(set) var tensors: [TensorSpec] = []
    public private(set) var modules: [ModuleSpec] = []

    public init() {}

    /// The current dotted path.
    public var path: String { components.joined(separator: ".") }

    private func joined(_ key: String) -> String { components.isEmpty ? key : path + "." + key }

    /// Declares a tensor `key` under the current path.
    public mutating func tensor(_ key: String, _ shape: [Int], _ role: TensorRole = .parameter, dtype: DType = .float32) {
        tensors.append(TensorSpec(path: joined(key), shape: shape, role: role, dtype: dtype))
    }

    /// Walks `layer` under `key`.
    public mutating func child(_ key: String, _ layer: some Layer) {
        components.append(key)
        modules.append(ModuleSpec(path: path, kind: layer.kind))
        layer.walk(&self)
        components.removeLast()
    }

    /// Walks `layers` under `key.0`, `key.1`, … (a PyTorch `nn.Sequential`).
    public mutating func sequence(_ key: String, _ layers: [some Layer]) {
        components.append(key)
        modules.append(ModuleSpec(path: path, kind: "Sequential"))
        for (i, layer) in layers.enumerated() { child(String(i), layer) }
        components.removeLast()
    }
}

extension Layer {
    /// Every tensor of this layer, in walk order, with paths relative to it.
    public var tensorListing: [TensorSpec] {
        var w = ParameterWalker()
        walk(&w)
        return w.tensors
    }
}
