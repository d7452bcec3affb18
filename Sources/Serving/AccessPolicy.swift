// Who may use a model or the admin routes, decided from SO_PEERCRED (never from anything the client says).
import Platform

public struct AccessPolicy: Sendable {
    public let uids: Set<UInt32>
    public let gids: Set<UInt32>
    /// For messages: the names the policy was built from.
    public let description: String

    /// Users and groups by name; names that do not exist on this system are reported in `missing`.
    public init(users: [String], groups: [String], missing: inout [String]) {
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
    public func allows(_ peer: PeerCredentials?) -> Bool {
        guard let peer else { return false }
        if peer.uid == 0 || uids.contains(peer.uid) || gids.contains(peer.gid) { return true }
        guard !gids.isEmpty else { return false }
        return !gids.isDisjoint(with: Users.groups(ofUID: peer.uid))
    }
}
