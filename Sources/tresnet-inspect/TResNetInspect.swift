import Foundation
import _CLISupport
import TResNetCheckpoint
import TResNetCore

/// `tresnet-inspect FILE [--json] [--tree] [--key K | --ema] [--prefix P] [--strict-pickle]`: what a checkpoint holds, without loading a model.
@main
struct TResNetInspect: ParsableCommand {
    static func main() { mainReportingJSON() }

    static let configuration = CommandConfiguration(
        commandName: "tresnet-inspect",
        abstract: "List the tensors in a checkpoint (.pth/.pt zip or legacy, .safetensors, .npz, .onnx, .tw): "
            + "container, wrapper, prefix, names, dtypes, shapes, bytes, parameter count.",
        discussion: """
            A .tw file also shows its typed metadata (configuration, preprocessing, label set, provenance); an \
            ONNX model its opset, producer and whether BatchNorm was folded. The format is recognised by its \
            first bytes, never by the extension.

            EXAMPLES:
              tresnet-inspect tresnet_m.pth
              tresnet-inspect model.tw --json
              tresnet-inspect checkpoint.pth --tree
              tresnet-inspect train_state.pth --ema --report tensors.json
            """,
        version: toolkitVersion)

    @Argument(help: "The file.")
    var file: String

    @OptionGroup var output: ReportOptions

    @Flag(help: "Replace an existing --report file.")
    var force = false

    @Flag(
        name: .long,
        help:
            "Print the object tree of the file's pickle (containers, opaque classes with their module paths, tensors with dtype and shape) instead of the tensor list."
    )
    var tree = false

    @OptionGroup var checkpoint: CheckpointOptions

    @OptionGroup var zoo: ZooSourceOptions

    func run() throws {
        try runMain("tresnet-inspect", json: output.json) {
            let reportFile = try output.reportFile(force: force)
            let file = try zoo.resolve(file)
            if tree {
                guard
                    let text = try CheckpointReader.objectTree(
                        path: try ModelSource.weightsPath(file),
                        strictPickle: checkpoint.strictPickle)
                else {
                    throw TResNetError(
                        .usage,
                        "--tree shows the object tree of a pickle (.pth, .pt, .ckpt, .bin); "
                            + "this file holds none", file: file)
                }
                print(text, terminator: "")
                return
            }
            let opened = try ModelSource.openSource(path: file, options: checkpoint.reading)
            let report = InspectReport(opened.checkpoint, tw: opened.tw, hub: opened.hub)
            try output.emit(report, to: reportFile) { print(report.text, terminator: "") }
        }
    }
}
