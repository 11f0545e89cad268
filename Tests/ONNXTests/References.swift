import TResNetCheckpoint
import TResNetCore

/// Reference activations (`input`, `body.s2d` … `head.fc`) from a `*.reference.npz`, read by the project's own
/// npz reader.
enum References {
    static func read(_ path: String) throws -> [String: Tensor] {
        Dictionary(uniqueKeysWithValues: try NpzArchive.read(path: path).map { ($0.name, $0.tensor) })
    }
}
