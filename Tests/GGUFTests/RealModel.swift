// Finding and opening the real Gemma 3 270M file the tests read (scripts/fetch-model.sh puts it in place).
import Foundation
import GGUF
import Platform
import Synchronization
import XCTest

enum RealModel {
    struct Missing: Error, CustomStringConvertible {
        let path: String
        var description: String {
            "the real test model is not at \(path): run scripts/fetch-model.sh (or point OUTPOST_TEST_MODEL at "
                + "gemma-3-270m-q4_k_m.gguf; OUTPOST_SKIP_REAL_MODEL=1 skips these tests)"
        }
    }

    /// The model's path; skips only when OUTPOST_SKIP_REAL_MODEL=1, and fails (never skips) when it is missing.
    static func path() throws -> String {
        let environment = ProcessInfo.processInfo.environment
        if environment["OUTPOST_SKIP_REAL_MODEL"] == "1" {
            throw XCTSkip("OUTPOST_SKIP_REAL_MODEL=1")
        }
        let cache = environment["OUTPOST_CACHE"] ?? (environment["HOME"] ?? "/root") + "/.cache/outpost"
        let path = environment["OUTPOST_TEST_MODEL"] ?? cache + "/models/gemma-3-270m-q4_k_m.gguf"
        guard FileManager.default.fileExists(atPath: path) else { throw Missing(path: path) }
        return path
    }

    /// The mapped model, parsed once and shared by the tests in this process.
    static func open() throws -> GGUFFile {
        let path = try path()
        return try cache.withLock { cached in
            if let cached { return cached }
            let mapped = try MappedFile(path: path)
            let file = try GGUFFile(bytes: mapped.bytes, owner: mapped)
            cached = file
            return file
        }
    }

    private static let cache = Mutex<GGUFFile?>(nil)
}
