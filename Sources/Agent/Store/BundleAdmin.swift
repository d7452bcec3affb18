// What the admin routes do to the store, one operation at a time on one queue: install a bundle (verify while
// storing), activate a version only after its smoke test gives the recorded text, roll back, remove, list. Every
// change is an audit record (who, what, result) and is counted; a failure leaves the active version as it was.
import BuildInfo
import Bundles
import Config
import Dispatch
import HTTP
import JSON
import Platform
import Serving
import Store
import Telemetry

struct BundleAdmin: Sendable {
    let store: Store
    let logger: LoggerBox
    /// The configuration in force (it changes on reload).
    let config: @Sendable () -> Config
    /// Brings the served models in line with the store's active versions; runs `done` after.
    let refresh: @Sendable (@escaping @Sendable () -> Void) -> Void
    let operations: CounterFamily
    let queue = DispatchQueue(label: "outpost.store")

    struct Failure: Error {
        let status: HTTPStatus
        let message: String
        init(_ status: HTTPStatus, _ message: String) {
            self.status = status
            self.message = message
        }
    }

    static func actor(_ peer: PeerCredentials?) -> String {
        guard let peer else { return "unknown" }
        return "uid \(peer.uid) pid \(peer.pid) exe \(ProcessStats.executablePath(of: peer.pid) ?? "-")"
    }

    /// Runs `work` on the store's queue, audits and counts it, and answers on `writer`.
    func run(_ operation: String, _ peer: PeerCredentials?, writer: ResponseWriter,
             _ work: @escaping @Sendable () throws(Failure) -> (summary: String, json: String)) {
        queue.async {
            let actor = Self.actor(peer)
            let fields = [LogField("AUDIT", "store_\(operation)"), LogField("PEER_UID", peer.map { String($0.uid) } ?? "-"),
                          LogField("PEER_PID", peer.map { String($0.pid) } ?? "-"), LogField("ACTOR", actor)]
            do throws(Failure) {
                let (summary, json) = try work()
                operations.labels(operation, "ok").inc()
                logger.current.notice("\(operation): \(summary) (by \(actor))", fields + [LogField("RESULT", "ok")])
                refresh { writer.respond(.json(.ok, json)) }
            } catch {
                operations.labels(operation, "failed").inc()
                logger.current.warning("\(operation) refused: \(error.message) (by \(actor))", fields + [LogField("RESULT", "failed")])
                writer.respond(.error(error.status, error.message, code: "store_\(operation)_failed"))
            }
        }
    }

    /// Runs `work` on the store's queue and waits: audited and counted like a route's operation, the served models
    /// refreshed after a success (for the sync engine).
    func perform(_ operation: String, actor: String, _ work: () throws(Failure) -> (summary: String, json: String)) throws(Failure) {
        var failure: Failure?
        queue.sync {
            let fields = [LogField("AUDIT", "store_\(operation)"), LogField("ACTOR", actor)]
            do throws(Failure) {
                let (summary, _) = try work()
                operations.labels(operation, "ok").inc()
                logger.current.notice("\(operation): \(summary) (by \(actor))", fields + [LogField("RESULT", "ok")])
                refresh {}
            } catch {
                operations.labels(operation, "failed").inc()
                logger.current.warning("\(operation) refused: \(error.message) (by \(actor))", fields + [LogField("RESULT", "failed")])
                failure = error
            }
        }
        if let failure { throw failure }
    }

    // MARK: - Operations (on the queue)

    func install(_ path: String, allowDowngrade: Bool, actor: String) throws(Failure) -> (summary: String, json: String) {
        let config = config()
        let reader: BundleReader
        let preview: BundleManifest
        do {
            reader = try BundleReader(path: path)
            // What it claims to be, to refuse a downgrade before any work; everything is verified by the install.
            preview = try BundleManifest(parsing: try BundleContents(reader).bundleJSON)
        } catch let error as BundleError {
            throw Failure(.badRequest, "the bundle was refused: \(error)")
        } catch {
            throw Failure(.badRequest, "the bundle was refused: bundle.json: \(error)")
        }
        if let active = store.active(preview.name), preview.version < active.version, !allowDowngrade {
            throw Failure(.conflict, "\(preview.name) \(preview.version) is older than the active \(active.version); install it with --allow-downgrade")
        }
        let verifier: BundleVerifier
        do {
            verifier = try AgentStore.verifier(config)
        } catch {
            throw Failure(.internalServerError, "cannot read the trusted keys: \(error)")
        }
        let record: VersionRecord
        do {
            record = try store.install(reader, verifier: verifier, by: actor, minFreeBytes: Int64(config.minFreeMiB) << 20, now: Int64(Clock.wallSeconds()))
        } catch {
            let status: HTTPStatus = error.message.hasPrefix("not enough space") ? .insufficientStorage
                : error.message.contains("already installed") ? .conflict : .unprocessable
            throw Failure(status, error.message)
        }
        let smoke = try activate(record, actor: actor)
        let pruned = (try? store.prune(keep: config.keepVersions)) ?? []
        let json = JSONWriter.encode(InstallAnswer(model: record.model, version: record.version.description, active: true,
                                                   signedBy: record.signedBy, smokeTest: smoke, removed: pruned.map { $0.version.description }))
        return ("\(record.model) \(record.version) installed and active (signed by \(record.signedBy.joined(separator: ", ")))", json)
    }

