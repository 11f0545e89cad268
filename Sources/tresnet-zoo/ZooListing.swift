import Foundation
import TResNetZooFetch
import _CLISupport
import TResNetZoo

/// The text renderings of the catalog, and the rows of `tresnet-zoo list --json`.
enum ZooListing {
    struct Row: Encodable {
        var tag: String
        var architecture: String
        var dataset: String
        var pretrainDataset: String?
        var numClasses: Int
        var labelSet: String
        var inputSize: Int
        var top1: Double?
        var reportedTop1: Double?
        var semanticTop1: Double?
        /// From the Swift layer tree (`ArchitectureCost`); nil when unavailable.
        var parameters: Int?
        var gmacs: Double?
        var hubId: String?
        var defaultFile: String?
        var defaultFileSha256: String?
        var publisher: String
        /// Multi-label weights: the head (`ml_decoder` or `fc`), the authors' threshold and mAP.
        var head: String?
        var threshold: Double?
        var reportedMap: Double?
    }

    static func row(_ e: ZooEntry) -> Row {
        let cost = e.cost.flatMap { $0.parameters > 0 ? $0 : nil }
        return Row(
            tag: e.tag, architecture: e.architecture, dataset: e.dataset, pretrainDataset: e.pretrainDataset,
            numClasses: e.numClasses, labelSet: e.labelSet, inputSize: e.inputSize, top1: e.top1,
            reportedTop1: e.reportedTop1, semanticTop1: e.semanticTop1, parameters: cost?.parameters,
            gmacs: cost.map { (Double($0.macs) / 1e7).rounded() / 100 }, hubId: e.hubId,
            defaultFile: e.defaultFile?.url, defaultFileSha256: e.defaultFile?.sha256, publisher: e.publisher,
            head: e.head, threshold: e.threshold, reportedMap: e.reportedMap)
    }

    static func datasetLabel(_ e: ZooEntry) -> String {
        let short = ["imagenet-1k": "in1k", "imagenet-21k-p": "in21k-p"]
        let head = short[e.dataset] ?? e.dataset
        return e.pretrainDataset.map { (short[$0] ?? $0) + ">" + head } ?? head
    }

    static func top1Label(_ e: ZooEntry) -> String {
        if let t = e.top1 { return String(format: "%.2f", t) }
        if let r = e.reportedTop1 { return String(format: "%.1f*", r) }
        if let s = e.semanticTop1 { return String(format: "%.1f sem", s) }
        if let m = e.reportedMap { return String(format: "%.1f mAP", m) }
        return "-"
    }

