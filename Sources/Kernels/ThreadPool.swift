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
}
