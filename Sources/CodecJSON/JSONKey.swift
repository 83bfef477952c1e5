/// A coding key the JSON encoder and decoder make themselves: an array index, the
/// `super` key of `superEncoder()`/`superDecoder()`, or an object key read back from a
/// document to rebuild a coding path.
///
/// An enum rather than a struct with two optionals, so it fits an existential's inline
/// buffer and storing it as `any CodingKey` does not allocate.
enum JSONKey: CodingKey {
    /// An object key.
    case name(String)
    /// An array index.
    case index(Int)

    /// The key `superEncoder()` and `superDecoder()` use.
    static let superKey = JSONKey.name("super")

    /// An object key.
    init(stringValue: String) {
        self = .name(stringValue)
    }

    /// An array index.
    init(intValue: Int) {
        self = .index(intValue)
    }

    /// The key's text; `Index 3` for an array index, as Foundation names it.
    var stringValue: String {
        switch self {
        case .name(let name): name
        case .index(let index): "Index \(index)"
        }
    }

    /// The array index, or `nil` for an object key.
    var intValue: Int? {
        switch self {
        case .name: nil
        case .index(let index): index
        }
    }
}
