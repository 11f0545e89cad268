#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import TResNetCheckpoint
import TResNetCore
import TResNetFormat
import TResNetModel

/// Opens any source the toolkit reads: a `.tw` file (recognised by its magic, never by extension) or any
/// checkpoint `CheckpointReader` reads.
public enum ModelSource {
    /// True when the file starts with the `.tw` magic.
    public static func isTW(path: String) -> Bool {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var head = [UInt8](repeating: 0, count: 8)
        let n = head.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, 8) }
        return n == 8 && head == TWLayout.magic
    }

    /// Reads `path` as a `LoadedCheckpoint`; for a `.tw` file also returns its model metadata.
    public static func read(path: String, key: String? = nil) throws -> (checkpoint: LoadedCheckpoint, tw: ModelFileMetadata?) {
        if isTW(path: path) {
            let file = try TWFile.open(path: path, verifyChecksums: true)
            return (try file.loadedCheckpoint(), try ModelFileMetadata(file))
        }
        return (try CheckpointReader.read(path: path, key: key), nil)
    }
}
