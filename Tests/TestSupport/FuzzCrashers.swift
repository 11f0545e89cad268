import Foundation

/// The inputs kept in `Fuzz/crashers/<target>/` (every input a fuzz target ever crashed on), for replay tests.
public enum FuzzCrashers {
    public struct Input: Sendable, CustomStringConvertible {
        public let target: String
        public let path: String
        public var bytes: [UInt8] { Array((try? Data(contentsOf: URL(fileURLWithPath: path))) ?? Data()) }
        public var description: String { target + "/" + (path.split(separator: "/").last.map(String.init) ?? path) }
    }

    /// The kept inputs of `targets`, sorted by path.
    public static func inputs(_ targets: [String]) -> [Input] {
        let root = FixturePaths.root + "/Fuzz/crashers"
        return targets.flatMap { target -> [Input] in
            let dir = root + "/" + target
            let names = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
            return names.filter { !$0.hasPrefix(".") }.sorted().map { Input(target: target, path: dir + "/" + $0) }
        }
    }
}
