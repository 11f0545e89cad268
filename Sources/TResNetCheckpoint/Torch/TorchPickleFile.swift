import TResNetCore

/// A `torch.save` (zip or legacy) or `pickle.dump` file holding plain Python values — dicts, lists, strings,
/// numbers — read with the inert pickle machine, for files that are not state dicts (the ImageNet-21K semantic
/// tree). Tensors and storages are refused: such a file is a checkpoint, read it with `CheckpointReader`.
public enum TorchPickleFile {
    /// The value graph of the file at `path`; every error names the file.
    public static func read(path: String) throws -> (arena: PickleArena, root: Int) {
        try TResNetError.naming(path) {
            let store = try ByteStore.map(path: path)
            let result: (arena: PickleArena, root: Int)
            switch try FileFormat.require(store.bytes) {
            case .zip:
                let object = try TorchZipContainer.read(try ZipArchive.open(store, path: path))
                result = (object.arena, object.root)
            case .pytorchLegacy:
                let object = try LegacyCheckpoint.read(store)
                result = (object.arena, object.root)
            case .barePickle:
                let parsed = try PickleMachine.parse(store.bytes, style: .zip)
                guard parsed.end == store.count else {
                    throw TResNetError(
                        .malformed, format: PickleMachine.format, at: .offset(parsed.end),
                        "\(store.count - parsed.end) bytes after STOP")
                }
                result = (parsed.arena, parsed.root)
            case let other:
                throw TResNetError(.unsupported, "expected a torch.save or pickle file, found a \(other.description)")
            }
            for node in result.arena.nodes {
                switch node {
                case .tensor, .storage:
                    throw TResNetError(
                        .unsupported, format: PickleMachine.format,
                        "holds tensors: this is a checkpoint, not a file of plain values")
                default: continue
                }
            }
            return result
        }
    }
}
