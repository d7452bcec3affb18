// Who may use a model or the admin routes, decided from SO_PEERCRED (never from anything the client says).
import HTTP
import Platform
import Telemetry

struct AccessPolicy: Sendable {
    let uids: Set<UInt32>
    let gids: Set<UInt32>
    /// For messages: the names the policy was built from.
    let description: String

    /// Users and groups by name; names that do not exist on this system are reported in `missing`.
    init(users: [String], groups: [String], missing: inout [String]) {
        var uids = Set<UInt32>()
        var gids = Set<UInt32>()
        for user in users {
            if let uid = Users.uid(ofUser: user) { uids.insert(uid) } else { missing.append("user '\(user)'") }
        }
        for group in groups {
            if let gid = Users.gid(ofGroup: group) { gids.insert(gid) } else { missing.append("group '\(group)'") }
        }
        self.uids = uids
        self.gids = gids
        description = (users.map { "user \($0)" } + groups.map { "group \($0)" }).joined(separator: ", ")
    }

    /// Root always; otherwise a listed user, or a member of a listed group.
    func allows(_ peer: PeerCredentials?) -> Bool {
        guard let peer else { return false }
        if peer.uid == 0 || uids.contains(peer.uid) || gids.contains(peer.gid) { return true }
        guard !gids.isEmpty else { return false }
        return !gids.isDisjoint(with: Users.groups(ofUID: peer.uid))
    }
}

extension AccessPolicy {
    /// Refuses a request this policy does not allow: an audit record (uid, pid, executable of the peer) and a 403
    /// saying who may. `what` completes "may not use ..."; `event` names the audit event, `summary` starts the log line.
    func deny(_ peer: PeerCredentials?, what: String, event: String, summary: String, fields: [LogField], writer: ResponseWriter,
              logger: LoggerBox) {
        let exe = peer.flatMap { ProcessStats.executablePath(of: $0.pid) } ?? "-"
        logger.current.warning("\(summary): \(what)", [LogField("AUDIT", event)] + fields + [
            LogField("PEER_UID", peer.map { String($0.uid) } ?? "-"), LogField("PEER_PID", peer.map { String($0.pid) } ?? "-"),
            LogField("PEER_EXE", exe),
        ])
        writer.respond(.error(.forbidden, "uid \(peer.map { String($0.uid) } ?? "unknown") may not use \(what) (allowed: root, \(description))",
                              type: "permission_error", code: "access_denied"))
    }
}
