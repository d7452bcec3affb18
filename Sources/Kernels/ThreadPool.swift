// The persistent worker threads that share out matrix products and element-wise steps.
import CKernels

/// Persistent worker threads for matrix products. The calling thread takes part, so `threads: 2` starts one
/// worker. Calls that share a pool run one at a time.
public final class ThreadPool: @unchecked Sendable {
    public let threadCount: Int
    public let handle: OpaquePointer

    /// - Parameter threads: threads taking part in each product, the caller included (at least 1).
    public init(threads: Int) {
        precondition(threads >= 1 && threads <= 1024, "ThreadPool needs 1...1024 threads, got \(threads)")
        guard let pool = ck_pool_create(Int32(threads)) else {
            preconditionFailure("ThreadPool: out of memory creating \(threads) threads")
        }
        handle = pool
        threadCount = Int(ck_pool_threads(pool))
    }

    deinit {
        ck_pool_destroy(handle)
    }

    /// Calls `body` on ranges that cover 0..<count, each at least `minChunk` long, on the pool's threads at once
    /// (the caller's among them). A count of at most `minChunk` runs on the caller alone, without waking anyone.
    /// `body` must not use the pool itself.
    public func forEachRange(_ count: Int, minChunk: Int, _ body: (Range<Int>) -> Void) {
        precondition(count >= 0 && minChunk >= 1, "forEachRange: count \(count), minChunk \(minChunk)")
        guard threadCount > 1, count > minChunk else {
            if count > 0 { body(0..<count) }
            return
        }
        withoutActuallyEscaping(body) { escapable in
            var closure = escapable
            withUnsafeMutablePointer(to: &closure) { pointer in
                let rc = ck_pool_for(handle, Int64(count), Int64(minChunk), { context, begin, end in
                    context!.assumingMemoryBound(to: ((Range<Int>) -> Void).self).pointee(Int(begin)..<Int(end))
                }, pointer)
                precondition(rc == CK_OK, "forEachRange failed: \(rc)")
            }
        }
    }
}