    /// Loads `record` beside what is serving, runs its smoke test, and makes it active only when the text matches;
    /// otherwise marks it failed and leaves the active version alone.
    func activate(_ record: VersionRecord, actor: String) throws(Failure) -> String {
        guard let manifest = record.manifest else { throw Failure(.unprocessable, "\(record.model) \(record.version): bundle.json does not parse") }
        let smoke = manifest.smokeTest
        let text: String
        do {
            let file = try ModelFile(mapping: try store.load(record, threads: SystemInfo.cpuCount))
            text = try SmokeTest.greedyText(file, prompt: smoke.prompt, maxTokens: smoke.maxTokens, threads: SystemInfo.cpuCount)
        } catch {
            try? store.markFailed(record.model, record.version, reason: "does not load: \(error)")
            throw Failure(.unprocessable, "\(record.model) \(record.version) does not load: \(error); the active version is unchanged")
        }
        guard text == smoke.expected else {
            let reason = "smoke test failed: \(quoted(smoke.prompt)) gave \(quoted(text)), bundle.json recorded \(quoted(smoke.expected))"
            try? store.markFailed(record.model, record.version, reason: reason)
            throw Failure(.unprocessable, "\(record.model) \(record.version): \(reason); the active version is unchanged")
        }
        do {
            try store.activate(record.model, record.version, by: actor, now: Int64(Clock.wallSeconds()))
        } catch {
            throw Failure(.internalServerError, "\(error)")
        }
        return "passed: \(quoted(smoke.prompt)) -> \(quoted(text))"
    }

    func activate(model: String, version: SemanticVersion, actor: String) throws(Failure) -> (summary: String, json: String) {
        guard let record = store.record(model, version) else { throw Failure(.notFound, "\(model) \(version) is not installed") }
        guard record.status == .ready else { throw Failure(.conflict, "\(model) \(version) failed its checks (\(record.failure ?? "")); reinstall it") }
        if store.active(model)?.version == version { throw Failure(.conflict, "\(model) \(version) is already active") }
        let smoke = try activate(record, actor: actor)
        return ("\(model) \(version) active", JSONWriter.encode(ActivateAnswer(model: model, version: version.description, smokeTest: smoke)))
    }

    func rollback(model: String, actor: String) throws(Failure) -> (summary: String, json: String) {
        guard let current = store.active(model) else { throw Failure(.notFound, "\(model) has no active version") }
        guard let target = store.rollbackTarget(model) else {
            throw Failure(.conflict, "\(model) has no earlier good version to roll back to (installed: \(store.versions(of: model).map { $0.version.description }.joined(separator: ", ")))")
        }
        let smoke = try activate(target, actor: actor)
        return ("\(model) rolled back from \(current.version) to \(target.version)",
                JSONWriter.encode(ActivateAnswer(model: model, version: target.version.description, smokeTest: smoke)))
    }

    func remove(model: String, version: SemanticVersion) throws(Failure) -> (summary: String, json: String) {
        do {
            try store.remove(model, version)
        } catch {
            throw Failure(error.message.contains("is active") ? .conflict : .notFound, error.message)
        }
        return ("\(model) \(version) removed", "{\"removed\":true}")
    }

    static func versions(_ store: Store, model: String?) -> String {
        let rows = store.versions(of: model).map { record in
            VersionRow(model: record.model, version: record.version.description, active: store.active(record.model)?.version == record.version,
                       status: record.status.rawValue, failure: record.failure, signedBy: record.signedBy, modelSHA256: record.modelSHA256,
                       modelSize: record.modelSize, installedAt: record.installedAt, installedBy: record.installedBy,
                       activatedAt: record.activatedAt, activatedBy: record.activatedBy)
        }
        return JSONWriter.encode(rows)
    }

    private func quoted(_ text: String) -> String { JSONWriter.encode([text]).dropFirst().dropLast().description }
}

struct InstallAnswer: Encodable {
    let model: String
    let version: String
    let active: Bool
    let signedBy: [String]
    let smokeTest: String
    let removed: [String]
    enum CodingKeys: String, CodingKey {
        case model, version, active, removed
        case signedBy = "signed_by"
        case smokeTest = "smoke_test"
    }
}

struct ActivateAnswer: Encodable {
    let model: String
    let version: String
    let smokeTest: String
    enum CodingKeys: String, CodingKey {
        case model, version
        case smokeTest = "smoke_test"
    }
}

struct VersionRow: Encodable {
    let model: String
    let version: String
    let active: Bool
    let status: String
    let failure: String?
    let signedBy: [String]
    let modelSHA256: String
    let modelSize: Int64
    let installedAt: String
    let installedBy: String
    let activatedAt: String?
    let activatedBy: String?
    enum CodingKeys: String, CodingKey {
        case model, version, active, status, failure
        case signedBy = "signed_by"
        case modelSHA256 = "model_sha256"
        case modelSize = "model_size"
        case installedAt = "installed_at"
        case installedBy = "installed_by"
        case activatedAt = "activated_at"
        case activatedBy = "activated_by"
    }
}
