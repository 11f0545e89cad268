/// The tolerance `tresnet-verify --precision bf16` judges with (a separate addition to Parity.swift's `Tolerance`).
extension Tolerance {
    /// bf16 products carry 8 significant bits (relative rounding 2⁻⁹ ≈ 0.2 % per operand), and the error grows
    /// through the network's depth; an element passes when |ours − reference| ≤ 0.1 + 0.05·|reference|.
    /// docs/PARITY.md gives the errors measured with it, ours and OpenVINO's bf16, and the top-1/top-5 agreement
    /// that is the meaningful check at this precision.
    public static let bfloat16 = Tolerance(absolute: 0.1, relative: 0.05)
}
