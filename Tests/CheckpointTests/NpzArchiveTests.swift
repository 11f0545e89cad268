import Testing
import TResNetCore
import TResNetCheckpoint
import TestSupport

@Suite("NpzArchive")
struct NpzArchiveTests {
    @Test func storedAndCompressedArchivesMatchNumpy() throws {
        let expected = try NpyExpected.load()
        #expect(expected.npz.map(\.file) == ["stored.npz", "compressed.npz"])
        for archive in expected.npz {
            let arrays = try NpzArchive.read(path: NpyExpected.path(archive.file))
            #expect(arrays.map(\.name) == archive.members.map(\.file), "\(archive.file)")
            for (got, want) in zip(arrays, archive.members) {
                NpyExpected.check(got.tensor, against: want)
            }
        }
    }

    @Test func storedMembersAreZeroCopy() throws {
        let path = NpyExpected.path("stored.npz")
        let store = try ByteStore.map(path: path)
        let arrays = try NpzArchive.read(store, path: path)
        let weight = try #require(arrays.first { $0.name == "weight" })
        #expect(weight.tensor.data.store === store)
    }

    @Test(arguments: [("not_npy_member.npz", "not a .npy array"), ("duplicate_member.npz", "duplicate")])
    func strictArchivesAreRefused(_ file: String, _ fragment: String) throws {
        do {
            _ = try NpzArchive.read(path: NpyExpected.path(file))
            Issue.record("\(file) accepted")
        } catch let e as TResNetError {
            #expect(e.code == .malformed, "\(e)")
            #expect(e.message.contains(fragment), "\(e)")
            #expect(e.file == NpyExpected.path(file))
        }
    }

    @Test func aBadMemberFailsTheWholeArchive() throws {
        // An object array inside an archive: refused like a bare .npy, naming the member.
        do {
            _ = try NpzArchive.read(path: NpyExpected.path("object_member.npz"))
            Issue.record("accepted")
        } catch let e as TResNetError {
            #expect(e.code == .unsupported)
            #expect(e.message.contains("object arrays need pickle; refused"))
            #expect(e.file?.contains("[obj.npy]") == true, "\(e)")
        }
    }
}

@Suite("NpzArchive on the activation references")
struct NpzReferenceTests {
    /// generate.py's np.savez references: all load; every 64×64 reference was computed from the same input
    /// tensor (x_sq), so their `input` members must be byte-identical.
    @Test func referencesLoadAndShareTheirInput() throws {
        let names = ["tiny_v1", "tiny_v2", "tiny_v1_miil", "tiny_v2_miil", "tiny_v1_f16", "tiny_v1_bf16"]
        var inputs: [[UInt8]] = []
        for name in names {
            let arrays = try NpzArchive.read(path: FixturePaths.tiny("\(name).reference.npz"))
            #expect(arrays.allSatisfy { $0.tensor.dtype == .float32 }, "\(name)")
            let input = try #require(arrays.first { $0.name == "input" }, "\(name)")
            #expect(input.tensor.shape == [2, 3, 64, 64])
            inputs.append(input.tensor.data.toArray())
            #expect(arrays.contains { $0.name == "head.fc" }, "\(name)")
        }
        #expect(Set(inputs).count == 1)
    }
}
