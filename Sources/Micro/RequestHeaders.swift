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

    private static let protocolHeaders: [(name: String, slot: Slot)] = [
        (MicroHeader.service, .ignored), (MicroHeader.endpoint, .endpoint), (MicroHeader.method, .method),
        (MicroHeader.id, .id), ("X-Micro-Id", .ignored), (MicroHeader.error, .ignored), (MicroHeader.stream, .stream),
        (MicroHeader.topic, .topic), (MicroHeader.timeout, .timeout), (MicroHeader.contentType, .contentType),
        (MicroHeader.accept, .ignored),
    ]

    init(_ headers: Metadata) {
        fields: for field in headers {
            for known in RequestHeaders.protocolHeaders where Metadata.equalNames(known.name, field.name) {
                set(known.slot, field.value)
                continue fields
            }
            metadata.append(field.name, field.value)
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
