import MicroCore

/// The mucp headers of a request, read in one pass: the protocol's own headers by name
/// (the first of each wins, as ``MicroCore/Metadata``'s subscript), everything else as the
/// caller's metadata.
///
/// It keeps the headers and the position of each protocol header in them, not copies of
/// the strings: a value is copied out only when it is read, and the caller's metadata
/// only built when there is some.
struct RequestHeaders {
    private let headers: Metadata
    /// Where each slot's first header is in `headers.fields`, `-1` when absent: one entry
    /// per ``Slot``, at its raw value.
    private let positions: InlineArray<9, Int>
    /// Whether any header is the caller's own.
    private let hasCallerMetadata: Bool

    var endpoint: String? { value(.endpoint) }
    var method: String? { value(.method) }
    var id: String? { value(.id) }
    var stream: String? { value(.stream) }
    var topic: String? { value(.topic) }
    var contentType: String? { value(.contentType) }
    var accept: String? { value(.accept) }
    var timeout: String? { value(.timeout) }

    /// The headers minus the protocol's own.
    var metadata: Metadata {
        guard hasCallerMetadata else { return Metadata() }
        var metadata = Metadata()
        for field in headers.fields where RequestHeaders.slot(for: field.name) == nil {
            metadata.append(field.name, field.value)
        }
        return metadata
    }

    /// Where a protocol header goes.
    private enum Slot: Int {
        case endpoint, method, id, stream, topic, contentType, timeout, accept
        /// A protocol header the server does not read; not caller metadata either.
        case ignored
    }

    init(_ headers: Metadata) {
        var positions = InlineArray<9, Int>(repeating: -1)
        var hasCallerMetadata = false
        // By index: iterating would copy each field, retaining and releasing both strings.
        let fields = headers.fields
        for index in fields.indices {
            guard let slot = RequestHeaders.slot(for: fields[index].name) else {
                hasCallerMetadata = true
                continue
            }
            if positions[slot.rawValue] < 0 { positions[slot.rawValue] = index }
        }
        self.headers = headers
        self.positions = positions
        self.hasCallerMetadata = hasCallerMetadata
    }

    /// The value of `slot`'s first header, if there is one.
    private func value(_ slot: Slot) -> String? {
        let position = positions[slot.rawValue]
        return position < 0 ? nil : headers.fields[position].value
    }

    /// The slot of a protocol header, `nil` for the caller's own. The names' lengths
    /// differ mostly, so each name is compared with at most three candidates.
    private static func slot(for name: String) -> Slot? {
        // `==` first: it compares two words when both are the same constant or short.
        func match(_ known: String, _ slot: Slot) -> Slot? {
            known == name || Metadata.equalNames(known, name) ? slot : nil
        }
        switch name.utf8.count {
        case 6: return match(MicroHeader.accept, .accept)
        case 7: return match(MicroHeader.timeout, .timeout)
        case 8: return match(MicroHeader.id, .id)
        case 10: return match("X-Micro-Id", .ignored)
        case 11: return match(MicroHeader.error, .ignored) ?? match(MicroHeader.topic, .topic)
        case 12:
            return match(MicroHeader.contentType, .contentType) ?? match(MicroHeader.method, .method)
                ?? match(MicroHeader.stream, .stream)
        case 13: return match(MicroHeader.service, .ignored)
        case 14: return match(MicroHeader.endpoint, .endpoint)
        default: return nil
        }
    }
}
