import Foundation
import TestSupport
import Testing
import TResNetCore
import TResNetModel
@testable import TResNetZoo

@Suite struct CatalogTests {
    let catalog = ZooCatalog.shared

    @Test func embeddedCatalogMatchesZooFolder() throws {
        let file = try #require(FileManager.default.contents(atPath: FixturePaths.root + "/Zoo/catalog.json"))
        let onDisk = try ZooCatalog.decode(file)
        #expect(onDisk.entries == catalog.entries, "regenerate with Zoo/make_catalog.py")
        let table = try #require(FileManager.default.contents(atPath: FixturePaths.root + "/Zoo/paper_table.json"))
        let a = try JSONSerialization.jsonObject(with: table) as? NSDictionary
        let b = try JSONSerialization.jsonObject(with: Data(CatalogData.paperTableJSON.utf8)) as? NSDictionary
        #expect(a == b)
        #expect(PaperTable.shared?.tables.count == 2)
    }

    @Test func everyTimmTagIsPresent() {
        let timmTags = Set(catalog.entries.filter { $0.publisher == "timm" }.map(\.tag))
        #expect(
            timmTags == [
                "tresnet_m.miil_in21k_ft_in1k", "tresnet_m.miil_in21k", "tresnet_m.miil_in1k",
                "tresnet_m.miil_in1k_448",
                "tresnet_l.miil_in1k", "tresnet_l.miil_in1k_448", "tresnet_xl.miil_in1k", "tresnet_xl.miil_in1k_448",
                "tresnet_v2_l.miil_in21k", "tresnet_v2_l.miil_in21k_ft_in1k"
            ])
        #expect(catalog.entries.filter { $0.publisher == "Alibaba-MIIL" && !$0.isMultiLabel }.count == 8)
        #expect(catalog.entries.filter(\.isMultiLabel).count == 8)
    }

    @Test func tagsAndAliasesAreUnique() {
        var seen: [String: String] = [:]
        for e in catalog.entries {
            for name in [e.tag] + e.aliases {
                #expect(seen[name] == nil || seen[name] == e.tag, "\(name) names \(seen[name] ?? "") and \(e.tag)")
                seen[name] = e.tag
            }
        }
    }

    @Test func entriesAreConsistent() throws {
        for e in catalog.entries where !e.isMultiLabel {
            #expect(TResNetConfiguration.variant(e.architecture) != nil, "\(e.tag): unknown architecture")
            let classes = try #require(catalog.labelSets[e.labelSet], "\(e.tag): unknown label set")
            #expect(classes == e.numClasses, "\(e.tag): label set \(e.labelSet) has \(classes) classes")
            #expect(try LabelNames.load(e.labelSet).count == e.numClasses)
            if e.dataset == "imagenet-21k-p" {
                #expect(e.numClasses == 11221 && e.labelSet == "imagenet-21k-miil", "\(e.tag)")
                #expect(e.semanticTop1 != nil && e.top1 == nil, "\(e.tag): 21K heads carry the semantic top-1")
            } else {
                #expect(e.numClasses == 1000 && e.labelSet == "imagenet-1k", "\(e.tag)")
            }
            #expect([224, 448].contains(e.inputSize))
            #expect(e.tag.hasSuffix("448") == (e.inputSize == 448), "\(e.tag)")
            let p = e.preprocessing
            #expect(p.mean == [0, 0, 0] && p.std == [1, 1, 1], "\(e.tag): TResNets take RGB/255 only")
            #expect(
                p.cropPct > 0 && p.cropPct <= 1 && !p.interpolation.rawValue.isEmpty && !p.cropMode.rawValue.isEmpty)
            #expect(["shorter-side-then-center-crop", "squash"].contains(p.resize.kind))
            #expect(["shorter-side-then-center-crop", "squash"].contains(p.officialResize.kind))
            if e.inputSize == 448 || e.dataset == "imagenet-21k-p" {
                #expect(p.officialResize.kind == "squash", "\(e.tag): the authors squash 448 and 21K inputs")
            }
            #expect(!e.files.isEmpty)
            if e.publisher == "timm" {
                #expect(e.hubId == "timm/" + e.tag)
                #expect(e.defaultFile?.url == "https://huggingface.co/timm/\(e.tag)/resolve/main/model.safetensors")
            } else {
                #expect(e.sameWeightsAs.flatMap { catalog.entry(named: $0) }?.architecture == e.architecture)
                #expect(e.files.allSatisfy { $0.status == .dead })
            }
            for key in ["architecture", "num_classes", "preprocessing", "official_resize"] {
                #expect((e.sources[key] ?? nil) != nil, "\(e.tag): no source for \(key)")
            }
            if e.top1 != nil { #expect((e.sources["top1"] ?? nil) != nil) }
            if e.reportedTop1 != nil { #expect((e.sources["reported_top1"] ?? nil) != nil) }
        }
    }

    /// The multi-label weights (docs/MULTILABEL.md): ML-Decoder and ASL heads on MS-COCO (coco-80 names) and
    /// OpenImages (names from the checkpoint), squashed RGB/255 input, the authors' threshold, unverified links.
    @Test func multiLabelEntriesAreConsistent() throws {
        let entries = catalog.entries.filter(\.isMultiLabel)
        #expect(Set(entries.map { $0.tag.split(separator: "/")[0] }) == ["ml_decoder", "asl"])
        for e in entries {
            #expect(TResNetConfiguration.variant(e.architecture) != nil, "\(e.tag): unknown architecture")
            #expect(["ml_decoder", "fc"].contains(e.head), "\(e.tag)")
            #expect((e.head == "ml_decoder") == (e.groups != nil), "\(e.tag): groups go with an ML-Decoder head")
            #expect(e.configuration?.isMLDecoder == (e.head == "ml_decoder"), "\(e.tag)")
            try e.configuration?.mlDecoder?.validate(classes: e.numClasses)
            #expect(e.preprocessingConfig == .officialSquash(inputSize: e.inputSize), "\(e.tag)")
            if e.dataset == "ms-coco-2014" {
                #expect(e.numClasses == 80 && e.labelSet == "coco-80", "\(e.tag)")
                #expect(try LabelNames.forHead(e.labelSet, numClasses: e.numClasses).names.first == "person")
            } else {
                #expect(e.dataset == "openimages-v6" && e.numClasses == 9605 && e.labelSet.isEmpty, "\(e.tag)")
            }
            #expect(e.files.count == 1 && e.files.allSatisfy { $0.status == .unverified && $0.wrapper == "model" })
            #expect(e.defaultFile == e.files.first, "\(e.tag): an unverified link is tried")
            for key in ["head", "threshold", "preprocessing", "url"] {
                #expect((e.sources[key] ?? nil) != nil, "\(e.tag): no source for \(key)")
            }
            if e.reportedMap != nil { #expect((e.sources["reported_map"] ?? nil) != nil) }
        }
    }

    @Test func checksumsAreCitedAndWellFormed() {
        let hex = Set("0123456789abcdef")
        var published = 0
        for e in catalog.entries {
            for f in e.files {
                #expect(f.url.hasPrefix("https://"), "\(e.tag)/\(f.name)")
                if let s = f.sha256 {
                    published += 1
                    #expect(s.count == 64 && s.allSatisfy(hex.contains), "\(e.tag)/\(f.name)")
                    #expect(f.sha256Source?.hasPrefix("https://huggingface.co/") == true)
                }
                if let p = f.sha256Prefix {
                    #expect(p.count == 8 && p.allSatisfy(hex.contains))
                    #expect(f.name.contains("-\(p)."), "a prefix comes from the file name")
                    #expect(f.sha256PrefixSource != nil)
                }
                if f.status == .dead { #expect(f.url.contains("aliyuncs.com")) }
            }
        }
        #expect(published == 4)
    }

    /// Every file of every timm tag on the hub either has its full sha256 (with its source) or says per file that
    /// none was found (`sha256_note`); never both, never neither.
    @Test func everyHubFileHasItsSHA256OrSaysNoneWasFound() {
        var notes = 0
        for e in catalog.entries where e.publisher == "timm" {
            for f in e.files where f.url.hasPrefix("https://huggingface.co/") {
                #expect((f.sha256 == nil) == (f.sha256Note != nil), "\(e.tag)/\(f.name)")
                if let note = f.sha256Note {
                    notes += 1
                    #expect(note.contains("\(e.hubId ?? "?")/\(f.name)"), "\(note)")
                }
            }
            #expect(e.defaultFile?.sha256 != nil || e.defaultFile?.sha256Note != nil, "\(e.tag)")
        }
        #expect(notes == 16)  // 20 hub files (10 tags × model.safetensors, pytorch_model.bin), 4 published
    }

    @Test func lookupByTagAliasAndFileName() {
        #expect(catalog.entry(named: "tresnet_m")?.tag == "tresnet_m.miil_in21k_ft_in1k")
        #expect(catalog.entry(named: "tresnet_v2_l")?.tag == "tresnet_v2_l.miil_in21k_ft_in1k")
        #expect(catalog.entry(named: "tresnet_m_448")?.tag == "tresnet_m.miil_in1k_448")
        #expect(catalog.entry(named: "tresnet_m_miil_in21k")?.tag == "tresnet_m.miil_in21k")
        #expect(catalog.entry(named: "tresnet_l_v2_miil_21k.pth")?.tag == "miil/tresnet_l_v2_miil_21k")
        #expect(catalog.entry(named: "tresnet_m.pth")?.tag == "miil/tresnet_m")
        #expect(catalog.entry(named: "tresnet_xl_82_0-a2d51b00.pth")?.tag == "tresnet_xl.miil_in1k")
        #expect(catalog.entry(named: "timm/tresnet_l.miil_in1k_448")?.tag == "tresnet_l.miil_in1k_448")
        #expect(catalog.entry(named: "TRESNET_XL.MIIL_IN1K")?.tag == "tresnet_xl.miil_in1k")
        #expect(catalog.entry(named: "resnet50") == nil)
        #expect(throws: TResNetError.self) { try catalog.require("tresnet_q") }
    }

    @Test func filters() {
        // with the multi-label entries: ml_decoder/tresnet_l_coco_448 is a v2_l; two xl heads on COCO
        #expect(catalog.entries(architecture: "tresnet_v2_l").count == 4)
        #expect(catalog.entries(architecture: "xl").count == 6)
        #expect(catalog.entries(dataset: "coco").count == 6 && catalog.entries(dataset: "openimages").count == 2)
        #expect(
            catalog.entries(dataset: "in21k").map(\.tag).sorted() == [
                "miil/tresnet_l_v2_miil_21k", "miil/tresnet_m_miil_21k", "tresnet_m.miil_in21k",
                "tresnet_m.miil_in21k_ft_in1k", "tresnet_v2_l.miil_in21k", "tresnet_v2_l.miil_in21k_ft_in1k"
            ])
        #expect(catalog.entries(architecture: "m", dataset: "imagenet-1k").count == 5)
    }
}

@Suite struct LabelNamesTests {
    @Test func sizes() throws {
        #expect(try LabelNames.load("imagenet-1k").count == 1000)
        #expect(try LabelNames.load("imagenet-21k-miil").count == 11221)
        #expect(try LabelNames.load("imagenet-21k-miil-w21").count == 10450)
        #expect(throws: TResNetError.self) { try LabelNames.load("imagenet-22k") }
        #expect(throws: TResNetError.self) { try LabelNames.forHead("imagenet-21k-miil-w21", numClasses: 11221) }
    }

    @Test func embeddedLabelsMatchZooFolder() throws {
        for id in LabelNames.ids {
            let path = FixturePaths.root + "/Zoo/labels/\(id).txt"
            let text = try #require(
                FileManager.default.contents(atPath: path).map { String(decoding: $0, as: UTF8.self) })
            let onDisk = try LabelNames.parse(id: id, text: text)
            #expect(onDisk == (try LabelNames.load(id)), "regenerate with Zoo/make_labels.py")
            #expect(Set(onDisk.synsets).count == onDisk.count)
            if id == "coco-80" {  // COCO category ids 1…90 with ten gaps
                #expect(onDisk.synsets.compactMap { Int($0) }.count == 80 && onDisk.synsets.last == "90")
            } else {
                #expect(onDisk.synsets.allSatisfy { $0.count == 9 && $0.hasPrefix("n") })
            }
            #expect(onDisk.names.allSatisfy { !$0.isEmpty })
        }
    }

    @Test func namedGivesReadableNames() throws {
        let names = try LabelNames.named("imagenet-1k")
        #expect(names.count == 1000)
        let set = try LabelNames.load("imagenet-1k")
        #expect(set.synsets.first == "n01440764")  // ILSVRC-2012 class 0
        #expect(names.first?.hasPrefix("tench") == true)
    }
}
