/// One value of a scanned JSON document, in a flat array in document order: a
/// container is followed by its elements (an object's by key, value, key, value…).
///
/// Sixteen bytes, so scanning costs one array append per value and no allocation per
/// container.
struct JSONToken {
    /// What kind of value a token is.
    enum Kind: UInt8 {
        /// `null`.
        case null
        /// `true`.
        case `true`
        /// `false`.
        case `false`
        /// A number with only digits and maybe a minus sign: `-12`.
        case integer
        /// A number with a fraction or an exponent: `1.5`, `1e3`.
        case number
        /// A string of ASCII characters only, without escapes.
        case asciiString
        /// A string without escapes, with at least one non-ASCII character.
        case string
        /// A string with at least one backslash escape.
        case escapedString
        /// `[…]`.
        case array
        /// `{…}`.
        case object

        /// Whether the kind is one of the string kinds, escaped or not.
        var isString: Bool { self == .asciiString || self == .string || self == .escapedString }
    }

    /// What the token is.
    let kind: Kind
    /// Where the token starts in the document; for a string, just after the opening quote.
    let offset: UInt32
    /// A scalar's length in bytes (a string's without its quotes); a container's number
    /// of elements (an object's number of members).
    var length: UInt32
    /// The index of the token after this value and everything inside it.
    var next: UInt32

    /// Where the token starts in the document.
    var start: Int { Int(offset) }
    /// Where a scalar ends in the document.
    var end: Int { Int(offset) + Int(length) }
    /// The number of elements (or members) of a container.
    var count: Int { Int(length) }
    /// The index of the token after this value.
    var nextIndex: Int { Int(next) }
    /// Whether the token is a string, escaped or not.
    var isString: Bool { kind.isString }
    /// Whether the token is a number.
    var isNumber: Bool { kind == .integer || kind == .number }
}
