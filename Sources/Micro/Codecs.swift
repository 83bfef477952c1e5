import MicroCore

/// The codecs of a client or server, grouped by content type in link order.
///
/// A content type is found by its position in the list (``index(of:)``), and the codec
/// for a Swift type at that position is the first of the group that says it can handle
/// the type. The server works this out once per endpoint; the client per call, where a
/// group of one codec is taken without asking it.
struct Codecs: Sendable {
    /// Every codec, in link order.
    let all: [any Codec]
    /// The normalised content types, in the order their first codec was linked.
    ///
    /// There are a handful at most, and comparing a content type with each is cheaper
    /// than hashing it on every call.
    private let listedTypes: [String]
    /// The codecs of each content type, in link order; `groups[i]` serves `listedTypes[i]`.
    private let groups: [[any Codec]]
    /// The first codec of each content type, read by index so that no group is copied.
    private let firsts: [any Codec]
    /// Whether the content type at each index has a single codec.
    private let isAlone: [Bool]

    init(_ codecs: [any Codec]) {
        all = codecs
        var listedTypes: [String] = []
        var groups: [[any Codec]] = []
        for codec in codecs {
            let type = Codecs.normalize(codec.contentType)
            if let index = listedTypes.firstIndex(of: type) {
                groups[index].append(codec)
            } else {
                listedTypes.append(type)
                groups.append([codec])
            }
        }
        self.listedTypes = listedTypes
        self.groups = groups
        firsts = groups.map { $0[0] }
        isAlone = groups.map { $0.count == 1 }
    }

    /// Where `contentType` is in the list, ignoring case and parameters such as
    /// `charset`; `nil` when no codec serves it.
    ///
    /// The exact form, which is what swift-micro and go-micro send, is found without
    /// normalising.
    func index(of contentType: String) -> Int? {
        for index in listedTypes.indices where listedTypes[index] == contentType { return index }
        let normalized = Codecs.normalize(contentType)
        return listedTypes.firstIndex(of: normalized)
    }

    /// The number of content types.
    var count: Int { listedTypes.count }

    /// The content type at `index`, normalised.
    func contentType(at index: Int) -> String { listedTypes[index] }

    /// The first codec linked for `contentType`, whatever types it handles.
    subscript(contentType: String) -> (any Codec)? {
        index(of: contentType).map { firsts[$0] }
    }

    /// The first codec of the content type at `index` that can encode `type`.
    ///
    /// A content type with a single codec gives that codec without asking it: its
    /// `encode` throws ``MicroCore/CodecError`` for a type it declines.
    func encoder(at index: Int, for type: Any.Type) -> (any Codec)? {
        if isAlone[index] { return firsts[index] }
        return strictEncoder(at: index, for: type)
    }

    /// The first codec of the content type at `index` that can decode `type`; a content
    /// type with a single codec gives it without asking (see ``encoder(at:for:)``).
    func decoder(at index: Int, for type: Any.Type) -> (any Codec)? {
        if isAlone[index] { return firsts[index] }
        return strictDecoder(at: index, for: type)
    }

    /// The first codec of the content type at `index` whose ``MicroCore/Codec/canEncode(_:)``
    /// accepts `type`, asking even a single codec.
    func strictEncoder(at index: Int, for type: Any.Type) -> (any Codec)? {
        groups[index].first { $0.canEncode(type) }
    }

    /// The first codec of the content type at `index` whose ``MicroCore/Codec/canDecode(_:)``
    /// accepts `type`, asking even a single codec.
    func strictDecoder(at index: Int, for type: Any.Type) -> (any Codec)? {
        groups[index].first { $0.canDecode(type) }
    }

    /// The description of `type` by the first codec (in link order) that gives one, or
    /// `fallback`.
    func describe(_ type: Any.Type, fallback: EndpointValue) -> EndpointValue {
        for codec in all {
            if let value = codec.describe(type) { return value }
        }
        return fallback
    }

    /// The content types there are codecs for, sorted.
    var contentTypes: [String] { listedTypes.sorted() }

    /// `Application/JSON; charset=utf-8` → `application/json`.
    static func normalize(_ contentType: String) -> String {
        let base = contentType.split(separator: ";", maxSplits: 1).first.map(String.init) ?? contentType
        return base.lowercased().filter { $0 != " " }
    }
}
