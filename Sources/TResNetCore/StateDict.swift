/// An ordered map from dotted tensor names to tensors, plus free-form string metadata — what every reader
/// returns and what the binder consumes. Order is the file's order; lookups are by name.
public struct StateDict: Sendable {
    public private(set) var names: [String] = []
    public private(set) var tensors: [String: Tensor] = [:]
    public var metadata: [String: String] = [:]

    public init() {}

    public var count: Int { names.count }
    public subscript(name: String) -> Tensor? { tensors[name] }
    public func contains(_ name: String) -> Bool { tensors[name] != nil }

    /// Adds `tensor` under `name`. A duplicate name is an error (never a silent overwrite).
    public mutating func insert(_ name: String, _ tensor: Tensor) throws {
        guard tensors[name] == nil else { throw TResNetError(.malformed, at: .tensor(name), "duplicate tensor name") }
        names.append(name)
        tensors[name] = tensor
    }

    /// Removes `name` if present.
    @discardableResult
    public mutating func remove(_ name: String) -> Tensor? {
        guard let t = tensors.removeValue(forKey: name) else { return nil }
        names.removeAll { $0 == name }
        return t
    }

    /// (name, tensor) pairs in order.
    public var entries: [(name: String, tensor: Tensor)] { names.map { ($0, tensors[$0]!) } }

    /// Total elements over all tensors.
    public var elementCount: Int { tensors.values.reduce(0) { $0 + $1.elementCount } }
}
