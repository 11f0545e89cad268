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
    /// What kind of file held the state dict, in words (`plain state dict`, `timm training checkpoint`,
    /// `Lightning checkpoint`, `whole pickled module timm.models.tresnet.TResNet`, …); empty when not a pickle.
    public var containerKind = ""
    /// The other top-level entries that also hold tensors (e.g. `state_dict_ema` when `state_dict` was taken).
    public var otherCandidates: [String] = []
    /// `module.qualname` of every opaque object in the pickle (never constructed), sorted.
    public var opaqueClasses: [String] = []
    /// True when the prefix was given (`--prefix`), not detected.
    public var prefixForced = false
    /// Class names from a top-level `idx_to_class` entry (ML-Decoder / ASL checkpoints), in class order.
    public var classNames: [String]?

    public init(
        path: String, container: ContainerFormat, stateDict: StateDict, wrapper: String? = nil,
        strippedPrefix: String? = nil, nonTensorEntries: [(name: String, summary: String)] = [],
        metadata: [String: String] = [:]
    ) {
        self.path = path
        self.container = container
        self.stateDict = stateDict
        self.wrapper = wrapper
        self.strippedPrefix = strippedPrefix
        self.nonTensorEntries = nonTensorEntries
        self.metadata = metadata
    }
}

/// How to read a checkpoint: which entry holds the state dict, which prefix to strip, how strict the pickle
/// reader is.
public struct CheckpointReadOptions: Sendable {
    /// `--key`: the top-level entry holding the state dict.
    public var key: String?
    /// `--ema`: the EMA weights (`state_dict_ema`, else `model_ema`).
    public var ema = false
    /// `--prefix`: strip exactly this prefix instead of detecting one.
    public var prefix: String?
    /// `--strict-pickle`: refuse every global outside the tensor allowlist (no opaque objects).
    public var strictPickle = false

    public init(key: String? = nil, ema: Bool = false, prefix: String? = nil, strictPickle: Bool = false) {
        self.key = key
        self.ema = ema
        self.prefix = prefix
        self.strictPickle = strictPickle
    }
}
