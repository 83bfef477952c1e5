import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import Synchronization

/// An HTTPS listener on 127.0.0.1 with a self-signed certificate made by the `openssl`
/// command for this test: a stand-in for a subscriber registered with `secure=true`
/// (go-micro's secure broker serves self-signed certificates). It records each request's
/// target and answers 200 with an empty body.
final class TLSCaptureServer: Sendable {
    /// The bound port.
    let port: Int
    /// The PEM certificate it serves (also its own CA).
    let certificateFile: String
    private let channel: any Channel
    private let targets: Recorded

    /// The request targets received, such as `/?id=t-1`, over TLS.
    var requests: [String] { targets.all }

    private init(port: Int, certificateFile: String, channel: any Channel, targets: Recorded) {
        self.port = port
        self.certificateFile = certificateFile
        self.channel = channel
        self.targets = targets
    }

    /// Makes a key and certificate for 127.0.0.1 in `directory` and starts serving.
    static func start(in directory: URL) async throws -> TLSCaptureServer {
        let key = directory.appendingPathComponent("key.pem").path
        let certificate = directory.appendingPathComponent("cert.pem").path
        let openssl = Process()
        openssl.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        openssl.arguments = [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
            "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", key, "-out", certificate,
        ]
        openssl.standardOutput = FileHandle.nullDevice
        openssl.standardError = FileHandle.nullDevice
        try openssl.run()
        openssl.waitUntilExit()
        guard openssl.terminationStatus == 0 else {
            throw TLSCaptureServerError("openssl could not make a test certificate (is the openssl command installed? apt-get install openssl)")
        }
        let context = try NIOSSLContext(configuration: .makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMFile(certificate).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(file: key, format: .pem))
        ))
        let targets = Recorded()
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { child in
                child.eventLoop.makeCompletedFuture {
                    try child.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: context))
                    try child.pipeline.syncOperations.configureHTTPServerPipeline()
                    try child.pipeline.syncOperations.addHandler(Answerer(targets: targets))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        return TLSCaptureServer(port: channel.localAddress?.port ?? 0, certificateFile: certificate, channel: channel, targets: targets)
    }

    /// Closes the listener.
    func close() async {
        try? await channel.close()
    }

    /// Records each request's target and answers 200 at its end.
    private final class Answerer: ChannelInboundHandler, Sendable {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart
        let targets: Recorded

        init(targets: Recorded) { self.targets = targets }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head):
                targets.append(head.uri)
            case .body:
                break
            case .end:
                let head = HTTPResponseHead(version: .http1_1, status: .ok, headers: ["Content-Length": "0"])
                context.write(wrapOutboundOut(.head(head)), promise: nil)
                context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            }
        }
    }

    /// A list of strings shared with the event loop.
    private final class Recorded: Sendable {
        private let values = Mutex<[String]>([])
        func append(_ value: String) { values.withLock { $0.append(value) } }
        var all: [String] { values.withLock { $0 } }
    }
}

/// The TLS stand-in could not start.
struct TLSCaptureServerError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
