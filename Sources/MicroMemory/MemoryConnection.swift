public import MicroCore

/// A client's connection to a ``MemoryTransport`` listener; it multiplexes any number of
/// streams.
public struct MemoryConnection: TransportConnection {
    /// The address that was dialled.
    public let address: String
    private let core: MemoryConnectionCore
    private let listener: MemoryListener

    init(address: String, core: MemoryConnectionCore, listener: MemoryListener) {
        self.address = address
        self.core = core
        self.listener = listener
    }

    /// Whether the connection can still open streams.
    public var isOpen: Bool { core.isOpen }

    /// Opens a stream; the listener's handler gets the other end.
    ///
    /// - Throws: ``MicroCore/TransportError`` `.connectionClosed` when the connection or
    ///   the listener is closed.
    public func openStream() async throws -> any TransportStream {
        let toServer = MemoryPipe()
        let toClient = MemoryPipe()
        let id = try core.addStream([toServer, toClient])
        let control = MemoryStreamControl(toServer: toServer, toClient: toClient, connection: core, id: id)
        let client = MemoryStream(control: control, isClient: true, connection: core, id: id)
        let server = MemoryStream(control: control, isClient: false, connection: core, id: id)
        do {
            try listener.accept(server)
        } catch {
            core.close(reason: "was closed by the listener")
            throw error
        }
        return client
    }

    /// Closes the connection; its open streams fail with `.connectionClosed`.
    public func close() async {
        core.close(reason: "was closed by the client")
        listener.detach(core)
    }
}
