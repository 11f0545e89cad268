import TResNetCore

/// The container formats the toolkit reads, detected by magic bytes (never by extension).
public enum ContainerFormat: String, Sendable, Codable {
    case pytorchZip = "pytorch-zip"
    case pytorchLegacy = "pytorch-legacy"
    case safetensors
    case onnx
    case tw
    case numpy = "npy"
    case npz
}

/// A checkpoint read from disk: the state dict after unwrapping and prefix stripping, and how it was found.
public struct LoadedCheckpoint: Sendable {
    public var path: String
    public var container: ContainerFormat
    public var stateDict: StateDict
    /// The wrapper key the state dict was found under (`model`, `state_dict`, `state_dict_ema`, …), nil for a
    /// plain state dict.
    public var wrapper: String?
    /// The prefix stripped from every key (`module.`, `_orig_mod.`), nil when none was.
    public var strippedPrefix: String?
    /// Entries that are not tensors (`epoch`, `optimizer`, …): name and a short description. Reported, not fatal.
    public var nonTensorEntries: [(name: String, summary: String)]
    /// Free-form metadata (safetensors `__metadata__`, .tw metadata rendered as text, …).
    public var metadata: [String: String]

    public init(path: String, container: ContainerFormat, stateDict: StateDict, wrapper: String? = nil,
                strippedPrefix: String? = nil, nonTensorEntries: [(name: String, summary: String)] = [],
                metadata: [String: String] = [:]) {
        self.path = path
        self.container = container
        self.stateDict = stateDict
        self.wrapper = wrapper
        self.strippedPrefix = strippedPrefix
        self.nonTensorEntries = nonTensorEntries
        self.metadata = metadata
    }
}
