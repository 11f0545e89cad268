import Foundation
import TestSupport
import Testing
import TResNetCore
@testable import TResNetZoo
@testable import TResNetZooFetch

/// docs/ROBUSTNESS.md A.9 #111: two fetches of one file at once (two downloaders sharing a cache) both end with the
/// verified file and leave no temporary behind.
@Suite struct ConcurrentFetchTests {
    @Test func twoFetchesAtOnceBothVerifyAndLeaveNothing() throws {
        let server = try LocalHTTPServer()
        defer { server.stop() }
        server.set("/m", .init(body: FetchTests.body))
        let cache = FixturePaths.temporaryDirectory("zoo-concurrent")
        let file = ZooFile(name: "model.safetensors", url: server.url("/m"), sha256: FetchTests.digest)
        let results = Results()
        DispatchQueue.concurrentPerform(iterations: 2) { _ in
            var fetcher = ZooFetcher(cacheDirectory: cache)
            fetcher.timeout = 20
            do {
                let r = try fetcher.fetch(repository: "test.concurrent", file: file)
                results.add(r.sha256)
            } catch {
                results.add("error: \(error)")
            }
        }
        #expect(results.values == [FetchTests.digest, FetchTests.digest], "\(results.values)")
        let left = FetchTests.leftovers(cache, "test.concurrent")
        #expect(left == FetchTests.fetched(), "\(left)")
        #expect(
            try ZooFetcher.digest(of: cache + "/models--test.concurrent/snapshots/main/model.safetensors").0
                == FetchTests.digest)
    }

    final class Results: @unchecked Sendable {
        private let lock = NSLock()
        private var list: [String] = []
        func add(_ s: String) { lock.lock(); list.append(s); lock.unlock() }
        var values: [String] { lock.lock(); defer { lock.unlock() }; return list }
    }
}
