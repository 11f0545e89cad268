/// Overflow-checked size arithmetic for untrusted declared sizes (docs/ROBUSTNESS.md A.0 #4). Each returns nil on
/// overflow or a negative operand; callers turn nil into a `.sizeOverflow` error naming the field.
public enum Checked {
    public static func multiply(_ a: Int, _ b: Int) -> Int? {
        guard a >= 0, b >= 0 else { return nil }
        let (r, o) = a.multipliedReportingOverflow(by: b)
        return o ? nil : r
    }

    public static func add(_ a: Int, _ b: Int) -> Int? {
        guard a >= 0, b >= 0 else { return nil }
        let (r, o) = a.addingReportingOverflow(b)
        return o ? nil : r
    }

    /// Product of `dims`; nil on overflow or a negative dimension.
    public static func product(_ dims: [Int]) -> Int? {
        var n = 1
        for d in dims {
            guard let m = multiply(n, d) else { return nil }
            n = m
        }
        return n
    }

    /// Sum of `parts` (byte counts); nil when one is unknown (nil) or negative, or the sum overflows.
    public static func sum(_ parts: [Int?]) -> Int? {
        parts.reduce(0) { total, part in total.flatMap { t in part.flatMap { add(t, $0) } } }
    }

    /// Bytes of a dense tensor: product(dims) × elementSize, checked.
    public static func byteCount(_ dims: [Int], elementSize: Int) -> Int? {
        guard let n = product(dims) else { return nil }
        return multiply(n, elementSize)
    }

    /// `value` rounded up to a multiple of `alignment` (a power of two), checked.
    public static func alignUp(_ value: Int, to alignment: Int) -> Int? {
        guard value >= 0, alignment > 0, alignment & (alignment - 1) == 0 else { return nil }
        guard let v = add(value, alignment - 1) else { return nil }
        return v & ~(alignment - 1)
    }
}
