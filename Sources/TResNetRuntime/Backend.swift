import TResNetCore

/// Which kernels run a network's convolutions.
public enum ConvolutionBackend: String, Sendable, CaseIterable, Codable {
    /// Our kernels (`winograd`) where this CPU has a vector ISA for them (AVX-512, AVX2+FMA, NEON; `KernelISA`),
    /// else OpenBLAS.
    case automatic
    /// tresnet-kit's direct convolution for every layer (Sources/CTResNetKernels: AVX-512, AVX2+FMA, NEON or
    /// portable C, chosen at run time; weights packed at load, no im2col, bias/residual/activation fused, its own
    /// threads).
    case direct
    /// As `direct`, with the 3×3 convolutions computed as Winograd F(2×2, 3×3) (2.25× fewer multiplications;
    /// weights transformed at load).
    case winograd
    /// im2col + one OpenBLAS sgemm per convolution, then the epilogue; runs everywhere.
    case blas

    /// `.automatic` made concrete for this machine.
    /// - Throws: a usage error when `TRESNET_MAX_ISA` names no instruction set.
    public func resolved() throws -> ConvolutionBackend {
        let isa = try KernelISA.current()
        switch self {
        case .automatic: return isa == .portable ? .blas : .winograd
        case .direct, .winograd, .blas: return self
        }
    }
}
