import TResNetCore

/// One member of a zip archive, as the central directory describes it (cross-checked with libzip and with the
/// member's local header).
public struct ZipEntry: Sendable, Equatable {
    public var name: String
    public var uncompressedSize: Int
    public var compressedSize: Int
    /// 0 = stored, 8 = deflate (the only two accepted).
    public var method: UInt16
    /// Position in the central directory (libzip's index).
    public var index: Int
    /// Offset of the local file header in the file.
    public var localHeaderOffset: Int
    /// Offset of the first data byte in the file.
    public var dataOffset: Int

    public var isStored: Bool { method == 0 }
}

/// The zip central directory parsed with a bounded `ByteReader` — libzip has no public API for a member's
/// local-header offset, which zero-copy reads of stored members need. Checks: a single end record whose comment
/// runs to the end of the file, zip64 locator/record consistency, single disk, entry count against directory
/// size, zip64 extras for sentinel fields, no encryption, stored/deflate only, unique non-empty UTF-8 names,
/// local headers matching their central record (signature, name, method), data before the central directory,
/// and no two members sharing bytes (docs/ROBUSTNESS.md A.3).
enum CentralDirectory {
    static let zip64LocatorSignature: UInt32 = 0x0706_4b50
    static let zip64EOCDSignature: UInt32 = 0x0606_4b50
    static let centralSignature: UInt32 = 0x0201_4b50
    static let localSignature: UInt32 = 0x0403_4b50

    static func fail(
        _ code: TResNetError.Code = .malformed, at offset: Int? = nil, entry: String? = nil,
        _ message: String
    ) -> TResNetError {
        let location: TResNetError.Location? = entry.map { .entry($0) } ?? offset.map { .offset($0) }
        return TResNetError(code, format: ZipArchive.format, at: location, message)
    }

