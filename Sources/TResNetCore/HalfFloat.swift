/// IEEE binary16 and bfloat16 conversions, bit-exact with PyTorch (round to nearest even when narrowing).
extension Float {
    /// Widens an IEEE binary16 bit pattern.
    public init(half bits: UInt16) {
        let sign = UInt32(bits & 0x8000) << 16
        let exp = Int((bits >> 10) & 0x1f)
        var mant = UInt32(bits & 0x3ff)
        let out: UInt32
        if exp == 0 {
            if mant == 0 {
                out = sign
            } else {  // subnormal: normalise
                var e = -1
                repeat { e += 1; mant <<= 1 } while mant & 0x400 == 0
                out = sign | UInt32(127 - 15 - e) << 23 | (mant & 0x3ff) << 13
            }
        } else if exp == 0x1f {
            out = sign | 0x7f80_0000 | mant << 13
        } else {
            out = sign | UInt32(exp - 15 + 127) << 23 | mant << 13
        }
        self = Float(bitPattern: out)
    }

    /// Widens a bfloat16 bit pattern (the top half of an f32).
    public init(bfloat16 bits: UInt16) { self = Float(bitPattern: UInt32(bits) << 16) }

    /// Narrows to binary16, round to nearest even; overflow gives ±inf, NaN stays NaN.
    public var halfBits: UInt16 {
        let x = bitPattern
        let sign = UInt16((x >> 16) & 0x8000)
        let exp = Int((x >> 23) & 0xff)
        let mant = x & 0x7f_ffff
        if exp == 0xff { return sign | 0x7c00 | (mant != 0 ? 0x200 | UInt16(mant >> 13) : 0) }
        let e = exp - 127 + 15
        if e >= 0x1f { return sign | 0x7c00 }
        if e <= 0 {
            if e < -10 { return sign }
            let m = mant | 0x80_0000
            let shift = UInt32(14 - e)
            var h = m >> shift
            let rem = m & ((1 << shift) - 1)
            let halfway = UInt32(1) << (shift - 1)
            if rem > halfway || (rem == halfway && h & 1 == 1) { h += 1 }
            return sign | UInt16(h)
        }
        var h = UInt32(e) << 10 | mant >> 13
        let rem = mant & 0x1fff
        if rem > 0x1000 || (rem == 0x1000 && h & 1 == 1) { h += 1 }
        return sign | UInt16(h)
    }

    /// Narrows to bfloat16, round to nearest even (NaN kept quiet).
    public var bfloat16Bits: UInt16 {
        let x = bitPattern
        if isNaN { return UInt16(x >> 16) | 0x40 }
        let rounding = UInt32(0x7fff) + ((x >> 16) & 1)
        return UInt16((x &+ rounding) >> 16)
    }
}
