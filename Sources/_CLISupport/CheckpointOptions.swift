import TResNetCheckpoint
/// Options shared by the CLIs that read a checkpoint.
public struct CheckpointOptions: ParsableArguments {
    @Option(name: .long, help: "Take the state dict from this top-level entry (e.g. model, state_dict_ema).")
    public var key: String?

    @Flag(name: .long, help: "Take the EMA weights (state_dict_ema, else model_ema) of a training checkpoint.")
    public var ema = false

    @Option(name: .long, help: "Strip this prefix from every tensor name instead of detecting one (e.g. model.).")
    public var prefix: String?

    @Flag(
        name: .long,
        help:
            "Refuse every pickled object outside the tensor allowlist (no opaque objects), as torch.load(weights_only=True) does."
    )
    public var strictPickle = false

    public init() {}

    /// The reader's options.
    public var reading: CheckpointReadOptions {
        CheckpointReadOptions(key: key, ema: ema, prefix: prefix, strictPickle: strictPickle)
    }

    /// Copies these options into conversion options.
    public func apply(to options: inout Conversion.Options) {
        options.key = key
        options.ema = ema
        options.prefix = prefix
        options.strictPickle = strictPickle
    }
}
