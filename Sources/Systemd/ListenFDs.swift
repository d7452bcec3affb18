// Sockets passed in by systemd socket activation ($LISTEN_FDS, $LISTEN_PID).
import CSystemd
import Platform

public enum ListenFDs {
    /// The descriptors passed to this process, starting at 3; empty when not socket-activated.
    /// The variables are unset so that child processes do not believe the sockets are theirs.
    public static func take() -> [FileDescriptor] {
        let count = sd_listen_fds(1)
        guard count > 0 else { return [] }
        return (0..<count).map { FileDescriptor(rawValue: SD_LISTEN_FDS_START + $0) }
    }
}
