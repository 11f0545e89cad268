import Foundation
import TResNetKit

// usage: ClassifyImage WEIGHTS IMAGE   (WEIGHTS: a .tw, .pth, .safetensors, .onnx, or a cached zoo tag)
let model = try TResNetClassifier(contentsOf: URL(fileURLWithPath: CommandLine.arguments[1]))
for c in try model.classify(imageAt: URL(fileURLWithPath: CommandLine.arguments[2])) {
    print(c.index, c.label ?? "-", String(format: "%.4f", c.probability))
}
