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
    /// Where each slot's header is in `headers.fields`, `-1` when absent.
    private var positions = Positions()
    /// Whether any header is the caller's own.
    private var hasCallerMetadata = false

    var endpoint: String? { value(positions.endpoint) }
    var method: String? { value(positions.method) }
    var id: String? { value(positions.id) }
    var stream: String? { value(positions.stream) }
    var topic: String? { value(positions.topic) }
    var contentType: String? { value(positions.contentType) }
    var timeout: String? { value(positions.timeout) }

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
    private enum Slot {
        case endpoint, method, id, stream, topic, contentType, timeout
        /// A protocol header the server does not read; not caller metadata either.
        case ignored
    }

    /// The positions of the protocol headers the server reads.
    private struct Positions {
        var endpoint = -1, method = -1, id = -1, stream = -1, topic = -1, contentType = -1, timeout = -1
    }

    init(_ headers: Metadata) {
        self.headers = headers
        // By index: iterating would copy each field, retaining and releasing both strings.
        let fields = headers.fields
        for index in fields.indices {
            guard let slot = RequestHeaders.slot(for: fields[index].name) else {
                hasCallerMetadata = true
                continue
            }
            set(slot, index)
        }
    }

    private func value(_ position: Int) -> String? {
        position < 0 ? nil : headers.fields[position].value
    }

    /// The slot of a protocol header, `nil` for the caller's own. The names' lengths
    /// differ mostly, so each name is compared with at most three candidates.
    private static func slot(for name: String) -> Slot? {
        // `==` first: it compares two words when both are the same constant or short.
        func match(_ known: String, _ slot: Slot) -> Slot? {
            known == name || Metadata.equalNames(known, name) ? slot : nil
        }
        switch name.utf8.count {
        case 6: return match(MicroHeader.accept, .ignored)
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

    /// Records the first position of each slot.
    private mutating func set(_ slot: Slot, _ index: Int) {
        switch slot {
        case .endpoint: if positions.endpoint < 0 { positions.endpoint = index }
        case .method: if positions.method < 0 { positions.method = index }
        case .id: if positions.id < 0 { positions.id = index }
        case .stream: if positions.stream < 0 { positions.stream = index }
        case .topic: if positions.topic < 0 { positions.topic = index }
        case .contentType: if positions.contentType < 0 { positions.contentType = index }
        case .timeout: if positions.timeout < 0 { positions.timeout = index }
        case .ignored: break
        }
    }
}
