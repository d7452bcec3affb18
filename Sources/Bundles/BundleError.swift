// Errors of the bundle tools. Verification names the check that failed first, so a site admin reads one line
// and knows what to look at.

public struct BundleError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The checks of `BundleVerifier`, in the order they run.
    public enum Check: String, Sendable, Equatable, CaseIterable {
        /// `oci-layout`, `index.json`, the OCI manifest and its descriptors: lengths, types, digests of small blobs.
        case layout
        /// Each signature blob parses as a minisign signature with a known algorithm.
        case signatureFormat = "signature-format"
        /// A signature's key id is one of the trusted keys.
        case trustedKey = "trusted-key"
        /// The signature over the `bundle.json` bytes, and its trusted comment.
        case signature
        /// Enough distinct trusted keys signed.
        case threshold
        /// `bundle.json` parses and says what a bundle must say.
        case manifest
        case expiry
        case agentVersion = "agent-version"
        /// The OCI manifest's layers are the ones `bundle.json` lists.
        case layers
        /// The model blob's size and SHA-256 are the ones `bundle.json` lists.
        case model
    }

    /// The failed check; nil for errors outside verification (a file that cannot be written, say).
    public let check: Check?
    public let message: String

    public init(_ check: Check?, _ message: String) {
        self.check = check
        self.message = message
    }

    public init(_ message: String) {
        self.init(nil, message)
    }

    public var description: String {
        guard let check else { return message }
        return "check '\(check.rawValue)' failed: \(message)"
    }
}
