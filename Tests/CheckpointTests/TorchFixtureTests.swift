import Foundation
import Testing
import TestSupport
@testable import TResNetCheckpoint
import TResNetCore

/// Decodes float8_e4m3fn (bias 7, no infinities, S.1111.111 = NaN) exactly.
func decodeE4M3FN(_ byte: UInt8) -> Double {
    let sign: Double = byte & 0x80 != 0 ? -1 : 1
    let exponent = Int((byte >> 3) & 0x0F)
    let mantissa = Double(byte & 0x07)
    if exponent == 0x0F && byte & 0x07 == 0x07 { return .nan }
    if exponent == 0 { return sign * mantissa / 8 * pow(2, -6) }
    return sign * (1 + mantissa / 8) * pow(2, Double(exponent - 7))
}

/// The value at flat index `i`, widened to Double exactly as the manifest records it.
func sampleValue(_ t: Tensor, _ i: Int) -> Double? {
    if t.dtype == .float8_e4m3fn { return decodeE4M3FN(t.data.bytes[i]) }
    return t.scalar(at: i)
}

/// Checks a loaded checkpoint against its manifest record: container, wrapper, prefix, names in order, dtypes,
/// shapes, every sampled value bit for bit, non-tensor entries.
func expectMatches(_ loaded: LoadedCheckpoint, _ record: FixtureManifest.FileRecord, _ file: String) throws {
    #expect(loaded.container.rawValue == record.container)
    #expect(loaded.wrapper == record.wrapper)
    #expect(loaded.strippedPrefix == record.prefix)
    let tensors = try #require(record.tensors)
    #expect(loaded.stateDict.names == tensors.map(\.name))
    for expected in tensors {
        let t = try #require(loaded.stateDict[expected.name], "\(expected.name)")
        #expect(t.dtype.rawValue == expected.dtype, "\(expected.name)")
        #expect(t.shape == expected.shape, "\(expected.name)")
        for sample in expected.samples {
            let index = Int(sample[0])
            let value = try #require(sampleValue(t, index), "\(expected.name)[\(index)]")
            #expect(
                value.bitPattern == sample[1].bitPattern || (value == 0 && sample[1] == 0),
                "\(file) \(expected.name)[\(index)] = \(value), PyTorch wrote \(sample[1])")
        }
    }
    if let entries = record.non_tensor_entries {
        #expect(loaded.nonTensorEntries.map(\.name) == entries)
    }
}

let torchFixtureNames: [String] = {
    guard let m = try? FixtureManifest.load() else { return [] }
    return m.files.filter {
        ($0.value.container == "pytorch-zip" || $0.value.container == "pytorch-legacy")
            && $0.value.hostile != true
    }.keys.sorted()
}()

@Suite("PyTorch fixtures match the manifest")
struct TorchFixtureTests {
    @Test("every torch fixture lists its fixtures", .tags())
    func manifestHasTorchFixtures() throws {
        #expect(torchFixtureNames.count >= 15)
        for required in [
            "dtypes.pth", "dtypes_legacy.pth", "proto4.pth", "nocrc.pth", "rezipped_deflate.pth",
            "wrapper_ema.pth", "tiny_v1_views.pth", "tiny_v1_legacy.pth", "tiny_v1_wrapped.pth"
        ] {
            #expect(torchFixtureNames.contains(required), "\(required)")
        }
    }

    @Test("names, dtypes, shapes, sampled values, wrapper, prefix", arguments: torchFixtureNames)
    func fixtureMatches(_ file: String) throws {
        let manifest = try FixtureManifest.load()
        let record = try #require(manifest.files[file])
        // wrapper_ema.pth records the EMA entry (the manifest's choice before timm's default, `state_dict`, became
        // the default); --ema takes it.
        let loaded = try CheckpointReader.read(
            path: FixturePaths.tiny(file),
            options: CheckpointReadOptions(ema: record.wrapper == "state_dict_ema"))
        try expectMatches(loaded, record, file)
    }

    @Test("views: shared storage slices, channels_last and transposed weights equal the plain file")
    func viewsEqualPlain() throws {
        let plain = try CheckpointReader.read(path: FixturePaths.tiny("tiny_v1.pth"))
        let views = try CheckpointReader.read(path: FixturePaths.tiny("tiny_v1_views.pth"))
        #expect(plain.stateDict.names == views.stateDict.names)
        for name in plain.stateDict.names {
            let a = try #require(plain.stateDict[name]), b = try #require(views.stateDict[name])
            #expect(a.shape == b.shape && a.dtype == b.dtype)
            #expect(Array(a.data.bytes) == Array(b.data.bytes), "\(name)")
        }
    }

