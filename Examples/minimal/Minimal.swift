import CodecJSON
import Micro
import MicroCore
import RegistryFile
import SelectorCache
import TransportTCP

/// The smallest service: an echo over the file registry, TCP and JSON, linking only the
/// core modules and those three plugins. `scripts/test` builds it with the OpenSSL and
/// Avahi headers hidden, so an application that links neither TransportTLS nor
/// RegistryMDNS is shown to build without them.
///
/// ```
/// swift run minimal                                   # serves Echo.Call as `echo`
/// swift run micro call echo Echo.Call '{"text":"hi"}'
/// ```
@main
struct Minimal {
    /// `Echo.Call`'s request and answer.
    struct Message: Codable, Sendable {
        var text: String
    }

    static func main() async throws {
        let runtime = MicroRuntime.commandLine(plugins: Plugins([.file, .tcp, .json, .cache]))
        var router = Router()
        router.handle("Echo.Call") { (message: Message, _) in message }
        try await MicroService(name: "echo", router: router, runtime: runtime).serve()
    }
}
