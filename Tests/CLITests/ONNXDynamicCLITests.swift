import Foundation
import Testing
import TestSupport

/// The dynamic-shape TorchScript exports of the micro TResNet (Fixtures/gen_onnx_dynamic.py) through the tools,
/// with no flags: inspect, convert to `.tw` and to ONNX, verify against PyTorch (at a batch size and image size
/// other than the export's); a graph whose shape subgraph computes the wrong shape is refused in one line.
struct ONNXDynamicCLITests {
    static let files = [
        "micro.ts11_bn.dyn_bhw.onnx", "micro.ts13.dyn_bhw.onnx", "micro.ts17_bn.dyn_b.onnx",
        "micro.ts20.dyn_b.onnx"
    ]

    @Test("a dynamic-shape export inspects, converts and verifies with no flags", arguments: files)
    func convertsAndVerifies(_ file: String) throws {
        let source = FixturePaths.tiny(file), reference = FixturePaths.tiny("micro.reference.npz")
        let inspect = try runTool(try tool("tresnet-inspect"), [source])
        #expect(inspect.status == 0, "\(inspect.stderr)")
        #expect(inspect.stdout.contains("body.conv1.conv.weight"))
        let dir = FixturePaths.temporaryDirectory("cli-onnx-dyn")
        for out in [dir + "/m.tw", dir + "/m.onnx"] {
            let convert = try runTool(try tool("tresnet-convert"), [source, out])
            try #require(convert.status == 0, "\(convert.stderr)")
            #expect(convert.stdout.contains("layers [1, 1, 1, 1], planes 1, 5 classes"), "\(convert.stdout)")
            let verify = try runTool(try tool("tresnet-verify"), [out, "--reference", reference])
            #expect(verify.status == 0, "\(out): \(verify.stdout)\(verify.stderr)")
            #expect(verify.stdout.contains("PASSED"))
        }
        let direct = try runTool(try tool("tresnet-verify"), [source, "--reference", reference])
        #expect(direct.status == 0 && direct.stdout.contains("PASSED"), "\(direct.stdout)\(direct.stderr)")
    }

    @Test("a shape subgraph computing the wrong space-to-depth shape: exit 2, one line naming the Reshape")
    func wrongShapeIsRefused() throws {
        var bytes = try #require(FileManager.default.contents(atPath: FixturePaths.tiny(Self.files[0]))).map { $0 }
        // `/body/s2d/Constant_4` (the 4 of H // 4) set to 2.
        let name = Array("/body/s2d/Constant_4_output_0".utf8)
        let raw: [UInt8] = [0x4a, 0x08, 4, 0, 0, 0, 0, 0, 0, 0]
        let at = try #require((0...(bytes.count - name.count)).first { Array(bytes[$0..<($0 + name.count)]) == name })
        let value = try #require((at...(bytes.count - raw.count)).first { Array(bytes[$0..<($0 + raw.count)]) == raw })
        bytes[value + 2] = 2
        let dir = FixturePaths.temporaryDirectory("cli-onnx-dyn")
        let path = dir + "/wrong.onnx"
        #expect(FileManager.default.createFile(atPath: path, contents: Data(bytes)))
        for (name, args) in [("tresnet-inspect", [path]), ("tresnet-convert", [path, dir + "/out.tw"])] {
            let run = try runTool(try tool(name), args)
            #expect(run.status == 2, "\(name): \(run.stderr)")
            let first = run.stderr.split(separator: "\n").first.map(String.init) ?? ""
            #expect(first.contains("node '/body/s2d/Reshape'") && first.contains("H/2"), "\(first)")
        }
        #expect(!FileManager.default.fileExists(atPath: dir + "/out.tw"))
    }
}
