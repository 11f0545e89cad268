import TResNetCore

/// Which kernels run a network's convolutions.
public enum ConvolutionBackend: String, Sendable, CaseIterable, Codable {
    /// Our kernels where this CPU has them (`winograd`), else OpenBLAS.
    case automatic
    /// tresnet-kit's direct convolution for every layer (Sources/CTResNetKernels: AVX-512, weights packed at
    /// load, no im2col, bias/residual/activation fused, its own threads); refused on a CPU without AVX-512.
    case direct
    /// As `direct`, with the 3×3 convolutions computed as Winograd F(2×2, 3×3) (2.25× fewer multiplications;
    /// weights transformed at load); refused on a CPU without AVX-512.
    case winograd
    /// im2col + one OpenBLAS sgemm per convolution, then the epilogue; runs everywhere.
    case blas

    /// Whether this machine runs `.direct`.
    public static var directAvailable: Bool { DirectKernels.available }

    /// `.automatic` made concrete for this machine.
    public func resolved() throws -> ConvolutionBackend {
        switch self {
        case .automatic: return Self.directAvailable ? .winograd : .blas
        case .direct, .winograd:
            guard Self.directAvailable else {
                throw TResNetError(.usage, "the \(rawValue) kernels need a CPU with AVX-512; use the blas backend here")
            }
            return self
        case .blas: return .blas
        }
    }
}
