#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
public import Logging

extension FileRegistry {
    /// How a ``FileRegistry`` is set up.
    public struct Configuration: Sendable {
        /// The directory holding the registry: one sub-directory per service, one JSON
        /// file per node.
        ///
        /// Default: ``FileRegistry/defaultDirectory(environment:userID:)``, that is
        /// `$XDG_RUNTIME_DIR/micro/registry` when `XDG_RUNTIME_DIR` is set, else
        /// `/tmp/micro-registry-<uid>`. Every process on the machine that uses the same
        /// directory shares the same registry. Missing directories are created with
        /// mode 0700.
        public var directory: String

        /// How often a watch rescans the directory for changes made by any process.
        ///
        /// Default: 50 ms, so a change is reported within about 100 ms.
        public var pollInterval: Duration

        /// Where the registry logs: skipped files, swept expired nodes, scan failures.
        ///
        /// Default: a logger labelled `micro.registry.file`.
        public var logger: Logger

        /// Creates a configuration; every argument has the default documented on its
        /// property.
        public init(
            directory: String? = nil,
            pollInterval: Duration = .milliseconds(50),
            logger: Logger = Logger(label: "micro.registry.file")
        ) {
            self.directory = directory ?? FileRegistry.defaultDirectory()
            self.pollInterval = pollInterval
            self.logger = logger
        }
    }

    /// The directory used when none is configured: `$XDG_RUNTIME_DIR/micro/registry` when
    /// `XDG_RUNTIME_DIR` is set (and not empty), else `/tmp/micro-registry-<uid>`.
    ///
    /// - Parameters:
    ///   - environment: the environment variables to look in; `nil` (the default) uses
    ///     this process's.
    ///   - userID: the user id for the `/tmp` fallback; `nil` (the default) uses this
    ///     process's real user id.
    public static func defaultDirectory(
        environment: [String: String]? = nil,
        userID: UInt32? = nil
    ) -> String {
        let environment = environment ?? ProcessInfo.processInfo.environment
        let userID = userID ?? UInt32(getuid())
        if let runtime = environment["XDG_RUNTIME_DIR"], !runtime.isEmpty {
            let base = runtime.hasSuffix("/") ? String(runtime.dropLast()) : runtime
            return base + "/micro/registry"
        }
        return "/tmp/micro-registry-\(userID)"
    }
}
