import TResNetCore
import Foundation

/// A tiny HTTP/1.1 server on 127.0.0.1 (ephemeral port, one background thread, one connection at a time,
/// `Connection: close`) for download tests: it serves bodies, honours `Range`/`If-Range`, can cut a transfer
/// midway, ignore ranges, or answer 404. No Python, no network.
public final class LocalHTTPServer: @unchecked Sendable {
    public struct Route: Sendable {
        public var body: [UInt8]
        /// Send the headers and only this many body bytes on the first request for the path, then close.
        public var cutFirstAfter: Int?
        /// Answer `Range` requests with 206 (otherwise always 200 with the whole body).
        public var honorRange: Bool
        /// Strong validator sent as `ETag`; an `If-Range` that differs gets the whole body (200).
        public var etag: String?
        /// Extra response headers.
        public var extraHeaders: [(String, String)]
        /// Answer `302 Found` with this `Location` instead of the body.
        public var redirect: String?
        /// Send no `Content-Length` (the body ends when the connection closes).
        public var omitLength = false

        public init(
            body: [UInt8], cutFirstAfter: Int? = nil, honorRange: Bool = true, etag: String? = "\"v1\"",
            extraHeaders: [(String, String)] = [], redirect: String? = nil
        ) {
            self.body = body
            self.cutFirstAfter = cutFirstAfter
            self.honorRange = honorRange
            self.etag = etag
            self.extraHeaders = extraHeaders
            self.redirect = redirect
        }
    }

    /// One received request: path and lower-cased headers.
    public struct Request: Sendable {
        public let path: String
        public let headers: [String: String]
    }

    public let port: UInt16
    private let lock = NSLock()
    private var routes: [String: Route] = [:]
    private var cut: Set<String> = []
    private var received: [Request] = []
    private var listenFD: Int32
    private var stopped = false
    private let done = DispatchSemaphore(value: 0)

    public init() throws {
        let fd = SystemCall.streamSocket(family: AF_INET)
        guard fd >= 0 else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = 0
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0, listen(fd, 16) == 0 else {
            close(fd)
            throw POSIXError(.init(rawValue: errno) ?? .EIO)
        }
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
        }
        port = UInt16(bigEndian: addr.sin_port)
        listenFD = fd
        let thread = Thread { [self] in acceptLoop() }
        thread.start()
    }

    deinit { stop() }

    /// `http://127.0.0.1:<port><path>`.
    public func url(_ path: String) -> String { "http://127.0.0.1:\(port)\(path)" }

    public func set(_ path: String, _ route: Route) {
        lock.lock(); defer { lock.unlock() }
        routes[path] = route
        cut.remove(path)
    }

    /// Requests received so far.
    public var requests: [Request] {
        lock.lock(); defer { lock.unlock() }
        return received
    }

    /// Stops accepting; returns when the server thread has ended.
    public func stop() {
        lock.lock()
        if stopped { lock.unlock(); return }
        stopped = true
        let fd = listenFD
        lock.unlock()
        shutdown(fd, Int32(SHUT_RDWR))
        close(fd)
        done.wait()
    }

    private func acceptLoop() {
        while true {
            let c = accept(listenFD, nil, nil)
            if c < 0 {
                if errno == EINTR { continue }
                break
            }
            lock.lock()
            let isStopped = stopped
            lock.unlock()
            if isStopped { close(c); break }
            handle(c)
            close(c)
        }
        done.signal()
    }

    private func handle(_ c: Int32) {
        var data = [UInt8]()
        var buf = [UInt8](repeating: 0, count: 4096)
        while data.count < 65536 {
            let n = buf.withUnsafeMutableBytes { recv(c, $0.baseAddress, $0.count, 0) }
            if n <= 0 { return }
            data += buf[0..<n]
            if let text = String(bytes: data, encoding: .utf8), text.contains("\r\n\r\n") { break }
        }
        guard let text = String(bytes: data, encoding: .utf8) else { return }
        let lines = text.components(separatedBy: "\r\n")
        let parts = lines.first?.split(separator: " ") ?? []
        guard parts.count >= 2 else { return }
        let path = String(parts[1])
        var headers: [String: String] = [:]
        for line in lines.dropFirst() where !line.isEmpty {
            if let colon = line.firstIndex(of: ":") {
                headers[line[..<colon].lowercased()] = line[line.index(after: colon)...]
                    .trimmingCharacters(in: .whitespaces)
            }
        }
        lock.lock()
        received.append(Request(path: path, headers: headers))
        let route = routes[path]
        let cutNow = route?.cutFirstAfter != nil && !cut.contains(path)
        if cutNow { cut.insert(path) }
        lock.unlock()

        guard let route else {
            send(c, head: "404 Not Found", headers: [("Content-Length", "9")], body: Array("not found".utf8))
            return
        }
        if let location = route.redirect {
            send(
                c, head: "302 Found", headers: [("Location", location), ("Content-Length", "0")] + route.extraHeaders,
                body: [])
            return
        }
        var extra = route.extraHeaders
        if let etag = route.etag { extra.append(("ETag", etag)) }
        var start = 0
        if route.honorRange, !cutNow, let range = headers["range"], range.hasPrefix("bytes="),
            let from = Int(range.dropFirst(6).split(separator: "-").first ?? ""), from < route.body.count,
            headers["if-range"] == nil || headers["if-range"] == route.etag
        {
            start = from
        }
        let total = route.body.count
        if start > 0 {
            extra.append(("Content-Range", "bytes \(start)-\(total - 1)/\(total)"))
            extra.append(("Content-Length", "\(total - start)"))
            send(c, head: "206 Partial Content", headers: extra, body: Array(route.body[start...]))
        } else {
            if !route.omitLength { extra.append(("Content-Length", "\(total)")) }
            let body = cutNow ? Array(route.body.prefix(route.cutFirstAfter ?? 0)) : route.body
            send(c, head: "200 OK", headers: extra, body: body)
        }
    }

    private func send(_ c: Int32, head: String, headers: [(String, String)], body: [UInt8]) {
        var out = "HTTP/1.1 \(head)\r\n"
        for (k, v) in headers { out += "\(k): \(v)\r\n" }
        out += "Connection: close\r\n\r\n"
        var bytes = Array(out.utf8) + body
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeMutableBytes { buffer -> Int in
                guard let base = buffer.baseAddress else { return -1 }
                return SystemCall.send(c, base + offset, buffer.count - offset)
            }
            if n <= 0 { return }
            offset += n
        }
        shutdown(c, Int32(SHUT_WR))
    }
}
