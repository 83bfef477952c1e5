public import MicroCore

extension Plugin {
    /// The `json` codec: ``JSONCodec``, `application/json`.
    public static let json: Plugin = .codec("json", summary: "Codable values as application/json") { _ in JSONCodec() }
}