    static func parse(_ bytes: UnsafeRawBufferPointer) throws -> [ZipEntry] {
        let size = bytes.count
        guard size >= 22 else { throw fail(.truncated, at: 0, "truncated: \(size) bytes cannot hold an end record") }
        var r = ByteReader(bytes, format: ZipArchive.format)

        // End of central directory: the last signature whose comment runs exactly to the end of the file.
        var eocd = -1
        var p = size - 22
        let lowest = max(0, size - 22 - 65_535)
        while p >= lowest {
            if bytes[p] == 0x50, bytes[p + 1] == 0x4b, bytes[p + 2] == 0x05, bytes[p + 3] == 0x06 {
                let commentLength = Int(bytes[p + 20]) | Int(bytes[p + 21]) << 8
                if p + 22 + commentLength == size { eocd = p; break }
            }
            p -= 1
        }
        guard eocd >= 0 else { throw fail(.truncated, "no end-of-central-directory record (truncated or not a zip)") }
        try r.seek(to: eocd + 4)
        let disk = try r.u16(), cdDisk = try r.u16()
        let entriesOnDisk = try r.u16(), totalEntries16 = try r.u16()
        let cdSize32 = try r.u32(), cdOffset32 = try r.u32()
        var totalEntries = Int(totalEntries16)
        var cdSize = Int(cdSize32)
        var cdOffset = Int(cdOffset32)
        var cdLimit = eocd  // the central directory must end before this

        // Zip64 locator + record (torch always writes them).
        if eocd >= 20 {
            try r.seek(to: eocd - 20)
            if try r.u32() == zip64LocatorSignature {
                let locatorDisk = try r.u32()
                let recordOffset = try r.u64AsInt("zip64 end record offset")
                let disks = try r.u32()
                guard locatorDisk == 0, disks <= 1 else {
                    throw fail(.unsupported, at: eocd - 20, "multi-disk archives are not supported")
                }
                guard recordOffset <= eocd - 20 - 56 else {
                    throw fail(at: eocd - 20, "zip64 end record offset \(recordOffset) is out of range")
                }
                try r.seek(to: recordOffset)
                guard try r.u32() == zip64EOCDSignature else {
                    throw fail(at: recordOffset, "zip64 end record signature missing")
                }
                let recordSize = try r.u64AsInt("zip64 end record size")
                guard recordSize >= 44, recordSize <= eocd - 20 - recordOffset - 12 else {
                    throw fail(at: recordOffset, "zip64 end record size \(recordSize) is inconsistent")
                }
                _ = try r.u16(); _ = try r.u16()
                let d64 = try r.u32(), cd64 = try r.u32()
                guard d64 == 0, cd64 == 0 else {
                    throw fail(.unsupported, at: recordOffset, "multi-disk archives are not supported")
                }
                _ = try r.u64()
                let n64 = try r.u64AsInt("zip64 entry count")
                let size64 = try r.u64AsInt("zip64 central directory size")
                let offset64 = try r.u64AsInt("zip64 central directory offset")
                if totalEntries16 != 0xFFFF,
                    Int(totalEntries16) != n64 || cdSize32 != 0xFFFF_FFFF && Int(cdSize32) != size64
                        || cdOffset32 != 0xFFFF_FFFF && Int(cdOffset32) != offset64
                {
                    throw fail(at: eocd, "end record and zip64 end record disagree")
                }
                totalEntries = n64
                cdSize = size64
                cdOffset = offset64
                cdLimit = recordOffset
            } else {
                guard disk == 0, cdDisk == 0, entriesOnDisk == totalEntries16 else {
                    throw fail(.unsupported, at: eocd, "multi-disk archives are not supported")
                }
            }
        }
        guard let cdEnd = Checked.add(cdOffset, cdSize), cdEnd <= cdLimit else {
            throw fail(
                .truncated, at: eocd,
                "central directory [\(cdOffset), +\(cdSize)) runs past its end record (truncated?)")
        }
        guard totalEntries <= cdSize / 46 else {
            throw fail(at: eocd, "\(totalEntries) entries cannot fit in a \(cdSize)-byte central directory")
        }

        var entries: [ZipEntry] = []
        entries.reserveCapacity(totalEntries)
        var names = Set<String>()
        try r.seek(to: cdOffset)
        for index in 0..<totalEntries {
            let at = r.offset
            guard r.offset + 46 <= cdEnd, try r.u32() == centralSignature else {
                throw fail(at: at, "central directory entry \(index) has no signature")
            }
            _ = try r.u16(); _ = try r.u16()
            let flags = try r.u16()
            let method = try r.u16()
            _ = try r.u32()  // modification time and date
            _ = try r.u32()  // CRC-32
            var compressed = Int(try r.u32())
            var uncompressed = Int(try r.u32())
            let nameLength = Int(try r.u16()), extraLength = Int(try r.u16()), commentLength = Int(try r.u16())
            let diskStart = try r.u16()
            _ = try r.u16(); _ = try r.u32()
            var localOffset = Int(try r.u32())
            guard r.offset + nameLength + extraLength + commentLength <= cdEnd else {
                throw fail(.truncated, at: at, "central directory entry \(index) runs past the directory")
            }
            let nameBytes = try r.bytes(nameLength, "entry name")
            guard let name = String(validating: nameBytes, as: UTF8.self), !name.isEmpty, !name.utf8.contains(0) else {
                throw fail(at: at, "entry \(index) has an empty, NUL-containing or non-UTF-8 name")
            }
            // zip64 extra: the fields that overflowed, in order
            var extra = ByteReader(
                try r.bytes(extraLength, "extra field"), baseOffset: r.offset - extraLength,
                format: ZipArchive.format)
            var sawZip64 = false
            while !extra.isAtEnd {
                let id = try extra.u16("extra field id"), length = Int(try extra.u16("extra field length"))
                var body = ByteReader(
                    try extra.bytes(length, "extra field body"), baseOffset: extra.offset - length,
                    format: ZipArchive.format)
                if id == 0x0001 {
                    sawZip64 = true
                    if uncompressed == 0xFFFF_FFFF { uncompressed = try body.u64AsInt("zip64 uncompressed size") }
                    if compressed == 0xFFFF_FFFF { compressed = try body.u64AsInt("zip64 compressed size") }
                    if localOffset == 0xFFFF_FFFF { localOffset = try body.u64AsInt("zip64 local header offset") }
                }
            }
            if !sawZip64, uncompressed == 0xFFFF_FFFF || compressed == 0xFFFF_FFFF || localOffset == 0xFFFF_FFFF {
                throw fail(at: at, entry: name, "zip64 sentinel without a zip64 extra field")
            }
            try r.skip(commentLength, "entry comment")
            guard diskStart == 0 || diskStart == 0xFFFF else {
                throw fail(.unsupported, entry: name, "multi-disk archives are not supported")
            }
            guard flags & 0x0001 == 0, flags & 0x0040 == 0 else {
                throw fail(.unsupported, entry: name, "encrypted entries are not supported")
            }
            guard method == 0 || method == 8 else {
                throw fail(
                    .unsupported, entry: name, "compression method \(method) is not supported (only stored and deflate)"
                )
            }
            guard method != 0 || compressed == uncompressed else {
                throw fail(entry: name, "stored entry has compressed size \(compressed) ≠ size \(uncompressed)")
            }
            guard names.insert(name).inserted else { throw fail(entry: name, "duplicate entry name") }

            // local header
            var local = ByteReader(bytes, format: ZipArchive.format)
            guard localOffset <= cdOffset else {
                throw fail(entry: name, "local header offset \(localOffset) is past the central directory")
            }
            try local.seek(to: localOffset)
            guard try local.u32("local header signature") == localSignature else {
                throw fail(at: localOffset, entry: name, "local header signature missing")
            }
            _ = try local.u16()
            _ = try local.u16()
            let localMethod = try local.u16()
            try local.skip(16, "local header")
            let localNameLength = Int(try local.u16()), localExtraLength = Int(try local.u16())
            let localName = try local.bytes(localNameLength, "local header name")
            guard localName.elementsEqual(nameBytes), localMethod == method else {
                throw fail(entry: name, "local header disagrees with the central directory (name or method)")
            }
            try local.skip(localExtraLength, "local header extra field")
            let dataOffset = local.offset
            guard let dataEnd = Checked.add(dataOffset, compressed), dataEnd <= cdOffset else {
                throw fail(.truncated, entry: name, "entry data runs past the central directory (truncated?)")
            }
            entries.append(
                ZipEntry(
                    name: name, uncompressedSize: uncompressed, compressedSize: compressed,
                    method: method, index: index, localHeaderOffset: localOffset,
                    dataOffset: dataOffset))
        }
        guard r.offset == cdEnd else { throw fail(at: r.offset, "central directory size does not match its entries") }

        // No two members may share bytes (overlap = zip bomb or parser confusion).
        let byOffset = entries.sorted { $0.localHeaderOffset < $1.localHeaderOffset }
        for (a, b) in zip(byOffset, byOffset.dropFirst()) where a.dataOffset + a.compressedSize > b.localHeaderOffset {
            throw fail(entry: b.name, "entry overlaps '\(displaySafe(a.name))' (possible zip bomb)")
        }
        return entries
    }
}
