// The API socket: taken from systemd socket activation when present, else created at the configured path.
import Platform
import Systemd

struct ListeningSocket {
    let descriptor: FileDescriptor
    let path: String
    /// Passed in by systemd: the path belongs to the socket unit, so it is left in place on exit.
    let activated: Bool

    static func open(path: String, mode: UInt32) throws -> ListeningSocket {
        let passed = ListenFDs.take()
        if let fd = passed.first(where: UnixSocket.isListeningUnixStream) {
            for other in passed where other != fd { other.close() }
            return ListeningSocket(descriptor: fd, path: path, activated: true)
        }
        if !passed.isEmpty {
            throw ListeningSocketError(description: "systemd passed \(passed.count) descriptor(s) but none is a listening AF_UNIX stream socket")
        }
        let fd = try UnixSocket.listen(path: path, mode: mode)
        return ListeningSocket(descriptor: fd, path: path, activated: false)
    }

    func close() {
        descriptor.close()
        if !activated { UnixSocket.removeSocketFile(path) }
    }
}

/// systemd passed descriptors, none of them usable as the API socket.
struct ListeningSocketError: Error, CustomStringConvertible {
    let description: String
}
