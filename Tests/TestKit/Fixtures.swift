// Where the repository's shared fixtures live (tests/fixtures/), found from this file's own path.
import Foundation

public enum Fixtures {
    /// The repository root.
    public static let repository = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// `tests/fixtures/<relative>`.
    public static func url(_ relative: String) -> URL {
        repository.appendingPathComponent("tests/fixtures/" + relative)
    }
}
