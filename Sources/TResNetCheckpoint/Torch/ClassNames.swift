import TResNetCore

extension PickleArena {
    /// The class names of a top-level `idx_to_class` entry (`{int: str}`, as the ML-Decoder and ASL training code
    /// save them) in class order, nil when there is none or it is not exactly the indices 0…n−1 mapped to strings
    /// (a partial or odd mapping is reported as a non-tensor entry, never guessed at).
    func idxToClass(root: Int, limit: Int = 1 << 24) -> [String]? {
        guard let top = dict(root),
            let i = top.keys.firstIndex(where: { string($0) == "idx_to_class" }),
            let mapping = dict(top.values[i]), mapping.count >= 1, mapping.count <= limit
        else { return nil }
        var names = [String?](repeating: nil, count: mapping.count)
        for (k, v) in zip(mapping.keys, mapping.values) {
            guard case .int(let index) = self[k], index >= 0, index < Int64(mapping.count), let name = string(v),
                names[Int(index)] == nil
            else { return nil }
            names[Int(index)] = name
        }
        return names.allSatisfy { $0 != nil } ? names.map { $0! } : nil
    }
}
