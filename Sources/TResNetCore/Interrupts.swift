/// What a CLI does on SIGINT or SIGTERM: remove the temporary files of the outputs it is writing (`AtomicFile`
/// registers each one), print one line saying what was interrupted, and exit 130 (SIGINT) or 143 (SIGTERM).
///
/// The handler only walks a fixed table of C strings prepared beforehand and calls `unlink`, `write` and
/// `_exit` — all async-signal-safe; it allocates nothing and takes no lock.
public enum Interrupts {
    static let slotCount = 64
    /// Per slot: the temporary path and the destination it stands for (malloc'ed C strings; nil when free).
    nonisolated(unsafe) static let temporaries: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?> = {
        let t = UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>.allocate(capacity: 2 * slotCount)
        t.initialize(repeating: nil, count: 2 * slotCount)
        return t
    }()
    /// "<tool>: interrupted by " and "<activity>", prepared by `install`.
    nonisolated(unsafe) static var prefix: UnsafeMutablePointer<CChar>?
    nonisolated(unsafe) static var activity: UnsafeMutablePointer<CChar>?
    static let lock = PthreadLock()

    /// Installs the handlers for SIGINT and SIGTERM (once per process; a later call changes the wording).
    /// - Parameters:
    ///   - tool: the command's name, first on the line.
    ///   - activity: what it was doing, e.g. "converting"; the line reads `TOOL: interrupted by SIGINT while
    ///     ACTIVITY[ (writing DEST; its temporary file was removed)]`.
    public static func install(tool: String, activity: String) {
        lock.withLock {
            _ = temporaries
            let oldPrefix = prefix, oldActivity = Interrupts.activity
            prefix = strdup("\(tool): interrupted by ")
            Interrupts.activity = strdup(" while " + activity)
            free(oldPrefix)
            free(oldActivity)
            var action = Platform.signalAction(handler)
            sigaddset(&action.sa_mask, SIGINT)
            sigaddset(&action.sa_mask, SIGTERM)
            action.sa_flags = 0
            sigaction(SIGINT, &action, nil)
            sigaction(SIGTERM, &action, nil)
            // a parent may have started us with them blocked (the mask is inherited): let them in on this thread
            var set = sigset_t()
            sigemptyset(&set)
            sigaddset(&set, SIGINT)
            sigaddset(&set, SIGTERM)
            pthread_sigmask(SIG_UNBLOCK, &set, nil)
        }
    }

    /// Registers something else to remove on an interrupt: a lock file, or a folder created for an output (removed
    /// only if empty by then). Entries are removed newest first, so a folder goes after what was made in it.
    /// Returns the slot to pass to `unregister` once the path is to be kept (nil when the table is full).
    public static func registerCleanup(_ path: String) -> Int? { register(temporary: path, destination: nil) }

    /// Forgets a slot of `registerCleanup` (the path is kept).
    public static func unregisterCleanup(_ slot: Int) { unregister(slot) }

    /// Registers a temporary file to remove on an interrupt; returns its slot (nil when the table is full).
    static func register(temporary: String, destination: String?) -> Int? {
        lock.withLock {
            for slot in 0..<slotCount where temporaries[2 * slot] == nil {
                temporaries[2 * slot + 1] = destination.flatMap { strdup($0) }
                temporaries[2 * slot] = strdup(temporary)
                return slot
            }
            return nil
        }
    }

    static func unregister(_ slot: Int) {
        lock.withLock {
            let t = temporaries[2 * slot], d = temporaries[2 * slot + 1]
            temporaries[2 * slot] = nil
            temporaries[2 * slot + 1] = nil
            free(t)
            free(d)
        }
    }

    private static let handler: @convention(c) (Int32) -> Void = { sig in
        func put(_ s: UnsafePointer<CChar>?) {
            guard let s else { return }
            _ = write(2, s, strlen(s))
        }
        var removed: UnsafeMutablePointer<CChar>?
        // newest first: a temporary file or a lock before the folder it is in
        var slot = Interrupts.slotCount
        while slot > 0 {
            slot -= 1
            guard let t = Interrupts.temporaries[2 * slot] else { continue }
            if unlink(t) != 0 { rmdir(t) }  // a registered folder: removed when empty
            if removed == nil { removed = Interrupts.temporaries[2 * slot + 1] }
        }
        put(Interrupts.prefix)
        put(sig == SIGINT ? "SIGINT" : "SIGTERM")
        put(Interrupts.activity)
        if let removed {
            put(" (writing ")
            put(removed)
            put("; its temporary file was removed)")
        }
        put("\n")
        _exit(128 + sig)
    }
}
