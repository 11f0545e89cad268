import Dispatch
import TResNetCore

/// The SHA-256 of a file, computed on another thread from the moment this is created; `wait()` returns it.
final class BackgroundSHA256: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    private var result: Result<String, any Error> = .success("")
    private var waited = false
    private let lock = DispatchQueue(label: "tresnet-kit.sha256")

    init(path: String) {
        DispatchQueue.global(qos: .userInitiated).async { [self] in
            result = Result { try SHA256Hex.of(file: path) }
            done.signal()
        }
    }

    func wait() throws -> String {
        try lock.sync {
            if !waited {
                done.wait()
                waited = true
            }
            return try result.get()
        }
    }
}
