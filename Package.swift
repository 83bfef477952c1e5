// swift-tools-version:6.1
import PackageDescription

/// Every target is built in Swift 6 language mode with the same settings.
/// `NonisolatedNonsendingByDefault` (SE-0461) makes async functions run on their caller's
/// executor instead of hopping to the global one: a call through the framework's layers
/// then costs no executor checks or thread switches between them. Functions that block
/// (file I/O) are marked `@concurrent`.
let swiftSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
    .enableUpcomingFeature("NonisolatedNonsendingByDefault"),
]

let nioCore = Target.Dependency.product(name: "NIOCore", package: "swift-nio")
let logging = Target.Dependency.product(name: "Logging", package: "swift-log")
let serviceLifecycle = Target.Dependency.product(name: "ServiceLifecycle", package: "swift-service-lifecycle")
let nioPosix = Target.Dependency.product(name: "NIOPosix", package: "swift-nio")
let argumentParser = Target.Dependency.product(name: "ArgumentParser", package: "swift-argument-parser")
let unixSignals = Target.Dependency.product(name: "UnixSignals", package: "swift-service-lifecycle")

let package = Package(
    name: "swift-micro",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "MicroCore", targets: ["MicroCore"]),
        .library(name: "Micro", targets: ["Micro"]),
        .library(name: "MicroMemory", targets: ["MicroMemory"]),
        .library(name: "CodecJSON", targets: ["CodecJSON"]),
        .library(name: "MicroTesting", targets: ["MicroTesting"]),
        .library(name: "RegistryFile", targets: ["RegistryFile"]),
        .library(name: "TransportTCP", targets: ["TransportTCP"]),
        .library(name: "SelectorCache", targets: ["SelectorCache"]),
        .library(name: "RegistryEtcd", targets: ["RegistryEtcd"]),
        .library(name: "BrokerHTTP", targets: ["BrokerHTTP"]),
        .executable(name: "micro", targets: ["MicroCLI"]),
        .executable(name: "greeter", targets: ["greeter"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
    ],
    targets: [
        // Protocols, value types, errors, options and the plugin registry. No I/O.
        .target(name: "MicroCore", dependencies: [nioCore, logging], swiftSettings: swiftSettings),
        // The runtime: services, RPC server and client, selection, lifecycle.
        .target(
            name: "Micro",
            dependencies: ["MicroCore", nioCore, logging, serviceLifecycle, unixSignals],
            swiftSettings: swiftSettings
        ),
        // Plugins.
        .target(name: "MicroMemory", dependencies: ["MicroCore", nioCore], swiftSettings: swiftSettings),
        .target(name: "CodecJSON", dependencies: ["MicroCore", nioCore], swiftSettings: swiftSettings),
        .target(name: "RegistryFile", dependencies: ["MicroCore", logging], swiftSettings: swiftSettings),
        .target(name: "TransportTCP", dependencies: ["MicroCore", nioCore, nioPosix, logging], swiftSettings: swiftSettings),
        .target(name: "SelectorCache", dependencies: ["MicroCore", logging], swiftSettings: swiftSettings),
        // etcd v3 through its HTTP/JSON gateway.
        .target(
            name: "RegistryEtcd",
            dependencies: [
                "MicroCore", nioCore, logging,
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: swiftSettings
        ),
        // go-micro's HTTP broker: subscribers serve HTTP/1.1 and register; publishers POST.
        .target(
            name: "BrokerHTTP",
            dependencies: [
                "MicroCore", nioCore, nioPosix, logging,
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: swiftSettings
        ),
        // Conformance suites for plugin authors.
        .target(name: "MicroTesting", dependencies: ["MicroCore", nioCore, logging], swiftSettings: swiftSettings),
        // The `micro` tool and the example service.
        .executableTarget(
            name: "MicroCLI",
            dependencies: [
                "Micro", "MicroCore", "MicroMemory", "CodecJSON", "RegistryFile", "TransportTCP", nioCore, logging, argumentParser,
                "RegistryEtcd", "SelectorCache", "BrokerHTTP", unixSignals,
            ],
            swiftSettings: swiftSettings
        ),
        // The smallest service, built without C headers by scripts/test.
        .executableTarget(
            name: "minimal",
            dependencies: ["Micro", "MicroCore", "CodecJSON", "RegistryFile", "TransportTCP", "SelectorCache"],
            path: "Examples/minimal",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "greeter",
            dependencies: [
                "Micro", "MicroCore", "MicroMemory", "CodecJSON", "RegistryFile", "TransportTCP", "RegistryEtcd", "SelectorCache",
                "BrokerHTTP", logging,
            ],
            path: "Examples/greeter",
            swiftSettings: swiftSettings
        ),

        .testTarget(name: "MicroCoreTests", dependencies: ["MicroCore", "MicroMemory", "MicroTesting", nioCore, logging], swiftSettings: swiftSettings),
        .testTarget(
            name: "MicroTests",
            dependencies: ["Micro", "MicroCore", "MicroMemory", "MicroTesting", "CodecJSON", "TransportTCP", nioCore, logging, serviceLifecycle],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "MicroMemoryTests",
            dependencies: ["MicroMemory", "MicroTesting", "MicroCore", nioCore],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "MicroTestingTests",
            dependencies: ["MicroTesting", "MicroMemory", "MicroCore", "CodecJSON", nioCore],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "CodecJSONTests",
            dependencies: ["CodecJSON", "MicroTesting", "MicroCore", nioCore],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "RegistryFileTests",
            dependencies: ["RegistryFile", "MicroTesting", "MicroCore", logging],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "MicroCLITests",
            dependencies: [
                "MicroCLI", "greeter", "MicroCore", "MicroTesting", "RegistryFile", "RegistryEtcd",
                // The rolling-shutdown test's client.
                "Micro", "TransportTCP", "CodecJSON", "SelectorCache", logging,
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SelectorCacheTests",
            dependencies: ["SelectorCache", "Micro", "MicroMemory", "MicroTesting", "MicroCore", "CodecJSON", logging, serviceLifecycle],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "TransportTCPTests",
            dependencies: ["TransportTCP", "MicroTesting", "MicroCore", nioCore, nioPosix, logging],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "RegistryEtcdTests",
            dependencies: [
                "RegistryEtcd", "MicroTesting", "MicroCore", nioCore, logging,
                // The cache selector and the runtime over a real etcd.
                "SelectorCache", "Micro", "TransportTCP", "CodecJSON", serviceLifecycle,
            ],
            swiftSettings: swiftSettings
        ),
            // A subscriber process for the cross-process broker tests.
        .executableTarget(
            name: "http-broker-subscriber",
            dependencies: ["BrokerHTTP", "RegistryFile", "RegistryEtcd", "MicroCore", nioCore, logging],
            path: "Tests/Helpers/http-broker-subscriber",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "BrokerHTTPTests",
            dependencies: [
                "BrokerHTTP", "MicroTesting", "MicroMemory", "MicroCore", nioCore, nioPosix, logging,
                // The cross-process tests: subscriber processes over a file registry.
                "http-broker-subscriber", "RegistryFile", "RegistryEtcd",
                // Services that publish and subscribe through the broker.
                "Micro", "CodecJSON", serviceLifecycle,
                // An HTTPS subscriber stand-in.
                .product(name: "NIOHTTP1", package: "swift-nio"), .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)
