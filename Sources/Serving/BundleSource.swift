// Where models configured with `bundle = "NAME"` come from: the active version of an installed bundle. The agent
// wires the store in; without one, such models cannot load and say why.

public protocol BundleSource: Sendable {
    /// The active version of bundle `name`, decrypted and opened, and its version text.
    func openActive(_ name: String) throws(ServingError) -> (file: ModelFile, version: String)
    /// The version `openActive` would open now (a loaded model whose version differs is reloaded).
    func activeVersion(_ name: String) -> String?
}

/// The source used when the store could not be opened: every bundle model fails with the reason.
public struct UnavailableBundles: BundleSource {
    public let reason: String
    public init(reason: String) { self.reason = reason }
    public func openActive(_ name: String) throws(ServingError) -> (file: ModelFile, version: String) {
        throw ServingError("bundle \(name) cannot be served: \(reason)")
    }
    public func activeVersion(_ name: String) -> String? { nil }
}
