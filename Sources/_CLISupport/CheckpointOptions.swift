/// Options shared by the CLIs that read a checkpoint.
public struct CheckpointOptions: ParsableArguments {
    @Option(name: .long, help: "Take the state dict from this top-level entry (e.g. model, state_dict_ema).")
    public var key: String?

    public init() {}
}
