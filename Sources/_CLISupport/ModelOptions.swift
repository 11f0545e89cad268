import TResNetCore
import TResNetModel
import TResNetRuntime
/// Options of the CLIs that load weights to run them (`tresnet-predict`, `tresnet-verify`, `tresnet-validate`).
public struct ModelOptions: ParsableArguments {
    @Option(help: "Force a zoo variant: tresnet_m, tresnet_l, tresnet_xl, tresnet_v2_l.")
    public var variant: String?

    @Option(help: "Force the source spelling: timm or miil.")
    public var dialect: String?

    @Option(help: "Take the state dict from this wrapper key (model, state_dict, …).")
    public var key: String?

    @Flag(name: .long, help: "Take the EMA weights (state_dict_ema, else model_ema) of a training checkpoint.")
    public var ema = false

    @Option(name: .long, help: "Strip this prefix from every tensor name instead of detecting one.")
    public var prefix: String?

    @Flag(name: .long, help: "Refuse every pickled object outside the tensor allowlist (no opaque objects).")
    public var strictPickle = false

    @Option(
        help: ArgumentHelp(
            "Convolution arithmetic: f32 (the default: PyTorch's own, parity to float32 noise) "
                + "or bf16 (bfloat16 products, f32 sums; CPUs with AVX512-BF16; faster; docs/PARITY.md)."))
    public var precision: Precision = .f32

    /// `--allow-download`, `--cache`: WEIGHTS may be a zoo tag.
    @OptionGroup public var zoo: ZooSourceOptions

    public init() {}

    /// `--variant` and `--dialect` name known things (checked before any file is read: exit 64).
    public func validate() throws {
        try ModelOptions.check(variant: variant, dialect: dialect)
    }

    public static func check(variant: String?, dialect: String?) throws {
        if let variant, TResNetConfiguration.variant(variant) == nil {
            throw ValidationError(
                "unknown --variant '\(displaySafe(variant))' (known: "
                    + TResNetConfiguration.variants.map(\.name).joined(separator: ", ") + ")")
        }
        if let dialect, Dialect.named(dialect) == nil {
            throw ValidationError(
                "unknown --dialect '\(displaySafe(dialect))' (known: "
                    + Dialect.all.map(\.id).joined(separator: ", ") + ")")
        }
    }

    /// The reading and mapping options these flags ask for (every tool that loads a model passes all of them).
    public var conversion: Conversion.Options {
        var options = Conversion.Options()
        options.variant = variant
        options.dialect = dialect
        options.key = key
        options.ema = ema
        options.prefix = prefix
        options.strictPickle = strictPickle
        return options
    }

    /// Loads `path` (a `.tw` or any source `tresnet-convert` reads) with these options.
    public func load(_ path: String) throws -> LoadedModel {
        var loaded = try ModelLoader.load(path: try zoo.resolve(path), options: conversion)
        loaded.precision = precision
        return loaded
    }
}
