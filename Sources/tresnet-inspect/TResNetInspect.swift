import Foundation
import _CLISupport

/// `tresnet-inspect FILE [--json] [--key K]`: what a checkpoint holds, without loading a model.
@main
struct TResNetInspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tresnet-inspect",
        abstract: "List the tensors in a checkpoint (.pth/.pt zip or legacy, .safetensors, .npz, .onnx, .tw): "
            + "container, wrapper, prefix, names, dtypes, shapes, bytes, parameter count.",
        discussion: """
            A .tw file also shows its typed metadata (configuration, preprocessing, label set, provenance); an \
            ONNX model its opset, producer and whether BatchNorm was folded. The format is recognised by its \
            first bytes, never by the extension.
            """)

    @Argument(help: "The file.")
    var file: String

    @Flag(name: .long, help: "Print JSON instead of text.")
    var json = false

    @OptionGroup var checkpoint: CheckpointOptions

    func run() throws {
        try runMain("tresnet-inspect") {
            let (loaded, tw) = try ModelSource.read(path: file, key: checkpoint.key)
            let report = InspectReport(loaded, tw: tw)
            if json {
                try printJSON(report)
            } else {
                print(report.text, terminator: "")
            }
        }
    }
}
