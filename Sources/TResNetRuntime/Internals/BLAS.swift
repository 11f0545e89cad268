import COpenBLAS
import TResNetCore

// The one file that calls OpenBLAS (swift-system style funnel). Everything is row-major single precision.

/// C[m×n] = alpha · A[m×k] · op(B) + beta · C, row-major, with B given as [k×n] (`transposedB == false`,
/// leading dimension n) or as [n×k] (`transposedB == true`, leading dimension k).
/// The corresponding C function is `cblas_sgemm`.
@inline(__always)
func blasSgemm(
    m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
    transposedB: Bool = false, c: UnsafeMutablePointer<Float>, ldc: Int, beta: Float = 0
) {
    cblas_sgemm(
        CblasRowMajor, CblasNoTrans, transposedB ? CblasTrans : CblasNoTrans,
        Int32(m), Int32(n), Int32(k), 1, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
}

/// The number of threads OpenBLAS uses. The corresponding C function is `openblas_set_num_threads`.
func blasSetThreads(_ n: Int) { openblas_set_num_threads(Int32(n)) }

/// The corresponding C function is `openblas_get_num_threads`.
func blasThreads() -> Int { Int(openblas_get_num_threads()) }

/// Stops OpenBLAS's worker threads now. The pthread build starts them when the library loads and lets them
/// spin (`sched_yield`) for about 0.1 s after load and after every call; on a 2-core machine that spinning takes
/// a core from a tool that does not call BLAS at all (a conversion, or a forward pass on the direct kernels).
/// OpenBLAS starts them again by itself at its next multi-threaded call. Calls `blas_thread_shutdown_`, which
/// OpenBLAS exports but does not declare, looked up at run time: builds without it (OpenMP) are left alone.
func blasStopThreads() {
    guard let shutdown = Platform.symbol("blas_thread_shutdown_", as: (@convention(c) () -> Int32).self) else { return }
    _ = shutdown()
}
