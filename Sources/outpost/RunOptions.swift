// Options shared by the commands that run a model file.
import Arguments
import Platform

/// Options shared by the commands that run a model.
struct RunOptions {
    var threads: Int
    var contextLength: Int?
    var batch: Int

    init(_ arguments: Arguments) throws(UsageError) {
        threads = try arguments.integer("threads") ?? SystemInfo.cpuCount
        guard threads >= 1 && threads <= 256 else { throw UsageError("--threads must be between 1 and 256") }
        contextLength = try arguments.integer("ctx")
        if let contextLength, contextLength < 1 { throw UsageError("--ctx must be positive") }
        batch = try arguments.integer("batch") ?? 64
        guard batch >= 1 && batch <= 4096 else { throw UsageError("--batch must be between 1 and 4096") }
    }
}
