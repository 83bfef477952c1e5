/// A `--flag` on the command line that no linked plugin and no part of the program
/// knows, with the nearest known flag when one is close (by edit distance):
/// `unknown flag --registy; did you mean --registry?`.
public struct UnknownFlagError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The flag as given, without dashes and without a value (`registy`).
    public var flag: String
    /// The nearest known flag name, without dashes; `nil` when none is close.
    public var suggestion: String?

    /// Creates an error.
    public init(flag: String, suggestion: String?) {
        self.flag = flag
        self.suggestion = suggestion
    }

    /// Creates the error for `flag`, suggesting the nearest of `known` (flag names
    /// without dashes) when it is close enough to be a misspelling.
    public init(flag: String, known: some Sequence<String>) {
        self.init(flag: flag, suggestion: UnknownFlagError.nearest(to: flag, among: known))
    }

    /// `unknown flag --registy; did you mean --registry?`, or with `see --help for the
    /// flags` when no known flag is close.
    public var description: String {
        if let suggestion { return "unknown flag --\(flag); did you mean --\(suggestion)?" }
        return "unknown flag --\(flag); see --help for the flags"
    }

    /// The name in `known` closest to `name` by edit distance (`-` and `_` alike, case
    /// ignored), if it is within a third of the longer name (at least 2 edits); ties go
    /// to the first in `known`.
    public static func nearest(to name: String, among known: some Sequence<String>) -> String? {
        let target = normalized(name)
        var best: (name: String, distance: Int)?
        for candidate in known {
            let distance = editDistance(target, normalized(candidate))
            let limit = max(2, max(target.count, candidate.count) / 3)
            guard distance <= limit else { continue }
            if best.map({ distance < $0.distance }) ?? true { best = (candidate, distance) }
        }
        return best?.name
    }

    /// The Levenshtein distance between `a` and `b`: insertions, deletions and
    /// substitutions of one character each.
    public static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a)
        let b = Array(b)
        guard !a.isEmpty else { return b.count }
        guard !b.isEmpty else { return a.count }
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                let substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)
                current[j] = min(previous[j] + 1, current[j - 1] + 1, substitution)
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }

    private static func normalized(_ name: String) -> String {
        String(name.lowercased().map { $0 == "-" ? "_" : $0 })
    }
}
