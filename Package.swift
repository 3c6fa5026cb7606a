// swift-tools-version:6.0
import PackageDescription

let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "swansible",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "SwansibleCore", targets: ["SwansibleCore"]),
        .executable(name: "swansible", targets: ["SwansibleCLI"]),
        .executable(name: "swansible-api-example", targets: ["SwansibleExample"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.1.0"),
    ],
    targets: [
        // C libraries from Debian's libssh2-1-dev and libyaml-dev. Only SwansibleSSH and
        // SwansibleYAML import them.
        .systemLibrary(
            name: "CLibSSH2", pkgConfig: "libssh2",
            providers: [.apt(["libssh2-1-dev"]), .brew(["libssh2"])]),
        .systemLibrary(
            name: "CLibYAML", pkgConfig: "yaml-0.1",
            providers: [.apt(["libyaml-dev"]), .brew(["libyaml"])]),

        // The value model shared by YAML, templating and the executor (Ansible's data: JSON plus order).
        .target(
            name: "SwansibleData",
            dependencies: [.product(name: "OrderedCollections", package: "swift-collections")],
            swiftSettings: strict),
        .target(name: "SwansibleYAML", dependencies: ["CLibYAML", "SwansibleData"], swiftSettings: strict),
        .target(name: "SwansibleSSH", dependencies: ["CLibSSH2"], swiftSettings: strict),
        .target(name: "SwansibleTemplate", dependencies: ["SwansibleData", "SwansibleYAML"], swiftSettings: strict),
        .target(
            name: "SwansibleCore",
            dependencies: ["SwansibleData", "SwansibleYAML", "SwansibleSSH", "SwansibleTemplate"],
            swiftSettings: strict),
        .executableTarget(
            name: "SwansibleCLI",
            dependencies: [
                "SwansibleCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict),

        // The embedding example of the docs (the seed's scenario as a program).
        .executableTarget(
            name: "SwansibleExample", dependencies: ["SwansibleCore", "SwansibleData"], swiftSettings: strict),

        // Measures the SSH engine on the test hosts; run by the benchmark scripts, never by tests.
        .executableTarget(
            name: "SwansibleBench", dependencies: ["SwansibleSSH", "SwansibleData", "SwansibleCore"], swiftSettings: strict),

        .testTarget(name: "SwansibleDataTests", dependencies: ["SwansibleData"]),
        .testTarget(name: "SwansibleYAMLTests", dependencies: ["SwansibleYAML"]),
        .testTarget(
            name: "SwansibleTemplateTests", dependencies: ["SwansibleTemplate", "SwansibleCore"], exclude: ["Fixtures"]),
        .testTarget(name: "SwansibleCoreTests", dependencies: ["SwansibleCore"], exclude: ["Fixtures"]),
        .testTarget(name: "SwansibleSSHKeyTests", dependencies: ["SwansibleSSH"]),
        // Over real sshd test hosts (Tests/hosts/testhosts): SSH engine, modules, executor, CLI.
        .testTarget(name: "SwansibleIntegrationTests", dependencies: ["SwansibleCore", "SwansibleSSH", "SwansibleTemplate"]),
    ],
    swiftLanguageModes: [.v6]
)
