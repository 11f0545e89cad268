import Foundation
import TResNetCore

/// A labelled image set in torchvision's `ImageFolder` layout: `root/<class>/**/<image>`. Classes are the
/// sub-folders of `root` in sorted order (class index = position), images are found as torchvision finds them:
/// `os.walk` (following links) in sorted order, files sorted by name, kept when the lower-cased name ends with
/// an image extension. Sorting compares Unicode code points, like Python.
public struct ImageFolder: Sendable {
    public struct Sample: Sendable, Equatable {
        /// The path relative to `root`, `/`-separated.
        public let relativePath: String
        public let classIndex: Int
    }

    public let root: String
    public let classes: [String]
    public let samples: [Sample]

    /// torchvision's `IMG_EXTENSIONS`. Only JPEG and PNG decode; files with the other extensions are listed as
    /// unreadable by a validation run, not skipped.
    public static let imageExtensions = [".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp"]

    /// The absolute (or root-based) path of a sample.
    public func path(of sample: Sample) -> String { root + "/" + sample.relativePath }

    /// Scans `root`.
    /// - Throws: `.io` when `root` is not a readable folder; `.usage` when it has no class folders or a class has
    ///   no image files (torchvision refuses both).
    public static func scan(root: String) throws -> ImageFolder {
        let fm = FileManager.default
        var isDir: ObjCBool = false
        guard fm.fileExists(atPath: root, isDirectory: &isDir), isDir.boolValue else {
            throw TResNetError.io(root, "not a folder")
        }
        let entries: [String]
        do { entries = try fm.contentsOfDirectory(atPath: root) } catch {
            throw TResNetError.io(root, "cannot list: \(error.localizedDescription)")
        }
        let classes = entries.filter { name in
            var d: ObjCBool = false
            return fm.fileExists(atPath: root + "/" + name, isDirectory: &d) && d.boolValue
        }.sorted(by: codePointLess)
        guard !classes.isEmpty else {
            throw TResNetError(
                .usage, "no class folders in \(displaySafe(root)) (expected root/<class>/<image>)",
                file: root)
        }
        var samples: [Sample] = []
        var empty: [String] = []
        for (index, name) in classes.enumerated() {
            let files = try walk(root: root, relative: name)
            let images = files.filter { file in
                let lower = file.lowercased()
                return imageExtensions.contains { lower.hasSuffix($0) }
            }
            if images.isEmpty { empty.append(name) }
            samples += images.map { Sample(relativePath: $0, classIndex: index) }
        }
        guard empty.isEmpty else {
            throw TResNetError(
                .usage,
                "no image files in class folder(s) "
                    + empty.map { displaySafe($0) }.joined(separator: ", "), file: root)
        }
        return ImageFolder(root: root, classes: classes, samples: samples)
    }

    /// Files under `root/relative`, in `sorted(os.walk(...))` order: folders by path, files by name within each.
    /// Symbolic links to folders are followed once (a link back up the tree is not entered again).
    static func walk(root: String, relative: String) throws -> [String] {
        let fm = FileManager.default
        var folders: [(path: String, files: [String])] = []
        var seen: Set<String> = []
        var stack = [relative]
        while let dir = stack.popLast() {
            let full = root + "/" + dir
            let real = URL(fileURLWithPath: full).resolvingSymlinksInPath().path
            guard seen.insert(real).inserted else { continue }
            guard let names = try? fm.contentsOfDirectory(atPath: full) else {
                throw TResNetError.io(full, "cannot list the folder")
            }
            var files: [String] = []
            for name in names {
                var d: ObjCBool = false
                if fm.fileExists(atPath: full + "/" + name, isDirectory: &d), d.boolValue {
                    stack.append(dir + "/" + name)
                } else {
                    files.append(name)
                }
            }
            folders.append((dir, files.sorted(by: codePointLess)))
        }
        folders.sort { codePointLess($0.path, $1.path) }
        return folders.flatMap { folder in folder.files.map { folder.path + "/" + $0 } }
    }
}

/// Python's string order: by Unicode code point.
func codePointLess(_ a: String, _ b: String) -> Bool {
    a.unicodeScalars.lexicographicallyPrecedes(b.unicodeScalars) { $0.value < $1.value }
}
