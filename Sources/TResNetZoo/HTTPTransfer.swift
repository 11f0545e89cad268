#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Foundation
import TResNetCore

/// One HTTP GET streamed through callbacks on a private serial queue (FoundationNetworking `URLSession`).
/// `run()` blocks until the transfer ends; callbacks may refuse the response or a chunk by throwing, which
/// cancels the transfer and makes `run()` rethrow that error.
final class HTTPTransfer: NSObject, URLSessionDataDelegate, @unchecked Sendable {
    /// Called once with the final response (after redirects); throw to refuse it.
    typealias ResponseHandler = (HTTPURLResponse) throws -> Void
    /// Called for each chunk of body bytes; throw to stop.
    typealias ChunkHandler = (UnsafeRawBufferPointer) throws -> Void

    private let request: URLRequest
    private let policy: DownloadPolicy
    private let onResponse: ResponseHandler
    private let onChunk: ChunkHandler
    private let finished = DispatchSemaphore(value: 0)
    // Mutated only on the session's serial delegate queue; read after `finished` is signalled.
    private var failure: Error?
    private(set) var response: HTTPURLResponse?

    init(request: URLRequest, policy: DownloadPolicy, onResponse: @escaping ResponseHandler,
         onChunk: @escaping ChunkHandler) {
        self.request = request
        self.policy = policy
        self.onResponse = onResponse
        self.onChunk = onChunk
    }

    /// Runs the transfer to its end. Throws the first refusal, or the transport error (`URLError`) if the
    /// connection failed or was cut.
    func run(timeout: TimeInterval) throws {
        let queue = OperationQueue()
        queue.maxConcurrentOperationCount = 1
        let config = URLSessionConfiguration.ephemeral
        config.timeoutIntervalForRequest = timeout
        config.requestCachePolicy = .reloadIgnoringLocalAndRemoteCacheData
        config.urlCache = nil
        config.httpCookieStorage = nil
        config.urlCredentialStorage = nil
        let session = URLSession(configuration: config, delegate: self, delegateQueue: queue)
        let task = session.dataTask(with: request)
        task.resume()
        finished.wait()
        session.finishTasksAndInvalidate()
        if let failure { throw failure }
    }

    private func fail(_ error: Error, _ task: URLSessionTask) {
        if failure == nil { failure = error }
        task.cancel()
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
                    newRequest request: URLRequest, completionHandler: @escaping (URLRequest?) -> Void) {
        guard let url = request.url else {
            fail(TResNetError(.network, format: "http", "redirect without a location"), task)
            completionHandler(nil)
            return
        }
        do {
            try policy.check(url)
            var next = request
            next.setValue(nil, forHTTPHeaderField: "Authorization")
            next.setValue(nil, forHTTPHeaderField: "Cookie")
            completionHandler(next)
        } catch {
            fail(error, task)
            completionHandler(nil)
        }
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
                    completionHandler: @escaping (URLSession.ResponseDisposition) -> Void) {
        guard let http = response as? HTTPURLResponse else {
            fail(TResNetError(.network, format: "http", "not an HTTP response"), dataTask)
            completionHandler(.cancel)
            return
        }
        self.response = http
        do {
            try onResponse(http)
            completionHandler(.allow)
        } catch {
            fail(error, dataTask)
            completionHandler(.cancel)
        }
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
        guard failure == nil else { return }
        do {
            try data.withUnsafeBytes { try onChunk($0) }
        } catch {
            fail(error, dataTask)
        }
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: Error?) {
        if let error, failure == nil { failure = error }
        finished.signal()
    }
}
