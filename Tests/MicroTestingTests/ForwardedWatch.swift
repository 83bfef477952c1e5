import MicroCore
import Synchronization

/// A watch that reads `upstream` and delivers, for each of its events, what `transform`
/// makes of it: the deliberately wrong registries below change their watches with it.
func forwardedWatch(_ upstream: RegistryWatch, _ transform: @escaping @Sendable (RegistryEvent) -> [RegistryEvent]) -> RegistryWatch {
    let forward = Mutex<Task<Void, Never>?>(nil)
    let (stream, continuation) = RegistryWatch.makeStream(onTermination: { forward.withLock { $0?.cancel() } })
    forward.withLock { task in
        task = Task {
            do {
                for try await event in upstream {
                    for changed in transform(event) { continuation.yield(changed) }
                }
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
    }
    return stream
}
