/// The version of swift-micro: one constant for the whole package, printed by
/// `--version` in every executable built on the runtime (`micro`, `greeter`).
public enum MicroVersion {
    /// The version, such as `0.1.0`.
    public static let current = "0.1.0"

    /// The line `--version` prints for `program`: `greeter (swift-micro 0.1.0)`.
    public static func line(program: String) -> String {
        "\(program) (swift-micro \(current))"
    }
}
