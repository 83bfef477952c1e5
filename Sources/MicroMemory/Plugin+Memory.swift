public import MicroCore

extension Plugin {
    /// The `memory` registry: ``MemoryRegistry/shared``, one store for the whole process.
    public static let memoryRegistry: Plugin = .registry(
        "memory", summary: "in-process registry for tests and single-process apps"
    ) { _ in MemoryRegistry.shared }

    /// The `memory` transport: ``MemoryTransport/shared``, one network for the whole
    /// process.
    public static let memoryTransport: Plugin = .transport(
        "memory", summary: "in-process transport for tests and single-process apps"
    ) { _ in MemoryTransport.shared }

    /// The `memory` broker: ``MemoryBroker/shared``, one bus for the whole process.
    public static let memoryBroker: Plugin = .broker(
        "memory", summary: "in-process broker for tests and single-process apps"
    ) { _ in MemoryBroker.shared }
}
