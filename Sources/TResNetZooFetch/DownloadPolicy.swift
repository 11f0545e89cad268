import Foundation
import TResNetCore

/// Which URLs a download may touch (docs/ROBUSTNESS.md A.9 #109, #116): HTTPS to an allowlisted host (the original
/// URL and every redirect), or plain HTTP only to a loopback address (a local mirror, the tests). No
/// credentials are ever sent.
public struct DownloadPolicy: Sendable, Hashable {
    /// Allowed host suffixes: `huggingface.co` admits `huggingface.co` and `cdn-lfs.huggingface.co`.
    public var allowedHostSuffixes: [String]
    /// Whether `http://127.0.0.1`, `http://[::1]` and `http://localhost` are allowed.
    public var allowLoopbackHTTP: Bool

    /// Hugging Face (and its CDN / xet bridge), GitHub release assets, the (dead) MIIL bucket.
    public static let standard = DownloadPolicy(
        allowedHostSuffixes: ["huggingface.co", "hf.co", "github.com", "githubusercontent.com", "aliyuncs.com"],
        allowLoopbackHTTP: true)

    static func isLoopback(_ host: String) -> Bool {
        host == "127.0.0.1" || host == "::1" || host == "[::1]" || host == "localhost"
    }

    /// Throws `.network` unless `url` may be fetched.
    public func check(_ url: URL) throws {
        guard let scheme = url.scheme?.lowercased(), let host = url.host?.lowercased(), !host.isEmpty else {
            throw TResNetError(.network, format: "http", "refusing '\(displaySafe(url.absoluteString))': no host")
        }
        if url.user != nil || url.password != nil {
            throw TResNetError(.network, format: "http", "refusing a URL with credentials: \(Self.safe(url))")
        }
        if Self.isLoopback(host) {
            guard scheme == "https" || (scheme == "http" && allowLoopbackHTTP) else {
                throw TResNetError(.network, format: "http", "refusing scheme '\(scheme)' for \(Self.safe(url))")
            }
            return
        }
        guard scheme == "https" else {
            throw TResNetError(
                .network, format: "http",
                "refusing plain \(scheme) to \(host): only HTTPS is used (\(Self.safe(url)))")
        }
        guard allowedHostSuffixes.contains(where: { host == $0 || host.hasSuffix("." + $0) }) else {
            throw TResNetError(
                .network, format: "http",
                "refusing host \(displaySafe(host)): not on the allowlist "
                    + "(\(allowedHostSuffixes.joined(separator: ", ")))")
        }
    }

    /// The URL without query string, escaped for display.
    static func safe(_ url: URL) -> String {
        var c = URLComponents(url: url, resolvingAgainstBaseURL: false)
        c?.query = nil
        c?.user = nil
        c?.password = nil
        return displaySafe(c?.string ?? url.absoluteString)
    }
}
