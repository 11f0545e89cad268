#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Foundation
import TResNetCore

/// One HTTP GET streamed through callbacks on a private serial queue (FoundationNetworking `URLSession`).
/// `run()` blocks until the transfer ends; callbacks may refuse the response or a chunk by throwing, which
/// cancels the transfer and makes `run()` rethrow that error.
final class HTTPTransfer: NSObject, URLSessionDataDelegate, @unchecked Sendable {
    private let request: URLRequest
    private let policy: DownloadPolicy
    /// Called once with the final response (after redirects); throw to refuse it.
    private let onResponse: (HTTPURLResponse) throws -> Void
    private let onRedirect: (HTTPURLResponse) -> Void
    /// Called for each chunk of body bytes; throw to stop.
    private let onChunk: (UnsafeRawBufferPointer) throws -> Void
    private let finished = DispatchSemaphore(value: 0)
    // Mutated only on the session's serial delegate queue; read after `finished` is signalled.
    private var failure: Error?
    private(set) var response: HTTPURLResponse?

    init(
        request: URLRequest, policy: DownloadPolicy, onRedirect: @escaping (HTTPURLResponse) -> Void = { _ in },
        onResponse: @escaping (HTTPURLResponse) throws -> Void,
        onChunk: @escaping (UnsafeRawBufferPointer) throws -> Void
    ) {
        self.request = request
        self.policy = policy
        self.onRedirect = onRedirect
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

    private func record(_ error: Error) {
        if failure == nil { failure = error }
    }

    // Each callback answers its completion handler exactly once and never also cancels the task from inside a
    // redirect or response callback: swift-corelibs-foundation traps ("Received callback for HTTP redirection,
    // but we're not waiting for it") when a task is cancelled before the handler is called.

    func urlSession(
        _ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
        newRequest request: URLRequest, completionHandler: @escaping (URLRequest?) -> Void
    ) {
        onRedirect(response)
        guard let url = request.url else {
            record(TResNetError(.network, format: "http", "redirect without a location"))
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
            // Not followed: the redirect response itself arrives next and is cancelled there.
            record(error)
            completionHandler(nil)
        }
    }

    func urlSession(
        _ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
        completionHandler: @escaping (URLSession.ResponseDisposition) -> Void
    ) {
        guard failure == nil else {
            completionHandler(.cancel)
            return
        }
        guard let http = response as? HTTPURLResponse else {
            record(TResNetError(.network, format: "http", "not an HTTP response"))
            completionHandler(.cancel)
            return
        }
        self.response = http
        do {
            try onResponse(http)
            completionHandler(.allow)
        } catch {
            record(error)
            completionHandler(.cancel)
        }
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
        guard failure == nil else { return }
        do {
            try data.withUnsafeBytes { try onChunk($0) }
        } catch {
            record(error)
            dataTask.cancel()
        }
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: Error?) {
        if let error, failure == nil { failure = error }
        finished.signal()
    }
}
