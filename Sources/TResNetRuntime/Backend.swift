import TResNetCore

/// Which kernels run a network's convolutions.
public enum ConvolutionBackend: String, Sendable, CaseIterable, Codable {
    /// The direct kernels where this CPU has them, else OpenBLAS.
    case automatic
    /// tresnet-kit's direct convolution (Sources/CTResNetKernels: AVX-512, weights packed at load, no im2col,
    /// bias/residual/activation fused, its own threads); refused on a CPU without AVX-512.
    case direct
    /// im2col + one OpenBLAS sgemm per convolution, then the epilogue; runs everywhere.
    case blas

    /// Whether this machine runs `.direct`.
    public static var directAvailable: Bool { DirectKernels.available }

    /// `.automatic` made concrete for this machine.
    public func resolved() throws -> ConvolutionBackend {
        switch self {
        case .automatic: return Self.directAvailable ? .direct : .blas
        case .direct:
            guard Self.directAvailable else {
                throw TResNetError(.usage, "the direct kernels need a CPU with AVX-512; use the blas backend here")
            }
            return .direct
        case .blas: return .blas
        }
    }
}
