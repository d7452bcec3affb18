// swift-tools-version:6.0
// Outpost: an edge model-serving agent. No package dependencies: the toolchain, libsodium and libsystemd only.
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
        .systemLibrary(name: "CSodium", pkgConfig: "libsodium", providers: [.apt(["libsodium-dev"])]),
        .systemLibrary(name: "CSystemd", pkgConfig: "libsystemd", providers: [.apt(["libsystemd-dev"])]),
        .target(name: "CBuildInfo", cSettings: strictC),
        .target(name: "CPlatform", cSettings: strictC),
        .target(name: "Platform", dependencies: ["CPlatform"], swiftSettings: strict),
        .target(name: "GGUF", swiftSettings: strict),
        .target(name: "JSON", swiftSettings: strict),
        .target(name: "CKernels", cSettings: strictC + [.unsafeFlags(["-O3"])], linkerSettings: [.linkedLibrary("m")]),
        .target(name: "Kernels", dependencies: ["GGUF", "CKernels"], swiftSettings: strict),
        .target(name: "Systemd", dependencies: ["CSystemd", "Platform"], swiftSettings: strict),
        .target(name: "Telemetry", dependencies: ["Platform"], swiftSettings: strict),
        .target(name: "HTTP", dependencies: ["Platform"], swiftSettings: strict),
        .target(
            name: "Agent",
            dependencies: ["Platform", "Systemd", "HTTP", "JSON", "Telemetry", "CBuildInfo", "GGUF", "Kernels", "Tokenizer", "Inference"],
            swiftSettings: strict),
        .executableTarget(name: "outpostd", dependencies: ["Agent"], swiftSettings: strict),
        .executableTarget(name: "outpost", dependencies: ["Agent", "HTTP"], swiftSettings: strict),
        .testTarget(name: "PlatformTests", dependencies: ["Platform"], swiftSettings: strict),
        .testTarget(
            name: "GGUFTests", dependencies: ["GGUF", "Platform"], resources: [.copy("Fixtures")],
            swiftSettings: strict),
        .testTarget(name: "KernelsTests", dependencies: ["Kernels", "GGUF"], exclude: ["Fixtures"], swiftSettings: strict),
        .target(name: "Tokenizer", dependencies: ["GGUF"], swiftSettings: strict),
        .target(name: "Inference", dependencies: ["GGUF", "Kernels", "CKernels", "Tokenizer"], swiftSettings: strict),
        .testTarget(name: "TokenizerTests", dependencies: ["Tokenizer", "GGUF", "Platform"], swiftSettings: strict),
        .testTarget(name: "InferenceTests", dependencies: ["Inference", "CKernels", "GGUF", "Platform"], swiftSettings: strict),
        .testTarget(name: "SystemdTests", dependencies: ["Systemd", "Platform"], swiftSettings: strict),
        .testTarget(name: "TelemetryTests", dependencies: ["Telemetry"], swiftSettings: strict),
        .testTarget(name: "HTTPTests", dependencies: ["HTTP", "Platform"], swiftSettings: strict),
        .testTarget(name: "JSONTests", dependencies: ["JSON"], swiftSettings: strict),
        .testTarget(name: "AgentTests", dependencies: ["Agent"], swiftSettings: strict),
    ]
)
