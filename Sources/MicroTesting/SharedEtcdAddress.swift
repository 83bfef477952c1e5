#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The etcd that `scripts/test` started for the tests, from `MICRO_TEST_ETCD`
/// (`127.0.0.1:PORT`).
///
/// - Throws: ``TestServerMissing`` saying how to start one when the variable is not set,
///   so a test that needs etcd fails loudly instead of passing without it.
public func sharedEtcdAddress() throws -> String {
    guard let address = ProcessInfo.processInfo.environment["MICRO_TEST_ETCD"], !address.isEmpty else {
        throw TestServerMissing(
            "MICRO_TEST_ETCD is not set: these tests need a running etcd. Run scripts/test (it installs etcd-server "
                + "and starts one on loopback), or start `etcd` yourself and set MICRO_TEST_ETCD=127.0.0.1:PORT"
        )
    }
    return address
}

/// A server a test needs is not running; the message says how to start it.
public struct TestServerMissing: Error, Sendable, CustomStringConvertible {
    /// What is missing and how to start it.
    public let description: String

    /// Creates the error.
    public init(_ description: String) {
        self.description = description
    }
}
