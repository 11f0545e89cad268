import COpenSSL

/// SHA-256 helpers: the system's libcrypto (OpenSSL; its SHA-NI / AVX2 code is picked at run time). This file is
/// the only one that calls it (the `COpenSSL` funnel).
public enum SHA256Hex {
    public static func of(_ bytes: UnsafeRawBufferPointer) -> String {
        var h = Stream()
        h.update(bytes)
        return h.finalize()
    }

    /// Streams `path` through a 256 KiB buffer (not a memory map, so hashing a file another part of the process
    /// has mapped does not count its pages twice in the resident set; small enough to stay in the L2 cache).
    public static func of(file path: String) throws -> String {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw TResNetError.io(path, "cannot open: \(errnoText())") }
        defer { close(fd) }
        var h = Stream()
        let size = 256 << 10
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 64)
        defer { buffer.deallocate() }
        while true {
            let n = read(fd, buffer.baseAddress, size)
            if n < 0 {
                if errno == EINTR { continue }
                throw TResNetError.io(path, "read failed: \(errnoText())")
            }
            if n == 0 { break }
            h.update(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
        }
        return h.finalize()
    }

    /// Incremental hashing (streamed downloads, files): a plain C struct, so copies are independent (finalizing
    /// one leaves the other going).
    public struct Stream {
        private var ctx = SHA256_CTX()
        public init() { SHA256_Init(&ctx) }
        public mutating func update(_ bytes: UnsafeRawBufferPointer) {
            guard let base = bytes.baseAddress, !bytes.isEmpty else { return }
            SHA256_Update(&ctx, base, bytes.count)
        }
        public func finalize() -> String {
            var copy = ctx
            var digest = [UInt8](repeating: 0, count: Int(SHA256_DIGEST_LENGTH))
            SHA256_Final(&digest, &copy)
            return SHA256Hex.hex(digest)
        }
    }

    static func hex<D: Sequence>(_ digest: D) -> String where D.Element == UInt8 {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(64)
        for b in digest {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0xf)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// XXH64 (seed 0), the per-tensor checksum of the `.tw` format: fast enough to verify at memory speed,
/// and available to Python as `xxhash.xxh64_intdigest`.
public enum XXH64 {
    private static let p1: UInt64 = 0x9E37_79B1_85EB_CA87
    private static let p2: UInt64 = 0xC2B2_AE3D_27D4_EB4F
    private static let p3: UInt64 = 0x1656_67B1_9E37_79F9
    private static let p4: UInt64 = 0x85EB_CA77_C2B2_AE63
    private static let p5: UInt64 = 0x27D4_EB2F_1656_67C5

    @inline(__always) private static func round(_ acc: UInt64, _ input: UInt64) -> UInt64 {
        var a = acc &+ input &* p2
        a = (a << 31) | (a >> 33)
        return a &* p1
    }

    @inline(__always) private static func merge(_ acc: UInt64, _ val: UInt64) -> UInt64 {
        var a = acc ^ round(0, val)
        a = a &* p1 &+ p4
        return a
    }

    /// The four accumulators of the 32-byte stripes.
    private struct Lanes {
        var v1: UInt64, v2: UInt64, v3: UInt64, v4: UInt64

        init(seed: UInt64) {
            v1 = seed &+ p1 &+ p2
            v2 = seed &+ p2
            v3 = seed
            v4 = seed &- p1
        }

        @inline(__always) mutating func stripe(_ p: UnsafeRawPointer) {
            v1 = round(v1, UInt64(littleEndian: p.loadUnaligned(fromByteOffset: 0, as: UInt64.self)))
            v2 = round(v2, UInt64(littleEndian: p.loadUnaligned(fromByteOffset: 8, as: UInt64.self)))
            v3 = round(v3, UInt64(littleEndian: p.loadUnaligned(fromByteOffset: 16, as: UInt64.self)))
            v4 = round(v4, UInt64(littleEndian: p.loadUnaligned(fromByteOffset: 24, as: UInt64.self)))
        }

        /// The accumulators folded into one value (for inputs of 32 bytes or more).
        func converged() -> UInt64 {
            var h =
                ((v1 << 1) | (v1 >> 63)) &+ ((v2 << 7) | (v2 >> 57)) &+ ((v3 << 12) | (v3 >> 52))
                &+ ((v4 << 18) | (v4 >> 46))
            h = merge(h, v1); h = merge(h, v2); h = merge(h, v3); h = merge(h, v4)
            return h
        }
    }

    public static func hash(_ bytes: UnsafeRawBufferPointer, seed: UInt64 = 0) -> UInt64 {
        var stream = Stream(seed: seed)
        stream.update(bytes)
        return stream.finalize()
    }

    /// XXH64 over bytes that arrive in pieces: `update` with each piece in order, then `finalize()`; equal to
    /// `hash` of the concatenation, however it is cut.
    public struct Stream {
        private var lanes: Lanes
        private let seed: UInt64
        private var total = 0
        /// The bytes of an incomplete 32-byte stripe carried to the next update (fewer than 32).
        private var tail: [UInt8] = []

        public init(seed: UInt64 = 0) {
            self.seed = seed
            lanes = Lanes(seed: seed)
            tail.reserveCapacity(32)
        }

        public mutating func update(_ bytes: UnsafeRawBufferPointer) {
            guard let base = bytes.baseAddress, bytes.count > 0 else { return }
            total += bytes.count
            var i = 0
            if !tail.isEmpty {
                let take = min(32 - tail.count, bytes.count)
                tail.append(contentsOf: UnsafeRawBufferPointer(start: base, count: take))
                i = take
                guard tail.count == 32 else { return }
                tail.withUnsafeBytes { lanes.stripe($0.baseAddress!) }
                tail.removeAll(keepingCapacity: true)
            }
            while bytes.count - i >= 32 {
                lanes.stripe(base + i)
                i += 32
            }
            if i < bytes.count {
                tail.append(contentsOf: UnsafeRawBufferPointer(start: base + i, count: bytes.count - i))
            }
        }

        public func finalize() -> UInt64 {
            let h = (total >= 32 ? lanes.converged() : seed &+ p5) &+ UInt64(total)
            return tail.withUnsafeBytes { XXH64.finish(h, tail: $0) }
        }
    }

    /// Folds in the last bytes (fewer than 32) and mixes the result.
    private static func finish(_ hIn: UInt64, tail: UnsafeRawBufferPointer) -> UInt64 {
        var h = hIn
        var i = 0
        let n = tail.count
        if let base = tail.baseAddress {
            while i + 8 <= n {
                let k = round(0, UInt64(littleEndian: base.loadUnaligned(fromByteOffset: i, as: UInt64.self)))
                h ^= k
                h = ((h << 27) | (h >> 37)) &* p1 &+ p4
                i += 8
            }
            if i + 4 <= n {
                h ^= UInt64(UInt32(littleEndian: base.loadUnaligned(fromByteOffset: i, as: UInt32.self))) &* p1
                h = ((h << 23) | (h >> 41)) &* p2 &+ p3
                i += 4
            }
            while i < n {
                h ^= UInt64(base.load(fromByteOffset: i, as: UInt8.self)) &* p5
                h = ((h << 11) | (h >> 53)) &* p1
                i += 1
            }
        }
        h ^= h >> 33
        h = h &* p2
        h ^= h >> 29
        h = h &* p3
        h ^= h >> 32
        return h
    }
}
