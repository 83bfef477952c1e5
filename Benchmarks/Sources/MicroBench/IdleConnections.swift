import MicroCore
import NIOCore
import TransportTCP

/// Opens many TCP connections to a swift-micro server with the TCP transport, makes one
/// call on each, and keeps them open: for the server's memory per idle connection.
enum IdleConnections {
    /// Dials `count` connections to `address` (50 at a time), calls `Echo.Bytes` once on
    /// each, and returns them.
    static func open(_ count: Int, to address: String) async throws -> [any TransportConnection] {
        let transport = TCPTransport(configuration: .init(idleTimeout: .seconds(600)))
        var connections: [any TransportConnection] = []
        var next = 0
        while next < count {
            let batch = min(50, count - next)
            let opened = try await withThrowingTaskGroup(of: (any TransportConnection).self) { group in
                for index in next..<(next + batch) {
                    group.addTask {
                        let connection = try await transport.dial(address, timeout: .seconds(10))
                        let stream = try await connection.openStream()
                        var headers = Metadata()
                        headers.append(MicroHeader.service, MicroEcho.service)
                        headers.append(MicroHeader.endpoint, MicroEcho.bytesEndpoint)
                        headers.append(MicroHeader.id, String(index))
                        headers.append(MicroHeader.contentType, "application/json")
                        try await stream.send(TransportMessage(headers: headers, body: ByteBuffer(string: "{\"data\":\"x\"}")))
                        await stream.close()
                        guard let reply = try await stream.receive(), reply.headers[MicroHeader.error] == nil else {
                            throw BenchError("call \(index) on an idle connection failed")
                        }
                        return connection
                    }
                }
                var opened: [any TransportConnection] = []
                for try await connection in group { opened.append(connection) }
                return opened
            }
            connections += opened
            next += batch
        }
        return connections
    }
}
