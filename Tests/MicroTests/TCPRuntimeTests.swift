import CodecJSON
import Micro
import MicroCore
import MicroMemory
import Synchronization
import Testing
import TransportTCP

/// Counts the connections a client dials.
final class CountingTransport: Transport {
    let base: any Transport
    let dials = Atomic<Int>(0)

    init(_ base: any Transport) {
        self.base = base
    }

    func dial(_ address: String, timeout: Duration) async throws -> any TransportConnection {
        dials.add(1, ordering: .relaxed)
        return try await base.dial(address, timeout: timeout)
    }

    func listen(_ address: String) async throws -> any TransportListener {
        try await base.listen(address)
    }
}

@Suite("The runtime over TCP")
struct TCPRuntimeTests {
    @Test func aThousandConcurrentCallsShareAHandfulOfConnections() async throws {
        let registry = MemoryRegistry()
        let transport = CountingTransport(TCPTransport())
        let runtime = MicroRuntime(registry: registry, transport: transport, codecs: [JSONCodec()], logger: quiet)
        var router = Router()
        router.handle("Echo.Call") { (request: Hello, _) in
            try await Task.sleep(for: .milliseconds(Int.random(in: 0...5)))
            return Greeting(msg: request.name)
        }
        let service = MicroService(configuration: .init(name: "echo"), router: router, runtime: runtime, logger: quiet)
        let mismatches = try await withServices([service]) {
            try await withThrowingTaskGroup(of: Bool.self) { group in
                for index in 0..<1000 {
                    group.addTask {
                        let answer = try await runtime.client.call("echo", "Echo.Call", request: Hello(name: "\(index)"), responseType: Greeting.self)
                        return answer.msg == "\(index)"
                    }
                }
                return try await group.reduce(0) { $0 + ($1 ? 0 : 1) }
            }
        }
        #expect(mismatches == 0, "every caller gets its own answer")
        let dials = transport.dials.load(ordering: .relaxed)
        #expect(dials >= 1 && dials <= RPCClient.Configuration().poolSize, "\(dials) connections for 1,000 calls")
    }
}
