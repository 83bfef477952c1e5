// swift-tools-version:6.1
import PackageDescription

/// The benchmark lives in its own package so that the main build does not pull in
/// grpc-swift, swift-nio-http2 or HdrHistogram.
let swiftSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "swift-micro-benchmarks",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "micro-bench", targets: ["MicroBench"])
    ],
    dependencies: [
        .package(name: "swift-micro", path: ".."),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/grpc/grpc-swift-2.git", exact: "2.4.3"),
        .package(url: "https://github.com/grpc/grpc-swift-nio-transport.git", exact: "2.9.2"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", exact: "0.2.0"),
    ],
    targets: [
        .executableTarget(
            name: "MicroBench",
            dependencies: [
                .product(name: "Micro", package: "swift-micro"),
                .product(name: "MicroCore", package: "swift-micro"),
                .product(name: "CodecJSON", package: "swift-micro"),
                .product(name: "BrokerHTTP", package: "swift-micro"),
                .product(name: "RegistryFile", package: "swift-micro"),
                .product(name: "SelectorCache", package: "swift-micro"),
                .product(name: "TransportTCP", package: "swift-micro"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ],
            swiftSettings: swiftSettings
        )
    ]
)
