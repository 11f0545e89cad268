import TResNetCore

/// The arithmetic of the convolutions. `f32` is the default everywhere: it is what PyTorch computes, so parity
/// with the reference holds to float32 noise (docs/PARITY.md). `bf16` — weights packed to bfloat16 at load,
/// activations rounded to bfloat16 as the kernels pack them, products summed in f32, bias/residual/activation in
/// f32 — runs on CPUs with AVX512-BF16 (`VDPBF16PS`) and is faster, at the price of logits that differ from
/// PyTorch's f32 ones by about 1 % of their spread (docs/PARITY.md gives the measured figures); it is used only
/// when asked for (`--precision bf16`), never picked silently.
public enum Precision: String, Sendable, CaseIterable, Codable {
    case f32
    case bf16

    /// Whether this CPU runs the bf16 kernels (AVX512-BF16) under the current `TRESNET_MAX_ISA` cap.
    public static var bf16Available: Bool {
        DirectKernels.bf16Supported && (try? KernelISA.current()) == .avx512
    }

    /// Checks that `backend` (resolved) runs this precision here.
    /// - Throws: a usage error for bf16 with the blas backend or on a CPU (or ISA cap) without AVX512-BF16.
    public func check(backend: ConvolutionBackend) throws {
        guard self == .bf16 else { return }
        guard DirectKernels.bf16Supported else {
            throw TResNetError(.usage, "--precision bf16 needs a CPU with AVX512-BF16; use f32 here")
        }
        guard try KernelISA.current() == .avx512 else {
            throw TResNetError(
                .usage,
                "--precision bf16 runs on AVX-512 kernels, but \(KernelISA.capVariable) caps "
                    + "them at \(try KernelISA.current().rawValue)")
        }
        guard backend == .direct || backend == .winograd else {
            throw TResNetError(
                .usage, "--precision bf16 runs on our kernels (direct or winograd), not on \(backend.rawValue)")
        }
    }
}
