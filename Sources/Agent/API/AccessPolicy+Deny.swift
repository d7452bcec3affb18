// Refusing a request that an access policy does not allow: the audit record and the 403.
import Dispatch
import HTTP
import Platform
import Serving
import Telemetry

extension AccessPolicy {
    /// Refuses a request this policy does not allow: an audit record (uid, pid, executable of the peer) and a 403
    /// saying who may. `what` completes "may not use ..."; `event` names the audit event, `summary` starts the log line.
    /// The audit record is made durable (the telemetry spool fsyncs it) before the 403 goes out, on a queue of its
    /// own: a client flooding refused requests never makes the serving loop wait for the disk.
    func deny(_ peer: PeerCredentials?, what: String, event: String, summary: String, fields: [LogField], writer: ResponseWriter,
              logger: LoggerBox) {
        let allowed = description
        AuditQueue.queue.async {
            let exe = peer.flatMap { ProcessStats.executablePath(of: $0.pid) } ?? "-"
            logger.current.warning("\(summary): \(what)", [LogField("AUDIT", event)] + fields + [
                LogField("PEER_UID", peer.map { String($0.uid) } ?? "-"), LogField("PEER_PID", peer.map { String($0.pid) } ?? "-"),
                LogField("PEER_EXE", exe),
            ])
            writer.respond(.error(.forbidden, "uid \(peer.map { String($0.uid) } ?? "unknown") may not use \(what) (allowed: root, \(allowed))",
                                  type: "permission_error", code: "access_denied"))
        }
    }
}

/// Where audit records of refusals are written, one at a time, off the serving loop.
enum AuditQueue {
    static let queue = DispatchQueue(label: "outpost.audit")
}
