import MicroCore

/// The codecs of a client or server, found by content type.
struct Codecs: Sendable {
    private let byType: [String: any Codec]
    /// The same pairs as two lists: there are a handful of codecs at most, and comparing
    /// a content type with each is cheaper than hashing it on every call. Read by index,
    /// so that no pair is copied.
    private let listedTypes: [String]
    private let listedCodecs: [any Codec]

    init(_ codecs: [any Codec]) {
        var byType: [String: any Codec] = [:]
        for codec in codecs { byType[Codecs.normalize(codec.contentType)] = codec }
        self.byType = byType
        let pairs = Array(byType)
        listedTypes = pairs.map(\.key)
        listedCodecs = pairs.map(\.value)
    }

    /// The codec for `contentType`, ignoring case and parameters such as `charset`.
    ///
    /// The exact form, which is what swift-micro and go-micro send, is found without
    /// normalising.
    subscript(contentType: String) -> (any Codec)? {
        for index in listedTypes.indices where listedTypes[index] == contentType { return listedCodecs[index] }
        return byType[Codecs.normalize(contentType)]
    }

    /// The content types there are codecs for, sorted.
    var contentTypes: [String] { byType.keys.sorted() }

    /// `Application/JSON; charset=utf-8` → `application/json`.
    static func normalize(_ contentType: String) -> String {
        let base = contentType.split(separator: ";", maxSplits: 1).first.map(String.init) ?? contentType
        return base.lowercased().filter { $0 != " " }
    }
}
