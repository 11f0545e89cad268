import TResNetCore

/// Reads any checkpoint file: detects the container by magic bytes (never by extension), unwraps the state dict
/// like timm does (`state_dict_ema`, `model_ema`, `state_dict`, `model`; `module.` / `_orig_mod.` prefixes) and
/// returns it. Every error names the file.
public enum CheckpointReader {
    /// - Parameters:
    ///   - path: the file.
    ///   - key: the wrapper key to take the state dict from, overriding detection (`--key`).
    public static func read(path: String, key: String? = nil) throws -> LoadedCheckpoint {
        try read(path: path, options: CheckpointReadOptions(key: key))
    }

    /// Reads `path` with every reading option (`--key`, `--ema`, `--prefix`, `--strict-pickle`).
    public static func read(path: String, options: CheckpointReadOptions) throws -> LoadedCheckpoint {
        try TResNetError.naming(path) {
            let store = try ByteStore.map(path: path)
            return try read(store, path: path, options: options)
        }
    }

    /// Reads a checkpoint already in memory (`path` names it in errors and in the result).
    public static func read(_ store: ByteStore, path: String, key: String? = nil) throws -> LoadedCheckpoint {
        try read(store, path: path, options: CheckpointReadOptions(key: key))
    }

    /// Reads a checkpoint already in memory with every reading option.
    public static func read(_ store: ByteStore, path: String, options: CheckpointReadOptions) throws -> LoadedCheckpoint
    {
        try TResNetError.naming(path) {
            let kind = try FileFormat.require(store.bytes)
            switch kind {
            case .zip:
                let archive = try ZipArchive.open(store, path: path)
                if !archive.entries.isEmpty, archive.entries.allSatisfy({ $0.name.hasSuffix(".npy") }) {
                    var arrays = StateDict()
                    for (name, tensor) in try NpzArchive.read(archive) { try arrays.insert(name, tensor) }
                    return LoadedCheckpoint(path: path, container: .npz, stateDict: arrays)
                }
                return try unwrap(
                    try TorchZipContainer.read(archive, strict: options.strictPickle), container: .pytorchZip,
                    path: path, options: options)
            case .pytorchLegacy:
                return try unwrap(
                    try LegacyCheckpoint.read(store, strict: options.strictPickle), container: .pytorchLegacy,
                    path: path, options: options)
            case .safetensors:
                let (stateDict, metadata) = try SafetensorsReader.read(store, path: path)
                if let key = options.key {
                    throw TResNetError(
                        .usage, format: "safetensors", "--key '\(displaySafe(key))' applies to pickled checkpoints only"
                    )
                }
                if options.ema {
                    throw TResNetError(.usage, format: "safetensors", "--ema applies to pickled checkpoints only")
                }
                var loaded = LoadedCheckpoint(
                    path: path, container: .safetensors, stateDict: stateDict, metadata: metadata)
                if let prefix = options.prefix {
                    (loaded.stateDict, loaded.strippedPrefix) = try StateDictLocator.strip(prefix, from: stateDict)
                    loaded.prefixForced = true
                }
                return loaded
            case .barePickle:
                // Parse (so hostile globals are refused by name), then explain why it cannot hold tensors.
                _ = try PickleMachine.parse(store.bytes, style: .zip, strict: options.strictPickle)
                throw TResNetError(
                    .unsupported, format: PickleMachine.format,
                    "a bare pickle (no PyTorch zip or legacy header) cannot hold tensor data")
            case .legacyTar:
                throw TResNetError(
                    .unsupported, format: "pytorch-legacy", at: .offset(257),
                    "the torch ≤ 0.1 tar checkpoint format is not supported")
            case .numpy:
                var arrays = StateDict()
                try arrays.insert("array", try NpyArray.read(ByteSlice(store: store), name: path))
                return LoadedCheckpoint(path: path, container: .numpy, stateDict: arrays)
            // Not checkpoint containers (models are read by the modules above this one; images are not weights).
            case .onnx, .tw, .jpeg, .png: throw notACheckpoint(kind)
            }
        }
    }

    /// The object tree of a PyTorch file's pickle as text (`PickleTree`), without unwrapping anything; nil
    /// for formats that hold no pickle (safetensors, npy/npz, ONNX, .tw). Hostile globals are refused as always.
    public static func objectTree(path: String, strictPickle: Bool = false) throws -> String? {
        try TResNetError.naming(path) {
            let store = try ByteStore.map(path: path)
            let object: TorchObject
            switch try FileFormat.require(store.bytes) {
            case .zip:
                let archive = try ZipArchive.open(store, path: path)
                if archive.entries.allSatisfy({ $0.name.hasSuffix(".npy") }) { return nil }
                object = try TorchZipContainer.read(archive, strict: strictPickle)
            case .pytorchLegacy: object = try LegacyCheckpoint.read(store, strict: strictPickle)
            case .barePickle:
                let r = try PickleMachine.parse(store.bytes, style: .zip, strict: strictPickle)
                return PickleTree.render(r.arena, root: r.root)
            default: return nil
            }
            return PickleTree.render(object.arena, root: object.root)
        }
    }

    private static func notACheckpoint(_ format: FileFormat) -> TResNetError {
        TResNetError(.unsupported, "\(format.description): recognised, but it is not a checkpoint container")
    }

    private static func unwrap(
        _ object: TorchObject, container: ContainerFormat, path: String,
        options: CheckpointReadOptions
    ) throws -> LoadedCheckpoint {
        let found = try StateDictLocator.locate(object, options: options)
        var loaded = LoadedCheckpoint(
            path: path, container: container, stateDict: found.stateDict, wrapper: found.wrapper,
            strippedPrefix: found.strippedPrefix, nonTensorEntries: found.nonTensorEntries)
        loaded.containerKind = found.containerKind
        loaded.otherCandidates = found.otherCandidates
        loaded.opaqueClasses = object.arena.opaqueClasses
        loaded.prefixForced = options.prefix != nil
        loaded.classNames = object.arena.idxToClass(root: object.root)
        return loaded
    }
}
