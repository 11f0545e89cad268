import TResNetCore

/// NumPy `.npz` archives: a zip (stored or deflated, read through `ZipArchive` with all its checks) whose members
/// are `.npy` arrays. Strict (docs/ROBUSTNESS.md #89): every member must end in `.npy`, names must be unique, and each
/// member is read with `NpyArray`'s full validation; one bad member fails the whole archive.
public enum NpzArchive {
    /// Reads every array, in archive order, named by the member name minus `.npy` (as `numpy.load` does).
    /// Stored members are zero-copy slices of the mapped file; deflated members are inflated by `ZipArchive`.
    public static func read(path: String) throws -> [(name: String, tensor: Tensor)] {
        try TResNetError.naming(path) { try read(try ByteStore.map(path: path), path: path) }
    }

    /// Reads the archive held in `store` (`path` names it in errors).
    public static func read(_ store: ByteStore, path: String) throws -> [(name: String, tensor: Tensor)] {
        try TResNetError.naming(path) { try read(try ZipArchive.open(store, path: path)) }
    }

    /// Reads an archive already opened (the checkpoint dispatcher opens it to sniff `.npz` from `.pth`).
    public static func read(_ zip: ZipArchive) throws -> [(name: String, tensor: Tensor)] {
        try TResNetError.naming(zip.path) {
            var seen = Set<String>()
            var out: [(name: String, tensor: Tensor)] = []
            for entry in zip.entries {
                guard entry.name.hasSuffix(".npy"), entry.name.utf8.count > 4 else {
                    throw TResNetError(
                        .malformed, format: "npz", at: .entry(entry.name),
                        "member is not a .npy array; refused")
                }
                let name = String(entry.name.dropLast(4))
                guard seen.insert(name).inserted else {
                    throw TResNetError(.malformed, format: "npz", at: .entry(entry.name), "duplicate member name")
                }
                let data = try zip.data(entry)
                out.append((name, try NpyArray.read(data, name: "\(zip.path)[\(entry.name)]")))
            }
            return out
        }
    }
}
