import TResNetCore
import TResNetFormat
import TResNetModel

/// How a multi-label model's scores are read (docs/MULTILABEL.md): a sigmoid per class, classes above `threshold`
/// reported (at most `top` of them by default in `tresnet-predict`).
public struct MultiLabelCard: Sendable, Hashable {
    /// The score a class must pass to be reported (ML-Decoder's infer script: 0.75; OpenImages 0.97).
    public var threshold: Double

    public init(threshold: Double = MultiLabelCard.defaultThreshold) { self.threshold = threshold }

    public static let defaultThreshold = 0.75
    /// The published inference policy of the multi-label TResNets: resize to a square of the input size, no
    /// crop, pixels scaled to [0, 1] with no mean/std (ML-Decoder's and ASL's validation transforms).
    public static func preprocessing(inputSize: Int = 224) -> PreprocessingConfig {
        .officialSquash(inputSize: inputSize)
    }

    /// The `.tw` keys: `arch.head.*` for an ML-Decoder head, `labels.multi_label` + `predict.threshold` for a card.
    static func entries(configuration c: TResNetConfiguration, card: MultiLabelCard?) -> [String: TWValue] {
        var out: [String: TWValue] = [:]
        if let d = c.mlDecoder {
            out["arch.head"] = .string("ml_decoder")
            out["arch.head.groups"] = .int(Int64(d.groups))
            out["arch.head.embed_dim"] = .int(Int64(d.embedDim))
            out["arch.head.feed_forward_dim"] = .int(Int64(d.feedForwardDim))
            out["arch.head.heads"] = .int(Int64(d.heads))
            out["arch.head.decoder_layers"] = .int(Int64(d.decoderLayers))
            out["arch.head.duplicate_factor"] = .int(Int64(d.duplicateFactor))
        }
        if let card {
            out["labels.multi_label"] = .bool(true)
            out["predict.threshold"] = .double(card.threshold)
        }
        return out
    }

    /// The card an opened `.tw` carries, nil when `labels.multi_label` is absent or false.
    init?(_ file: TWFile) throws {
        guard file[metadata: "labels.multi_label"]?.boolValue == true else { return nil }
        var t = Self.defaultThreshold
        if let v = file[metadata: "predict.threshold"] {
            guard let d = v.doubleValue, d.isFinite, d >= 0, d <= 1 else {
                throw file.metadataError("predict.threshold", "must be a number in [0, 1]")
            }
            t = d
        }
        threshold = t
    }

    /// The ML-Decoder head recorded in `arch.head.*`, nil for `arch.head` absent or `fc`.
    static func head(_ file: TWFile) throws -> MLDecoderConfiguration? {
        let fail = file.metadataError
        guard let kind = file[metadata: "arch.head"] else { return nil }
        guard let name = kind.stringValue, ["fc", "ml_decoder"].contains(name) else {
            throw fail("arch.head", "must be fc or ml_decoder")
        }
        guard name == "ml_decoder" else { return nil }
        func int(_ key: String) throws -> Int {
            guard let v = file[metadata: key]?.intValue, let i = Int(exactly: v), i >= 1, i <= 1 << 24 else {
                throw fail(key, "must be an i64 in 1…2²⁴")
            }
            return i
        }
        return MLDecoderConfiguration(
            groups: try int("arch.head.groups"), embedDim: try int("arch.head.embed_dim"),
            feedForwardDim: try int("arch.head.feed_forward_dim"), heads: try int("arch.head.heads"),
            decoderLayers: try int("arch.head.decoder_layers"),
            duplicateFactor: try int("arch.head.duplicate_factor"))
    }
}
