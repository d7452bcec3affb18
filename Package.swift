// swift-tools-version:6.0
// Outpost: an edge model-serving agent. No package dependencies: the toolchain, libsodium and libsystemd only.
// The targets are listed in dependency order; scripts/check-imports.py enforces it.
import PackageDescription

let strict: [SwiftSetting] = [.unsafeFlags(["-warnings-as-errors"])]
let strictC: [CSetting] = [.unsafeFlags(["-Wall", "-Wextra", "-Werror"])]

let package = Package(
    name: "Outpost",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "outpostd", targets: ["outpostd"]),
        .executable(name: "outpost", targets: ["outpost"]),
    ],
    targets: [
        // C shims and system libraries.
        .systemLibrary(name: "CSodium", pkgConfig: "libsodium", providers: [.apt(["libsodium-dev"])]),
        .systemLibrary(name: "CSystemd", pkgConfig: "libsystemd", providers: [.apt(["libsystemd-dev"])]),
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        .target(name: "CBuildInfo", cSettings: strictC),
        .target(name: "CPlatform", cSettings: strictC),
        .target(name: "CKernels", cSettings: strictC + [.unsafeFlags(["-O3"])], linkerSettings: [.linkedLibrary("m")]),
        // Foundations: the C library's one funnel, build facts, bounded parsers.
        .target(name: "Platform", dependencies: ["CPlatform"], swiftSettings: strict),
        .target(name: "BuildInfo", dependencies: ["CBuildInfo"], swiftSettings: strict),
        .target(name: "Arguments", swiftSettings: strict),
        .target(name: "JSON", swiftSettings: strict),
        .target(name: "Sodium", dependencies: ["CSodium"], swiftSettings: strict),
        // The numeric side: imports nothing from the systems side.
        .target(name: "GGUF", swiftSettings: strict),
        .target(name: "Kernels", dependencies: ["GGUF", "CKernels"], swiftSettings: strict),
        .target(name: "Tokenizer", dependencies: ["GGUF"], swiftSettings: strict),
        .target(name: "Inference", dependencies: ["GGUF", "Kernels", "CKernels", "Tokenizer"], swiftSettings: strict),
        // The systems side.
        .target(name: "Systemd", dependencies: ["CSystemd", "Platform"], swiftSettings: strict),
        .target(name: "Telemetry", dependencies: ["Platform", "JSON"], swiftSettings: strict),
        .target(name: "HTTP", dependencies: ["Platform"], swiftSettings: strict),
        .target(name: "Config", dependencies: ["Platform"], swiftSettings: strict),
        .target(name: "Bundles", dependencies: ["Platform", "JSON", "Sodium"], swiftSettings: strict),
        .target(name: "Store", dependencies: ["Platform", "JSON", "Sodium", "Bundles"], swiftSettings: strict),
        .target(name: "Net", dependencies: ["CCurl", "Platform"], swiftSettings: strict),
        .target(name: "Sync", dependencies: ["Platform", "JSON", "Sodium", "Bundles", "Net", "Telemetry"], swiftSettings: strict),
        .target(
            name: "Serving",
            dependencies: ["Platform", "Telemetry", "Config", "GGUF", "Tokenizer", "Inference"],
            swiftSettings: strict),
        // Wiring and the executables.
        .target(
            name: "Agent",
            dependencies: ["Platform", "BuildInfo", "Systemd", "HTTP", "JSON", "Telemetry", "Config", "Bundles", "Store", "Net", "Sync", "Serving", "Inference",
                           "Tokenizer"],
            swiftSettings: strict),
        .executableTarget(name: "outpostd", dependencies: ["Agent", "Arguments", "BuildInfo", "Config", "Platform"], swiftSettings: strict),
        .executableTarget(
            name: "outpost",
            dependencies: ["Platform", "Arguments", "BuildInfo", "Bundles", "Config", "Sodium", "HTTP", "JSON", "GGUF", "Kernels", "Tokenizer", "Inference", "Serving",
                           "Net", "Sync"],
            swiftSettings: strict),
        // Tests mirror the targets; TestKit holds what several of them share.
        .target(name: "TestKit", path: "Tests/TestKit", swiftSettings: strict),
        .testTarget(name: "PlatformTests", dependencies: ["Platform", "TestKit"], swiftSettings: strict),
        .testTarget(name: "JSONTests", dependencies: ["JSON", "TestKit"], swiftSettings: strict),
        .testTarget(name: "SodiumTests", dependencies: ["Sodium"], swiftSettings: strict),
        .testTarget(name: "BundlesTests", dependencies: ["Bundles", "Sodium", "TestKit"], swiftSettings: strict),
        .testTarget(name: "StoreTests", dependencies: ["Store", "Bundles", "Sodium", "Platform", "TestKit"], swiftSettings: strict),
        .testTarget(
            name: "GGUFTests", dependencies: ["GGUF", "Platform", "TestKit"], resources: [.copy("Fixtures")],
            swiftSettings: strict),
        .testTarget(name: "KernelsTests", dependencies: ["Kernels", "GGUF", "TestKit"], exclude: ["Fixtures"], swiftSettings: strict),
        .testTarget(name: "TokenizerTests", dependencies: ["Tokenizer", "GGUF", "Platform", "TestKit"], swiftSettings: strict),
        .testTarget(name: "InferenceTests", dependencies: ["Inference", "CKernels", "GGUF", "Platform", "TestKit"], swiftSettings: strict),
        .testTarget(name: "SystemdTests", dependencies: ["Systemd", "Platform"], swiftSettings: strict),
        .testTarget(name: "TelemetryTests", dependencies: ["Telemetry", "Platform"], swiftSettings: strict),
        .testTarget(name: "HTTPTests", dependencies: ["HTTP", "Platform", "TestKit"], swiftSettings: strict),
        .testTarget(name: "ConfigTests", dependencies: ["Config", "Platform", "TestKit"], swiftSettings: strict),
        .testTarget(
            name: "ServingTests", dependencies: ["Serving", "Config", "Inference", "Tokenizer", "GGUF", "Telemetry", "TestKit"],
            swiftSettings: strict),
        .testTarget(name: "AgentTests", dependencies: ["Agent", "JSON", "Inference"], swiftSettings: strict),
    ]
)
