import TResNetModel
import CTResNetKernels

// The one file that calls tresnet-kit's own C kernels (Sources/CTResNetKernels): the direct and Winograd
// convolutions, their ISA choice and their thread pool.

/// 64-byte-aligned floats owned by an object: weights packed for the direct kernels.
final class AlignedFloats: @unchecked Sendable {  // immutable after init
    let pointer: UnsafeMutablePointer<Float>
    let count: Int

    init(count: Int, _ fill: (UnsafeMutablePointer<Float>) -> Void) {
        self.count = count
        pointer = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1) * 4, alignment: 64)
            .bindMemory(to: Float.self, capacity: max(count, 1))
        fill(pointer)
    }

    deinit { pointer.deallocate() }
}

enum DirectKernels {
    /// Whether this CPU runs `isa`'s kernels (`tk_isa_supported`).
    static func supports(_ isa: KernelISA) -> Bool { tk_isa_supported(code(isa)) != 0 }

    /// The best ISA this CPU runs under the TRESNET_MAX_ISA cap (`tk_isa_default`).
    static var defaultISA: KernelISA {
        KernelISA(rawValue: String(cString: tk_isa_name(tk_isa_default()))) ?? .portable
    }

    private static func code(_ isa: KernelISA) -> Int32 { tk_isa_parse(isa.rawValue) }

    /// Whether `tk_conv` runs a direct convolution of this kernel size and input width (1×1 or 3×3; a 3×3 one reads
    /// its padding from a zero row of at most 16384 channels).
    static func covers(kernel: Int, inChannels: Int) -> Bool { kernel == 1 || (kernel == 3 && inChannels <= 16384) }

    /// Packs a row-major [k][n] GEMM right-hand side into the kernels' 32-column panels (`tk_pack`).
    static func pack(_ weights: UnsafePointer<Float>, k: Int, n: Int) -> AlignedFloats {
        AlignedFloats(count: tk_packed_count(Int32(k), Int32(n))) { tk_pack(weights, Int32(k), Int32(n), $0) }
    }

    /// Whether this CPU runs the bf16 kernels (`tk_bf16_supported`: AVX512-BF16).
    static var bf16Supported: Bool { tk_bf16_supported() != 0 }

    /// Packs [kernel·kernel·inChannels][n] weights as bf16 channel pairs (`tk_pack_bf16`).
    static func packBF16(_ weights: UnsafePointer<Float>, kernel: Int, inChannels: Int, n: Int) -> AlignedFloats {
        let halves = tk_packed_bf16_count(Int32(kernel * kernel), Int32(inChannels), Int32(n))
        return AlignedFloats(count: (halves + 1) / 2) {
            tk_pack_bf16(
                weights, Int32(kernel * kernel), Int32(inChannels), Int32(n),
                UnsafeMutableRawPointer($0).assumingMemoryBound(to: UInt16.self))
        }
    }

    /// `packWinograd`'s transform, packed as bf16 (`tk_winograd_pack_bf16`). Nil when out of memory.
    static func packWinogradBF16(_ weights: UnsafePointer<Float>, inChannels: Int, outChannels: Int) -> AlignedFloats? {
        var ok = true
        let halves = tk_winograd_packed_bf16_count(Int32(inChannels), Int32(outChannels))
        let packed = AlignedFloats(count: (halves + 1) / 2) {
            ok =
                tk_winograd_pack_bf16(
                    weights, Int32(inChannels), Int32(outChannels),
                    UnsafeMutableRawPointer($0).assumingMemoryBound(to: UInt16.self)) == 0
        }
        return ok ? packed : nil
    }

    /// Transforms and packs 3×3 weights ([(ky·3 + kx)·cin + c][cout]) for Winograd F(2×2, 3×3)
    /// (`tk_winograd_pack`). Nil when out of memory.
    static func packWinograd(_ weights: UnsafePointer<Float>, inChannels: Int, outChannels: Int) -> AlignedFloats? {
        var ok = true
        let packed = AlignedFloats(count: tk_winograd_packed_count(Int32(inChannels), Int32(outChannels))) {
            ok = tk_winograd_pack(weights, Int32(inChannels), Int32(outChannels), $0) == 0
        }
        return ok ? packed : nil
    }

    /// output = activation(conv(input) + bias (+ residual)) for an NHWC stride-1 same-padded kernel×kernel
    /// convolution: `tk_conv`, or `tk_winograd_conv` for 3×3 weights packed by `packWinograd`; with `bf16`, weights
    /// packed by `packBF16` / `packWinogradBF16`.
    /// - Returns: false when the kernels do not cover this case.
    static func convolve(
        input: UnsafePointer<Float>, n: Int, h: Int, w: Int, c: Int, kernel: Int,
        packed: AlignedFloats, winograd: Bool = false, bf16: Bool = false, outChannels: Int,
        bias: UnsafePointer<Float>,
        residual: UnsafePointer<Float>?, output: UnsafeMutablePointer<Float>,
        activation: Activation
    ) -> Bool {
        var args = tk_conv_args()
        args.input = input
        args.batch = Int32(n)
        args.height = Int32(h)
        args.width = Int32(w)
        args.in_channels = Int32(c)
        args.kernel = Int32(kernel)
        args.packed = UnsafePointer(packed.pointer)
        args.out_channels = Int32(outChannels)
        args.bias = bias
        args.residual = residual
        args.output = output
        args.isa = KernelISA.override.map(code) ?? Int32(TK_ISA_DEFAULT)
        args.precision = Int32(bf16 ? TK_BF16 : TK_F32)
        switch activation {
        case .identity: args.activation = Int32(TK_IDENTITY)
        case .relu: args.activation = Int32(TK_RELU)
        case .leakyReLU(slope: let slope):
            args.activation = Int32(TK_LEAKY_RELU)
            args.slope = slope
        }
        return (winograd ? tk_winograd_conv(&args) : tk_conv(&args)) == 0
    }

    /// The kernels' thread count (`tk_threads` / `tk_set_threads`).
    static var threads: Int {
        get { Int(tk_threads()) }
        set { tk_set_threads(Int32(newValue)) }
    }
}

/// Splits 0..<count into one contiguous range per kernel thread and runs `body` on each, on the kernels' pool
/// (`tk_parallel`); runs inline when the work is small. Each index is handled exactly once, so results do not
/// depend on the split.
func parallelFor(_ count: Int, grain: Int = 1, _ body: (Range<Int>) -> Void) {
    let threads = min(DirectKernels.threads, max(1, count / max(1, grain)))
    guard threads > 1 else { return body(0..<count) }
    typealias Chunk = (Int, Int) -> Void
    withoutActuallyEscaping(
        { (index: Int, parts: Int) in
            body((count * index / parts)..<(count * (index + 1) / parts))
        } as Chunk
    ) { chunk in
        var context = chunk
        withUnsafeMutablePointer(to: &context) { pointer in
            tk_parallel(
                Int32(threads),
                { context, index, parts in
                    context!.assumingMemoryBound(to: Chunk.self).pointee(Int(index), Int(parts))
                }, pointer)
        }
    }
}