    static func table(_ entries: [ZooEntry]) -> String {
        var rows: [[String]] = [["tag", "arch", "dataset", "classes", "res", "top-1", "params", "GMACs"]]
        for e in entries {
            let r = row(e)
            rows.append([
                e.tag, e.architecture, datasetLabel(e), "\(e.numClasses)", "\(e.inputSize)", top1Label(e),
                r.parameters.map { String(format: "%.2fM", Double($0) / 1e6) } ?? "n/a",
                r.gmacs.map { String(format: "%.2f", $0) } ?? "n/a"
            ])
        }
        let widths = (0..<rows[0].count).map { c in rows.map { $0[c].count }.max() ?? 0 }
        let right: Set<Int> = [3, 4, 5, 6, 7]
        var out = ""
        for (i, row) in rows.enumerated() {
            let cells = row.enumerated().map { c, text -> String in
                let pad = String(repeating: " ", count: widths[c] - text.count)
                return right.contains(c) ? pad + text : text + pad
            }
            out += cells.joined(separator: "  ").trimmingCharacters(in: .whitespaces) + "\n"
            if i == 0 { out += widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ") + "\n" }
        }
        out += """

            top-1: ImageNet-1K val, timm's evaluation with the timm cfg (results-imagenet.csv); * = the authors' \
            number; sem = ImageNet-21K-P semantic top-1 (MIIL; a different measure, not comparable with the others); \
            mAP = the authors' mean average precision of a multi-label head (ml_decoder/*, asl/*: MS-COCO or \
            OpenImages, docs/MULTILABEL.md). params / GMACs: computed from the layer tree at the entry's resolution. \
            miil/* links are dead (HTTP 403): fetch the timm tag with the same weights.

            """
        return out
    }

    static func card(_ e: ZooEntry, pins: [String: PinStore.Pin]) -> String {
        var out = ""
        func line(_ k: String, _ v: String) { out += k.padding(toLength: 20, withPad: " ", startingAt: 0) + v + "\n" }
        func src(_ key: String) -> String { (e.sources[key] ?? nil).map { "    source: \($0)\n" } ?? "" }
        out += "\(e.tag)\n"
        line("publisher", e.publisher)
        if !e.aliases.isEmpty { line("aliases", e.aliases.joined(separator: ", ")) }
        line("architecture", e.architecture + (e.configuration.map { " — \($0)" } ?? ""))
        out += src("architecture")
        if let c = e.cost, c.parameters > 0 {
            line(
                "cost",
                String(
                    format: "%d parameters, %.2f GMACs at %d×%d (layer tree)", c.parameters,
                    Double(c.macs) / 1e9, e.inputSize, e.inputSize))
        } else {
            line("cost", "n/a (the layer-tree cost is not available in this build)")
        }
        line("dataset", e.dataset + (e.pretrainDataset.map { " (pretrained on \($0))" } ?? ""))
        out += src("dataset")
        let names =
            (try? LabelNames.load(e.labelSet)).map { set in
                " — " + set.names.prefix(3).map { "\"\($0)\"" }.joined(separator: ", ") + ", …"
            } ?? ""
        line("classes", "\(e.numClasses), label set \(e.labelSet)\(names)")
        if e.dataset == "imagenet-21k-p" {
            out +=
                "    21K logits were trained with a per-hierarchy-level (semantic) softmax; a global softmax "
                + "is not how the model was trained.\n"
        }
        if e.isMultiLabel {
            line(
                "multi-label",
                "\(e.head == "ml_decoder" ? "ML-Decoder head" : "fc head"), sigmoid per class, threshold "
                    + "\(e.threshold ?? 0)" + (e.reportedMap.map { String(format: ", mAP %.1f (authors)", $0) } ?? ""))
            out += src("head") + src("threshold") + src("reported_map")
        }
        line("input", "\(e.inputSize)×\(e.inputSize) RGB")
        let p = e.preprocessing
        line("preprocessing", "RGB/255, mean \(p.mean), std \(p.std), \(p.interpolation), crop_pct \(p.cropPct)")
        if p.resize == p.officialResize {  // the MIIL originals and the multi-label weights: one policy
            line("  resize", p.resize.description)
        } else {
            line("  resize (timm)", p.resize.description)
            line("  resize (authors)", p.officialResize.description)
        }
        out += src("official_resize")
        if let t = e.top1 {
            line(
                "top-1 (timm eval)",
                String(format: "%.3f", t) + (e.top5.map { String(format: " (top-5 %.3f)", $0) } ?? ""))
        }
        out += src("top1")
        if let r = e.reportedTop1 { line("top-1 (authors)", String(format: "%.1f", r)) }
        out += src("reported_top1")
        if let n = e.reportedNote { line("note", n) }
        if let s = e.semanticTop1 { line("21K semantic top-1", String(format: "%.1f", s)) }
        out += src("semantic_top1_21k")
        if let same = e.sameWeightsAs { line("same weights as", same + " (fetch that tag)") }
        if let hub = e.hubId { line("hub id", hub) }
        for (heading, list) in [("files", e.files), ("resources", e.resources ?? [])] where !list.isEmpty {
            out += heading + "\n"
            for f in list {
                out +=
                    "  \(f.name)  [\(f.status.rawValue), \(f.format), "
                    + (f.naming == "semantic-tree" ? "semantic tree for --semantic-tree" : "\(f.naming) naming")
                    + (f.wrapper.map { ", wrapper ['\($0)']" } ?? "") + (f.approxSize.map { ", ~\($0)" } ?? "") + "]\n"
                out += "    url     \(f.url)\n"
                if let s = f.sha256 {
                    out += "    sha256  \(s)\n    source  \(f.sha256Source ?? "")\n"
                } else if let pin = pins["\(HubCache.repository(of: e))/\(f.name)"] {
                    out +=
                        "    sha256  \(pin.sha256) (pinned in this cache on first fetch, \(pin.recordedAt); not published)\n"
                } else {
                    out += "    sha256  unknown (no public source states it; the first fetch pins it)\n"
                }
                if f.sha256 == nil, let note = f.sha256Note { out += "    note    \(note)\n" }
                if let prefix = f.sha256Prefix {
                    out +=
                        "    prefix  \(prefix) (8-hex sha256 prefix in the file name; \(f.sha256PrefixSource ?? ""))\n"
                }
                if let status = f.statusSource, f.status != .live { out += "    status  \(status)\n" }
            }
        }
        return out
    }
}
