#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// One spare instance of `Object` per thread, so that a hot path can reuse an instance
/// and the memory it holds instead of allocating a fresh one each time.
///
/// ``take()`` empties the calling thread's slot, so a nested use on the same thread (an
/// `Encodable` that encodes JSON inside its own `encode(to:)`) finds it empty and makes a
/// fresh instance; ``put(_:)`` refills an empty slot and drops the object otherwise. An
/// object is only ever in one slot or in use by one caller, so it is never shared between
/// threads. The object left in a slot is released when its thread exits.
final class ThreadLocalSpare<Object: AnyObject>: Sendable {
    private let key: pthread_key_t

    /// Creates the slots (one `pthread` key).
    init() {
        var key = pthread_key_t()
        let result = pthread_key_create(&key) { pointer in
            guard let pointer else { return }
            Unmanaged<AnyObject>.fromOpaque(pointer).release()
        }
        precondition(result == 0, "pthread_key_create failed with error \(result)")
        self.key = key
    }

    /// Takes the calling thread's spare instance, leaving its slot empty.
    func take() -> Object? {
        guard let pointer = pthread_getspecific(key) else { return nil }
        pthread_setspecific(key, nil)
        return Unmanaged<Object>.fromOpaque(pointer).takeRetainedValue()
    }

    /// Keeps `object` as the calling thread's spare when the slot is empty.
    func put(_ object: Object) {
        guard pthread_getspecific(key) == nil else { return }
        pthread_setspecific(key, Unmanaged.passRetained(object).toOpaque())
    }
}
