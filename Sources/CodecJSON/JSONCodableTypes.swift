import Synchronization

/// Which types are `Encodable` and `Decodable`, remembered per type.
///
/// ``JSONCodec``'s methods are generic over any type, so they learn whether a type is
/// `Codable` with a dynamic cast, which costs about a thousand instructions per call:
/// as much as encoding a small message. Remembering the answer makes it a short scan of
/// a table under a lock held for just that. A service sends few message types, so the
/// tables stay small; past ``capacity`` types, new ones are cast every time.
///
/// The metatypes are kept as `SendableMetatype`s, which is what makes sharing them
/// between threads safe.
enum JSONCodableTypes {
    /// An `Encodable` metatype that can be shared between threads.
    typealias EncodableType = any (Encodable & SendableMetatype).Type
    /// A `Decodable` metatype that can be shared between threads.
    typealias DecodableType = any (Decodable & SendableMetatype).Type

    /// One type and what the cast found for it: the metatype, or `nil` when the cast failed.
    typealias Entry<Found> = (type: ObjectIdentifier, found: Found?)

    /// The most types a table remembers.
    static var capacity: Int { 64 }

    /// Each type seen so far as an `Encodable`, or `nil` when it is not one.
    private static let encodables = Mutex<[Entry<EncodableType>]>([])
    /// Each type seen so far as a `Decodable`, or `nil` when it is not one.
    private static let decodables = Mutex<[Entry<DecodableType>]>([])

    /// `type` as an `Encodable` type, or `nil` when it is not one (an existential such as
    /// `any Sendable` is not, whatever it holds).
    static func encodable<Value>(_ type: Value.Type) -> EncodableType? {
        lookUp(ObjectIdentifier(type), in: encodables) { type as? EncodableType }
    }

    /// `type` as a `Decodable` type, or `nil` when it is not one.
    static func decodable<Value>(_ type: Value.Type) -> DecodableType? {
        lookUp(ObjectIdentifier(type), in: decodables) { type as? DecodableType }
    }

    /// What `table` remembers for the type `key`, or what `cast` finds, remembered from
    /// then on. Not generic over the type itself, so that it is compiled for each table.
    private static func lookUp<Found: Sendable>(
        _ key: ObjectIdentifier,
        in table: borrowing Mutex<[Entry<Found>]>,
        cast: () -> Found?
    ) -> Found? {
        if let known = table.withLock({ entries in entries.first { $0.type == key } }) {
            return known.found
        }
        let found = cast()
        table.withLock { entries in
            if entries.count < capacity, !entries.contains(where: { $0.type == key }) {
                entries.append((key, found))
            }
        }
        return found
    }
}
