// Routes that exist only when $OUTPOST_DEBUG_ROUTES=1: the tests use them to hold a request open during
// shutdown and to freeze the serving loop so that the watchdog fires. Never enabled by configuration.
import Dispatch
import HTTP
import Platform

enum DebugRoutes {
    static let environmentVariable = "OUTPOST_DEBUG_ROUTES"

    static func add(to router: inout Router) {
        // Answers after `seconds`, off the loop thread, like a slow inference request.
        router.add(.get, "/v1/debug/sleep") { request, writer in
            let seconds = min(Double(request.queryValue("seconds") ?? "1") ?? 1, 300)
            DispatchQueue.global().asyncAfter(deadline: .now() + seconds) {
                writer.respond(.json(.ok, "{\"slept\":\(seconds)}"))
            }
        }
        // Blocks the serving loop itself for `seconds`: a hung loop, which the watchdog must catch.
        router.add(.post, "/v1/debug/freeze") { request, writer in
            let seconds = min(Double(request.queryValue("seconds") ?? "1") ?? 1, 3600)
            Clock.sleep(seconds: seconds)
            writer.respond(.json(.ok, "{\"froze\":\(seconds)}"))
        }
    }
}
