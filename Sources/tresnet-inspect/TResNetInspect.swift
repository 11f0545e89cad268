import Foundation
import _CLISupport

/// `tresnet-inspect FILE [--json] [--key K]`: what a checkpoint holds, without loading a model.
@main
struct TResNetInspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tresnet-inspect",
        abstract: "List the tensors in a checkpoint (.pth/.pt zip or legacy, .safetensors): container, wrapper, "
            + "prefix, names, dtypes, shapes, bytes, parameter count.")

    @Argument(help: "The checkpoint file.")
    var file: String

    @Flag(name: .long, help: "Print JSON instead of text.")
    var json = false

    @OptionGroup var checkpoint: CheckpointOptions

    func run() throws {
        try runMain("tresnet-inspect") {
            let loaded = try CheckpointReader.read(path: file, key: checkpoint.key)
            let report = InspectReport(loaded)
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
                let data = try encoder.encode(report)
                print(String(decoding: data, as: UTF8.self))
            } else {
                print(report.text, terminator: "")
            }
        }
    }
}
