import TResNetCore

/// The instruction set our convolution kernels run (Sources/CTResNetKernels): detected at run time and capped by
/// the environment variable `TRESNET_MAX_ISA` (`avx512`, `avx2`, `neon` or `portable`), as oneDNN's
/// `ONEDNN_MAX_CPU_ISA` caps its own. `.automatic` kernels are ours on a vector ISA and OpenBLAS under `portable`.
public enum KernelISA: String, Sendable, CaseIterable, Codable, Comparable {
    /// Plain C with compiler vector extensions: runs everywhere (explicit `direct`/`winograd` backends only).
    case portable
    /// AVX2 + FMA (x86-64-v3: Haswell and later, Zen 1–3).
    case avx2
    /// aarch64 Advanced SIMD (every ARMv8-A core: Graviton, Ampere, Apple silicon).
    case neon
    /// AVX-512F (Skylake-SP and later, Zen 4 and later).
    case avx512

    /// The environment variable that caps the ISA.
    public static let capVariable = "TRESNET_MAX_ISA"

    /// The ISAs this CPU runs, lowest first.
    public static var supported: [KernelISA] { allCases.filter { DirectKernels.supports($0) } }

    /// The ISA the kernels run by default: the best this CPU has, at or below `TRESNET_MAX_ISA`.
    /// - Throws: a usage error when `TRESNET_MAX_ISA` is set to something that names no ISA.
    public static func current() throws -> KernelISA {
        if let cap = getenv(capVariable).map({ String(cString: $0) }), !cap.isEmpty,
            KernelISA(rawValue: cap.lowercased()) == nil
        {
            throw TResNetError(
                .usage,
                "\(capVariable)=\(displaySafe(cap)) names no instruction set; use one of "
                    + allCases.map(\.rawValue).joined(separator: ", "))
        }
        return DirectKernels.defaultISA
    }

    /// Runs `body` with every convolution of the current task on `isa`'s kernels instead of the default
    /// (tests compare every ISA this machine has). `isa` must be in `supported`.
    public static func with<T>(_ isa: KernelISA, _ body: () throws -> T) rethrows -> T {
        precondition(DirectKernels.supports(isa), "\(isa) is not supported on this CPU")
        return try $override.withValue(isa, operation: body)
    }

    @TaskLocal static var override: KernelISA?

    public static func < (a: KernelISA, b: KernelISA) -> Bool { a.rank < b.rank }

    /// NEON ranks with AVX2 (the vector ISA below AVX-512).
    private var rank: Int {
        switch self {
        case .portable: 0;
        case .avx2, .neon: 1;
        case .avx512: 2
        }
    }
}
