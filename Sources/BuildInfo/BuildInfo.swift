// What this binary is: version, commit and how it was built (reported by `--version` and GET /v1/version).
import CBuildInfo

public enum BuildInfo {
    public static let version = "0.1.0"
    public static let commit = String(cString: outpost_build_commit())

    public static var configuration: String {
        #if DEBUG
        return "debug"
        #else
        return "release"
        #endif
    }

    public static var architecture: String {
        #if arch(x86_64)
        return "x86_64"
        #elseif arch(arm64)
        return "aarch64"
        #else
        return "unknown"
        #endif
    }

    public static var compiler: String {
        #if compiler(>=6.3)
        return "swift-6.3+"
        #elseif compiler(>=6.0)
        return "swift-6.x"
        #else
        return "swift-5"
        #endif
    }

    /// One line for `--version`.
    public static func versionLine(program: String) -> String {
        "\(program) \(version) (commit \(commit), \(configuration), \(architecture))"
    }
}
