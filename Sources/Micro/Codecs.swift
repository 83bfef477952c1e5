import MicroCore

/// The codecs of a client or server, found by content type.
struct Codecs: Sendable {
    private let byType: [String: any Codec]

    init(_ codecs: [any Codec]) {
        var byType: [String: any Codec] = [:]
        for codec in codecs { byType[Codecs.normalize(codec.contentType)] = codec }
        self.byType = byType
    }

    /// The codec for `contentType`, ignoring case and parameters such as `charset`.
    ///
    /// The exact form, which is what swift-micro and go-micro send, is found without
    /// normalising.
    subscript(contentType: String) -> (any Codec)? {
        byType[contentType] ?? byType[Codecs.normalize(contentType)]
    }

    /// The content types there are codecs for, sorted.
    var contentTypes: [String] { byType.keys.sorted() }

    /// `Application/JSON; charset=utf-8` → `application/json`.
    static func normalize(_ contentType: String) -> String {
        let base = contentType.split(separator: ";", maxSplits: 1).first.map(String.init) ?? contentType
        return base.lowercased().filter { $0 != " " }
    }
}
