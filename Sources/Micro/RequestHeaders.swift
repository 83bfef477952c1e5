import MicroCore

/// The mucp headers of a request, read in one pass: the protocol's own headers by name
/// (the first of each wins, as ``MicroCore/Metadata``'s subscript), everything else as the
/// caller's metadata.
struct RequestHeaders {
    var endpoint: String?
    var method: String?
    var id: String?
    var stream: String?
    var topic: String?
    var contentType: String?
    var timeout: String?
    /// The headers minus the protocol's own.
    var metadata = Metadata()

    /// Where a protocol header goes.
    private enum Slot {
        case endpoint, method, id, stream, topic, contentType, timeout
        /// A protocol header the server does not read; not caller metadata either.
        case ignored
    }

    init(_ headers: Metadata) {
        for field in headers {
            if let slot = RequestHeaders.slot(for: field.name) {
                set(slot, field.value)
            } else {
                metadata.append(field.name, field.value)
            }
        }
    }

    /// The slot of a protocol header, `nil` for the caller's own. The names' lengths
    /// differ mostly, so each name is compared with at most three candidates.
    private static func slot(for name: String) -> Slot? {
        // `==` first: a transport that shares the protocol's name strings (TCP does)
        // makes it a comparison of two words.
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

    private mutating func set(_ slot: Slot, _ value: String) {
        switch slot {
        case .endpoint: if endpoint == nil { endpoint = value }
        case .method: if method == nil { method = value }
        case .id: if id == nil { id = value }
        case .stream: if stream == nil { stream = value }
        case .topic: if topic == nil { topic = value }
        case .contentType: if contentType == nil { contentType = value }
        case .timeout: if timeout == nil { timeout = value }
        case .ignored: break
        }
    }
}