    @Test("legacy tiny_v1 equals the zip tiny_v1 bit for bit")
    func legacyEqualsZip() throws {
        let zip = try CheckpointReader.read(path: FixturePaths.tiny("tiny_v1.pth"))
        let legacy = try CheckpointReader.read(path: FixturePaths.tiny("tiny_v1_legacy.pth"))
        #expect(zip.stateDict.names == legacy.stateDict.names)
        for name in zip.stateDict.names {
            #expect(
                zip.stateDict[name].map { Array($0.data.bytes) } == legacy.stateDict[name].map { Array($0.data.bytes) })
        }
    }

    @Test("full-size tresnet_m (when generated): legacy, wrapped and zip files hold identical tensors")
    func fullSizeForms() throws {
        guard let zipPath = FixturePaths.full("tresnet_m.pth"),
            let legacyPath = FixturePaths.full("tresnet_m_legacy.pth"),
            let wrappedPath = FixturePaths.full("tresnet_m_wrapped.pth")
        else { return }
        let zip = try CheckpointReader.read(path: zipPath)
        #expect(zip.stateDict.count == 434)
        for other in [try CheckpointReader.read(path: legacyPath), try CheckpointReader.read(path: wrappedPath)] {
            #expect(other.stateDict.names == zip.stateDict.names)
            for name in zip.stateDict.names {
                let a = try #require(zip.stateDict[name]), b = try #require(other.stateDict[name])
                #expect(a.shape == b.shape && a.dtype == b.dtype)
                #expect(a.data.count == b.data.count)
                if let pa = a.data.bytes.baseAddress, let pb = b.data.bytes.baseAddress, a.data.count == b.data.count {
                    #expect(memcmp(pa, pb, a.data.count) == 0, "\(name)")
                }
            }
        }
    }

    /// Legacy records at unaligned offsets get an aligned copy only when a tensor's bytes are first used: reading
    /// (and so inspecting) a legacy file copies nothing (issue 20: inspecting a 125 MB legacy file took 266 MB).
    @Test("legacy: unaligned records are copied on first use, not when read")
    func legacyCopiesLazily() throws {
        let legacy = try CheckpointReader.read(path: FixturePaths.tiny("tiny_v1_legacy.pth"))
        let zip = try CheckpointReader.read(path: FixturePaths.tiny("tiny_v1.pth"))
        let lazy = legacy.stateDict.entries.filter { !$0.1.data.store.isMaterialized }
        #expect(!lazy.isEmpty, "some tiny_v1_legacy records are unaligned")
        for (name, t) in lazy {
            #expect(Array(t.data.bytes) == zip.stateDict[name].map { Array($0.data.bytes) }, "\(name)")
            #expect(t.data.store.isMaterialized)
            #expect(Int(bitPattern: t.data.bytes.baseAddress) % 16 == 0)
        }
    }

    @Test("stored records are zero-copy slices of the mapped file")
    func storedRecordsAreNotCopied() throws {
        let path = FixturePaths.tiny("tiny_v1.pth")
        let store = try ByteStore.map(path: path)
        let loaded = try CheckpointReader.read(store, path: path)
        let t = try #require(loaded.stateDict["head.fc.weight"])
        #expect(t.data.store === store)
        #expect(t.data.offset % 64 == 0)
    }

    @Test(
        "every tensor handed out is aligned for its element type (legacy records are unpadded)",
        arguments: ["tiny_v1_legacy.pth", "dtypes_legacy.pth", "tiny_v1_views.pth", "rezipped_deflate.pth"])
    func alignment(_ file: String) throws {
        let loaded = try CheckpointReader.read(path: FixturePaths.tiny(file))
        for (name, t) in loaded.stateDict.entries where t.byteCount > 0 {
            let address = Int(bitPattern: t.data.bytes.baseAddress)
            #expect(address % t.dtype.byteSize == 0, "\(name)")
        }
    }

    @Test("--key chooses the wrapper explicitly; a non-dict key is refused")
    func explicitKey() throws {
        let path = FixturePaths.tiny("wrapper_ema.pth")
        let plain = try CheckpointReader.read(path: path, key: "state_dict")
        #expect(plain.wrapper == "state_dict")
        #expect(plain.strippedPrefix == nil)
        #expect(plain.stateDict.names == ["a"])
        #expect(plain.stateDict["a"]?.scalar(at: 0) == 0)
        let wrapped = FixturePaths.tiny("tiny_v1_wrapped.pth")
        let error = #expect(throws: TResNetError.self) { try CheckpointReader.read(path: wrapped, key: "epoch") }
        #expect(error?.code == .noStateDict)
        #expect(error?.file == wrapped)
    }

    @Test("MIIL checkpoint: int-keyed idx_to_class and num_classes are reported, not fatal")
    func miilNonTensorEntries() throws {
        let loaded = try CheckpointReader.read(path: FixturePaths.tiny("tiny_v1_miil.pth"))
        #expect(loaded.wrapper == "model")
        let names = loaded.nonTensorEntries.map(\.name)
        #expect(names.contains("num_classes") && names.contains("idx_to_class"))
    }
}

@Suite("Zip funnel")
struct ZipArchiveTests {
    @Test("deflated records are inflated to a heap store; renamed top folder")
    func deflate() throws {
        let path = FixturePaths.tiny("rezipped_deflate.pth")
        let store = try ByteStore.map(path: path)
        let archive = try ZipArchive.open(store, path: path)
        #expect(archive.entries.contains { $0.method == 8 })
        #expect(try TorchZipContainer.topFolder(archive) == "renamed_top/")
        let pkl = try #require(archive.entry(named: "renamed_top/data.pkl"))
        let data = try archive.data(pkl)
        #expect(data.count == pkl.uncompressedSize)
        #expect(data.store !== store)
        #expect(data.bytes.first == 0x80)
    }

    @Test(
        "every truncation of a checkpoint is refused with an error, never a trap",
        arguments: ["nocrc.pth", "rezipped_deflate.pth", "dtypes_legacy.pth"])
    func truncations(_ file: String) throws {
        let bytes = try Array(Data(contentsOf: URL(fileURLWithPath: FixturePaths.tiny(file))))
        for cut in 0..<bytes.count {
            let store = ByteStore.copying(Array(bytes[0..<cut]))
            #expect(throws: TResNetError.self, "cut at \(cut)") { try CheckpointReader.read(store, path: file) }
        }
    }
}
