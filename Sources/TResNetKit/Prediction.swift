import TResNetCheckpoint
import TResNetCore
import TResNetImage
import TResNetRuntime

/// `tresnet-predict`'s array mode: an N×C×H×W `.npy` input in, logits (or one activation tap) out.
public enum Prediction {
    /// Reads an input array. float32 is used as is; float16 and float64 are widened (or narrowed) to float32 and
    /// the original dtype returned so the caller can say so. Any other dtype or a rank other than 4 is refused.
    public static func readInput(path: String) throws -> (tensor: Tensor, convertedFrom: DType?) {
        let t = try NpyArray.read(path: path)
        guard t.rank == 4 else {
            throw TResNetError(
                .malformed, format: "npy", "the input must be N×C×H×W, got \(formatShape(t.shape))",
                file: path)
        }
        switch t.dtype {
        case .float32: return (t, nil)
        case .float16, .float64:
            return (try TResNetError.naming(path) { try t.converted(to: .float32) }, t.dtype)
        default:
            throw TResNetError(
                .unsupported, format: "npy",
                "the input must be float32 (float16 and float64 are converted), not \(t.dtype.rawValue)",
                file: path)
        }
    }

    /// Runs `network` on `input` and returns the logits `[N, classes]`, or the activation `tap` (one of the
    /// network's `tapPaths`: `TResNetNetwork.tapNames`, or the body taps and `head` for an ML-Decoder head) as
    /// PyTorch's forward hook would capture it.
    public static func run(_ network: TResNetNetwork, input: Tensor, tap: String? = nil) throws -> Tensor {
        if let tap {
            guard network.tapPaths.contains(tap) else {
                throw TResNetError(
                    .usage,
                    "unknown tap '\(displaySafe(tap))'; taps are "
                        + network.tapPaths.joined(separator: ", "))
            }
            let out = try network.forward(input, taps: [tap])
            guard let t = out.taps[tap] else {
                throw TResNetError(.unsupported, "the network did not capture tap \(tap)")
            }
            return t
        }
        return try network.forward(input).logits
    }

    /// The `k` most probable classes of each row of `logits` `[N, classes]` (softmax in f64), named by `labels`.
    public static func ranked(_ logits: Tensor, labels: [String]?, k: Int = 5) throws -> [[Classification]] {
        guard logits.rank == 2, logits.shape[1] >= 1 else {
            throw TResNetError(.malformed, format: "logits", "expected [N, classes], got \(formatShape(logits.shape))")
        }
        let (n, classes) = (logits.shape[0], logits.shape[1])
        let flat = try logits.floats()
        return (0..<n).map { i in
            ImageClassifier.ranked(Array(flat[(i * classes)..<((i + 1) * classes)]), labels: labels, k: k)
        }
    }
}
