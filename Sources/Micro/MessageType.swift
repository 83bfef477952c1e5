import MicroCore

/// A request, response or event type that a ``Router`` erased: what the runtime asks the
/// codecs about it (which can encode or decode it, how to describe it).
struct MessageType: Sendable {
    /// The runtime's own description of the type (its name and, for a `Decodable` type,
    /// its fields), made once when the handler is added; used when no codec describes it.
    let fallback: EndpointValue
    /// Gives the metatype back: a closure over the generic parameter, because a metatype
    /// of any type is not `Sendable`.
    private let metatype: @Sendable () -> Any.Type

    /// The type `type`.
    init<Value: Sendable>(_ type: Value.Type) {
        fallback = TypeDescriber.describe(Value.self)
        metatype = { Value.self }
    }

    /// The type itself.
    var type: Any.Type { metatype() }

    /// The description of the first codec that gives one, else ``fallback``.
    func describe(by codecs: Codecs) -> EndpointValue {
        codecs.describe(type, fallback: fallback)
    }
}
