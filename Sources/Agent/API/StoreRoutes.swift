// /v1/admin/... routes of the model store, for root and members of [access] admin_group only:
//   POST /v1/admin/bundles[?allow_downgrade=1]      the body is a bundle tar: verify, store, smoke-test, activate
//   GET  /v1/admin/versions[?model=NAME]            installed versions, which is active, who installed them
//   POST /v1/admin/activate {"model","version"}     activate an installed version (after its smoke test)
//   POST /v1/admin/rollback {"model"}               back to the previous good version (same check)
//   POST /v1/admin/remove {"model","version"}       remove an installed version that is not active
//   GET  /v1/admin/sync                             the release channel followed, downloads, last error
//   POST /v1/admin/sync                             check the channel now
import Bundles
import HTTP
import JSON
import Platform
import Serving
import Store
import Sync

enum StoreRoutes {
    static let uploadPath = "/v1/admin/bundles"

    static func add(to router: inout Router, admin: BundleAdmin?, closedReason: String, sync: SyncEngine?,
                    allowed: @escaping @Sendable (HTTPRequest, ResponseWriter, String) -> Bool) {
        router.add(.get, "/v1/admin/sync") { request, writer in
            guard allowed(request, writer, "sync") else { return }
            guard let sync else {
                writer.respond(.json(.ok, "{\"enabled\":false,\"reason\":\"no [sync] registry is configured, or the store is closed (see the journal)\"}"))
                return
            }
            writer.respond(.json(.ok, JSONWriter.encode(sync.current)))
        }
        router.add(.post, "/v1/admin/sync") { request, writer in
            guard allowed(request, writer, "sync") else { return }
            guard let sync else {
                writer.respond(.error(.serviceUnavailable, "sync is off: no [sync] registry is configured, or the store is closed", code: "sync_off"))
                return
            }
            sync.checkNow()
            writer.respond(.json(.ok, "{\"triggered\":true}"))
        }
        @Sendable func open(_ writer: ResponseWriter) -> BundleAdmin? {
            guard let admin else {
                writer.respond(.error(.serviceUnavailable, "the model store is not open: \(closedReason)", code: "store_closed"))
                return nil
            }
            return admin
        }
        router.add(.post, uploadPath) { request, writer in
            guard allowed(request, writer, "install"), let admin = open(writer) else { return }
            guard let upload = request.upload else {
                writer.respond(.error(.badRequest, "send the bundle (a tar, as outpost bundle create --output FILE.tar writes it) as the request body"))
                return
            }
            let allowDowngrade = request.queryValue("allow_downgrade") == "1"
            admin.run("install", request.peer, writer: writer) { () throws(BundleAdmin.Failure) in
                // The upload's file lives as long as `upload` does.
                try withExtendedLifetime(upload) { () throws(BundleAdmin.Failure) in
                    try admin.install(upload.path, allowDowngrade: allowDowngrade, actor: BundleAdmin.actor(request.peer))
                }
            }
        }
        router.add(.get, "/v1/admin/versions") { request, writer in
            guard allowed(request, writer, "versions"), let admin = open(writer) else { return }
            writer.respond(.json(.ok, BundleAdmin.versions(admin.store, model: request.queryValue("model").map(String.init))))
        }
        router.add(.post, "/v1/admin/activate") { request, writer in
            guard allowed(request, writer, "activate"), let admin = open(writer) else { return }
            guard let (model, version) = modelAndVersion(request, writer) else { return }
            admin.run("activate", request.peer, writer: writer) { () throws(BundleAdmin.Failure) in
                try admin.activate(model: model, version: version, actor: BundleAdmin.actor(request.peer))
            }
        }
        router.add(.post, "/v1/admin/rollback") { request, writer in
            guard allowed(request, writer, "rollback"), let admin = open(writer) else { return }
            let model: String
            do throws(JSONFieldError) {
                let body = try JSONObjectReader(parsing: request.body)
                model = try body.required("model", body.string)
            } catch {
                writer.respond(.error(.badRequest, error.message))
                return
            }
            admin.run("rollback", request.peer, writer: writer) { () throws(BundleAdmin.Failure) in
                try admin.rollback(model: model, actor: BundleAdmin.actor(request.peer))
            }
        }
        router.add(.post, "/v1/admin/remove") { request, writer in
            guard allowed(request, writer, "remove"), let admin = open(writer) else { return }
            guard let (model, version) = modelAndVersion(request, writer) else { return }
            admin.run("remove", request.peer, writer: writer) { () throws(BundleAdmin.Failure) in
                try admin.remove(model: model, version: version)
            }
        }
    }

    static func modelAndVersion(_ request: HTTPRequest, _ writer: ResponseWriter) -> (String, SemanticVersion)? {
        do throws(JSONFieldError) {
            let body = try JSONObjectReader(parsing: request.body)
            let model = try body.required("model", body.string)
            let text = try body.required("version", body.string)
            guard let version = SemanticVersion(text) else { throw JSONFieldError("field 'version' must be MAJOR.MINOR.PATCH, got '\(text.prefix(40))'") }
            return (model, version)
        } catch {
            writer.respond(.error(.badRequest, error.message))
            return nil
        }
    }
}
