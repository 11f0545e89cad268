import TResNetCore

/// Resolves and maps the side files an ONNX model keeps its weights in (`data_location = EXTERNAL`), refusing
/// every location that could leave the model's folder (docs/ROBUSTNESS.md A.5 #73–#76).
///
/// A location must be a relative path of plain components (no empty, `.` or `..` component, no NUL, no
/// backslash, not absolute); its real path must lie inside the real path of the model's folder (so a symlink
/// leaving the folder is refused, while one staying inside is fine); the resolved file is opened with
/// `O_NOFOLLOW` and must be a regular file with one hard link. Each file is mapped once and shared by the tensors that use it.
final class ExternalDataFiles {
    let folder: String
    private let folderRealPath: String
    private var mapped: [String: ByteStore] = [:]
    /// The files read, by location, in first-use order.
    private(set) var locations: [String] = []
    /// The byte ranges tensors have taken in each file, to refuse overlaps (docs/ROBUSTNESS.md A.5 #78).
    private var claimed: [String: [(range: Range<Int>, tensor: String)]] = [:]

    init(modelPath: String) throws {
        let slash = modelPath.lastIndex(of: "/")
        folder = slash.map { String(modelPath[..<$0]) }.map { $0.isEmpty ? "/" : $0 } ?? "."
        guard let real = ExternalDataFiles.realPath(folder) else {
            throw TResNetError.io(folder, "cannot resolve the model's folder")
        }
        folderRealPath = real
    }

    /// Checks `location` is a safe relative path (the rules above), without touching the file system.
    static func validate(location raw: [UInt8], tensor: String) throws -> String {
        func refuse(_ why: String) -> TResNetError {
            TResNetError(.pathEscape, format: "onnx", at: .tensor(tensor), "external data location refused: \(why)")
        }
        guard !raw.isEmpty else { throw refuse("empty location") }
        guard !raw.contains(0) else { throw refuse("NUL byte in location") }
        guard !raw.contains(UInt8(ascii: "\\")) else {
            throw refuse("backslash in location (Windows paths are refused)")
        }
        guard raw.count <= 4096 else { throw refuse("location longer than 4096 bytes") }
        guard let location = String(validating: raw, as: UTF8.self) else { throw refuse("location is not UTF-8") }
        guard raw.first != UInt8(ascii: "/") else {
            throw refuse("absolute path '\(displaySafe(location))'; locations are relative to the model's folder")
        }
        if raw.count >= 2, raw[1] == UInt8(ascii: ":") { throw refuse("drive letter in '\(displaySafe(location))'") }
        for component in location.split(separator: "/", omittingEmptySubsequences: false) {
            if component == ".." { throw refuse("'..' component in '\(displaySafe(location))'") }
            if component.isEmpty || component == "." {
                throw refuse("empty or '.' component in '\(displaySafe(location))'")
            }
        }
        return location
    }

    /// The mapped bytes of the external file at `location` (already validated).
    func bytes(location: String, tensor: String) throws -> ByteStore {
        if let store = mapped[location] { return store }
        let path = folder + "/" + location
        guard let real = ExternalDataFiles.realPath(path) else {
            throw TResNetError(
                .io, format: "onnx", at: .tensor(tensor),
                "external data file '\(displaySafe(location))' cannot be opened: \(errnoString())")
        }
        let inside = folderRealPath == "/" ? real.hasPrefix("/") : real.hasPrefix(folderRealPath + "/")
        guard inside else {
            throw TResNetError(
                .pathEscape, format: "onnx", at: .tensor(tensor),
                "external data location '\(displaySafe(location))' resolves outside the model's "
                    + "folder (through a symlink); refused")
        }
        // Open the resolved path itself, refusing a symlink swapped in since `realpath`.
        let store = try ExternalDataFiles.mapNoFollow(real, location: location, tensor: tensor)
        mapped[location] = store
        locations.append(location)
        return store
    }

    /// Records that `tensor` reads `range` of the file at `location`; refuses a range that overlaps another
    /// tensor's (one byte region read as two tensors, or bytes hidden behind another tensor's data).
    func claim(location: String, range: Range<Int>, tensor: String) throws {
        guard !range.isEmpty else { return }
        if let other = claimed[location, default: []].first(where: { $0.range.overlaps(range) }) {
            throw TResNetError(
                .malformed, format: "onnx", at: .tensor(tensor),
                "external data [\(range.lowerBound), \(range.upperBound)) of '\(displaySafe(location))' "
                    + "overlaps tensor '\(displaySafe(other.tensor))' at [\(other.range.lowerBound), "
                    + "\(other.range.upperBound)); every tensor must have its own bytes")
        }
        claimed[location, default: []].append((range, tensor))
    }

    private static func mapNoFollow(_ path: String, location: String, tensor: String) throws -> ByteStore {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else {
            throw TResNetError(
                .pathEscape, format: "onnx", at: .tensor(tensor),
                "external data file '\(displaySafe(location))' cannot be opened without following "
                    + "a symlink: \(errnoString())")
        }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else {
            throw TResNetError(
                .io, format: "onnx", at: .tensor(tensor),
                "external data '\(displaySafe(location))' is not a regular file")
        }
        guard st.st_nlink <= 1 else {
            throw TResNetError(
                .pathEscape, format: "onnx", at: .tensor(tensor),
                "external data file '\(displaySafe(location))' has \(st.st_nlink) hard links; a hard "
                    + "link can reach a file outside the model's folder, so it is refused")
        }
        #if os(Linux)
        // Map through the descriptor we opened (not by path again), so the checked file is the mapped file.
        return try ByteStore.map(path: "/proc/self/fd/\(fd)")
        #else
        return try ByteStore.map(path: path)
        #endif
    }

    static func realPath(_ path: String) -> String? {
        guard let p = realpath(path, nil) else { return nil }
        defer { free(p) }
        return String(cString: p)
    }
}

func errnoString() -> String { String(cString: strerror(errno)) }
