import TResNetCore

/// The PyTorch zip container (torch.save ≥ 1.6, docs/READERS.md): `<top>/data.pkl` + `<top>/data/<key>` records.
enum TorchZipContainer {
    static let format = "pytorch-zip"

    static func fail(
        _ code: TResNetError.Code = .malformed, at location: TResNetError.Location? = nil,
        _ message: String
    ) -> TResNetError {
        TResNetError(code, format: format, at: location, message)
    }

    static func fail(_ message: String) -> TResNetError { fail(.malformed, at: nil, message) }

    /// The folder all records live under: the text of the first entry up to its first `/`.
    static func topFolder(_ archive: ZipArchive) throws -> String {
        guard let first = archive.entries.first else { throw fail("the archive is empty") }
        guard let slash = first.name.firstIndex(of: "/"), slash != first.name.startIndex else {
            throw fail(at: .entry(first.name), "first entry is not in a folder (not a torch.save archive)")
        }
        return String(first.name[..<slash]) + "/"
    }

    static func read(_ archive: ZipArchive, strict: Bool = false) throws -> TorchObject {
        let top = try topFolder(archive)
        for e in archive.entries where !e.name.hasPrefix(top) {
            throw fail(at: .entry(e.name), "entry outside the archive folder '\(displaySafe(top))' (ambiguous archive)")
        }
        if archive.entry(named: top + "constants.pkl") != nil {
            throw fail(
                .unsupported,
                "this is a TorchScript archive (constants.pkl): it holds code, not a state dict; "
                    + "save model.state_dict() with torch.save instead")
        }
        guard let pklEntry = archive.entry(named: top + "data.pkl") else {
            throw fail(at: .entry(top + "data.pkl"), "missing data.pkl")
        }
        if let order = archive.entry(named: top + "byteorder") {
            let text = String(decoding: try archive.data(order).toArray(), as: UTF8.self)
            guard text == "little" else {
                if text == "big" {
                    throw fail(
                        .unsupported, at: .entry(order.name), "big-endian storages are not supported (byteorder = big)")
                }
                throw fail(at: .entry(order.name), "byteorder record '\(displaySafe(text))' is neither little nor big")
            }
        }
        let pkl = try archive.data(pklEntry)
        // The slice owns an inflated store: keep it alive while the machine reads its bytes.
        let result = try withExtendedLifetime(pkl) { try PickleMachine.parse(pkl.bytes, style: .zip, strict: strict) }
        guard result.end == pkl.count else {
            throw TResNetError(
                .malformed, format: PickleMachine.format, at: .offset(result.end),
                "\(pkl.count - result.end) bytes after STOP in data.pkl")
        }
        var records: [String: ByteSlice] = [:]
        for (key, storage) in try TorchObject.storages(in: result.arena, format: format) {
            let name = top + "data/" + key
            guard let entry = archive.entry(named: name) else {
                throw fail(at: .entry(name), "storage record is missing")
            }
            guard entry.uncompressedSize == storage.byteCount else {
                throw fail(
                    at: .entry(name),
                    "storage record holds \(entry.uncompressedSize) bytes but the pickle declares "
                        + "\(storage.numel) × \(storage.className) = \(storage.byteCount)")
            }
            records[key] = try archive.data(entry)
        }
        return TorchObject(
            arena: result.arena, root: result.root, records: records, format: format,
            inputBytes: archive.store.count)
    }
}
