// Shared helpers for the test targets: fixture locations, manifest, CLI runner.
import TResNetKit
