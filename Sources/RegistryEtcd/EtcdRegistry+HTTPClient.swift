import AsyncHTTPClient
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import MicroCore
import NIOCore
import NIOSSL
import Synchronization

extension EtcdRegistry {
    /// One `HTTPClient` per TLS setting for the whole process, made on first use and
    /// never shut down (like `HTTPClient.shared`), so registries can be made and dropped
    /// freely without leaking or tripping the client's shut-down check.
    ///
    /// `HTTPClient.shared` itself does not fit: it allows 8 connections per host (each
    /// open watch holds one, so a ninth watch or any call after it would wait forever),
    /// cuts idle reads after 90 s (a quiet watch), and retries refused connections for
    /// its connect timeout instead of failing over to the next endpoint at once.
    private static let clients = Mutex<[TLS: HTTPClient]>([:])

    /// The process-wide client for `tls`.
    ///
    /// - Throws: ``MicroCore/OptionError`` for a CA file that cannot be read.
    static func sharedHTTPClient(tls: TLS) throws -> HTTPClient {
        if let client = clients.withLock({ $0[tls] }) { return client }
        var configuration = HTTPClient.Configuration()
        configuration.timeout = .init(connect: .seconds(5), read: nil)
        var pool = HTTPClient.Configuration.ConnectionPool(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 4096)
        pool.retryConnectionEstablishment = false
        configuration.connectionPool = pool
        configuration.httpVersion = .http1Only
        configuration.decompression = .disabled
        var tlsConfiguration = TLSConfiguration.makeClientConfiguration()
        if let file = tls.caFile {
            guard FileManager.default.isReadableFile(atPath: file) else {
                throw OptionError(key: Configuration.caFileKey.name, message: "cannot read the CA file \(file)")
            }
            tlsConfiguration.trustRoots = .file(file)
        }
        if tls.insecureSkipVerify { tlsConfiguration.certificateVerification = .none }
        configuration.tlsConfiguration = tlsConfiguration
        return clients.withLock { clients in
            if let client = clients[tls] { return client }
            let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
            clients[tls] = client
            return client
        }
    }
}
