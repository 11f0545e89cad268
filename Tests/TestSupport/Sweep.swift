import TResNetKit
import TResNetCheckpoint
import TResNetCore

/// Truncation and byte-flip sweeps over one small valid file (docs/ROBUSTNESS.md A.0 #1–#2, #11; C.1 item 3).
///
/// Every case must end in a `TResNetError` or a complete load: a cut file must never load, and a file with one
/// flipped byte either is refused or loads with every tensor of the original (a flip inside tensor data changes
/// values, never the set of tensors). Anything else — another error type, a load of a cut file, a load with fewer
/// tensors — is reported as a problem. A trap ends the test process, which fails the run.
public struct Sweep {
    public let name: String
    public let bytes: [UInt8]
    /// The regions where the parsing is (magic, lengths, JSON/pickle/protobuf metadata, zip directories, indices):
    /// every offset in them is cut and flipped.
    public let header: [Range<Int>]
    /// Reads a heap copy of the input (exactly sized, so an over-read is caught under ASan) and returns its tensors.
    public let read: (ByteStore) throws -> StateDict

    public init(name: String, bytes: [UInt8], header: [Range<Int>], read: @escaping (ByteStore) throws -> StateDict) {
        self.name = name
        self.bytes = bytes
        self.header = header.map { max(0, $0.lowerBound)..<min(bytes.count, $0.upperBound) }.filter { !$0.isEmpty }
        self.read = read
    }

    public struct Report: CustomStringConvertible, Sendable {
        public var cases = 0
        public var refused = 0
        public var loaded = 0
        /// Error codes seen, with counts.
        public var codes: [String: Int] = [:]
        public var problems: [String] = []
        public var description: String {
            "\(cases) cases: \(refused) refused, \(loaded) loaded, \(problems.count) problems "
                + "(\(codes.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")))"
        }
    }

    /// Offsets outside the header regions, `count` of them, spread evenly (deterministic).
    public func dataOffsets(_ count: Int) -> [Int] {
        let inHeader = Set(header.flatMap { Array($0) })
        let rest = (0..<bytes.count).filter { !inHeader.contains($0) }
        guard !rest.isEmpty, count > 0 else { return [] }
        let step = max(1, rest.count / count)
        return stride(from: step / 2, to: rest.count, by: step).prefix(count).map { rest[$0] }
    }

    /// The tensors of the intact file (which must load).
    public func original() throws -> StateDict { try read(ByteStore.copying(bytes)) }

    /// Cuts the file at every header offset and at `dataSamples` offsets in the data; every cut must be refused.
    public func truncations(dataSamples: Int) -> Report {
        var report = Report()
        let cuts = Set(header.flatMap { Array($0) } + dataOffsets(dataSamples) + [0, 1, bytes.count - 1])
        for cut in cuts.sorted() where cut < bytes.count {
            report.cases += 1
            switch outcome(Array(bytes[0..<cut])) {
            case .refused(let code):
                report.refused += 1
                report.codes[code, default: 0] += 1
            case .loaded:
                report.loaded += 1
                report.problems.append("\(name): cut at \(cut) of \(bytes.count) loaded")
            case .otherError(let e):
                report.problems.append("\(name): cut at \(cut): not a TResNetError: \(e)")
            }
        }
        return report
    }

    /// XORs every header byte (and `dataSamples` data bytes) with each mask; each case is refused or loads all
    /// the original tensors under the same names (a flip inside a name may rename one — then the count must hold).
    public func flips(masks: [UInt8] = [0xFF, 0x01], dataSamples: Int) throws -> Report {
        let reference = try original()
        var report = Report()
        let offsets = header.flatMap { Array($0) } + dataOffsets(dataSamples)
        for offset in offsets {
            for mask in masks {
                var mutated = bytes
                mutated[offset] ^= mask
                report.cases += 1
                switch outcome(mutated) {
                case .refused(let code):
                    report.refused += 1
                    report.codes[code, default: 0] += 1
                case .loaded(let dict):
                    report.loaded += 1
                    if dict.count != reference.count {
                        report.problems.append(
                            "\(name): byte \(offset) ^ \(mask) loaded \(dict.count) of "
                                + "\(reference.count) tensors (a partial model)")
                    }
                case .otherError(let e):
                    report.problems.append("\(name): byte \(offset) ^ \(mask): not a TResNetError: \(e)")
                }
            }
        }
        return report
    }

    enum Outcome {
        case refused(String)
        case loaded(StateDict)
        case otherError(String)
    }

    func outcome(_ input: [UInt8]) -> Outcome {
        do {
            return .loaded(try read(ByteStore.copying(input)))
        } catch let e as TResNetError {
            return .refused(e.code.name)
        } catch {
            return .otherError("\(error)")
        }
    }
}

extension Sweep {
    /// The regions of a zip archive that are not member payloads (local headers, central directory, end
    /// records), plus each member's first `payloadHeader(entry)` bytes.
    public static func zipHeader(_ bytes: [UInt8], payloadHeader: (ZipEntry, ByteSlice) -> Int) throws -> [Range<Int>] {
        let store = ByteStore.copying(bytes)
        let archive = try ZipArchive.open(store, path: "sweep")
        var payloads: [Range<Int>] = []
        for entry in archive.entries where entry.method == 0 {
            let slice = try archive.data(entry)
            let keep = min(slice.count, payloadHeader(entry, slice))
            payloads.append((slice.offset + keep)..<(slice.offset + slice.count))
        }
        payloads.sort { $0.lowerBound < $1.lowerBound }
        var regions: [Range<Int>] = []
        var at = 0
        for p in payloads {
            if p.lowerBound > at { regions.append(at..<p.lowerBound) }
            at = max(at, p.upperBound)
        }
        if at < bytes.count { regions.append(at..<bytes.count) }
        return regions
    }

    /// The header length of an `.npy` image (magic, version, length, header dict).
    public static func npyHeaderLength(_ bytes: UnsafeRawBufferPointer) -> Int {
        guard bytes.count >= 12 else { return bytes.count }
        if bytes[6] == 1 { return 10 + Int(bytes[8]) + Int(bytes[9]) << 8 }
        return 12 + Int(bytes[8]) + Int(bytes[9]) << 8 + Int(bytes[10]) << 16 + Int(bytes[11]) << 24
    }
}
