#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import NIOCore

/// The JSON one `encode` call is building: a tree of nodes over text in a
/// ``JSONWriter``, turned into a `ByteBuffer` at the end.
///
/// Values are written as text the moment they are encoded, but `Encoder` lets a caller
/// hold several containers and write to them in any order, so brackets and commas
/// between containers are only placed by ``makeBuffer()``. Each container is a node;
/// scalars written one after another into the same container share one text node
/// (`"a":1,"b":"x"`), so a flat struct costs two nodes whatever its size.
///
/// The writer starts with one spare byte. When the value is a single scalar, or one
/// object or array of scalars only, its text is already the whole document but for the
/// brackets: the opening one goes into the spare byte, the closing one at the end, and
/// the writer's buffer is handed over without a copy. Anything nested is copied out
/// node by node.
///
/// One instance per `encode` call, used by one thread; the encoders and containers
/// handed to `Encodable` types are small structs that point into it.
final class JSONEncodingState {
    /// One value in the tree.
    struct Node {
        /// What a node holds.
        enum Kind: UInt8 {
            /// Nothing yet: written as `{}` if it stays that way, as Foundation does.
            case pending
            /// Finished text: one scalar value, or a run of comma-separated elements.
            case text
            /// A JSON object whose members are the children.
            case object
            /// A JSON array whose elements are the children.
            case array
        }

        /// What the node holds.
        var kind: Kind
        /// Where the node's text starts in the writer: the `"key":` of an object member,
        /// then for ``Kind/text`` the value(s) too.
        var start: Int
        /// Where the node's text ends in the writer.
        var end: Int
        /// The containing node, or -1 for the root.
        let parent: Int
        /// The first child, or -1.
        var firstChild = -1
        /// The last child, or -1.
        var lastChild = -1
        /// The next child of the same parent, or -1.
        var nextSibling = -1
        /// Elements or members written into this container so far.
        var count = 0
        /// Where the key this value has in its parent is in ``JSONEncodingState/keys``,
        /// for coding paths; -1 for the root and for text runs, which never get an
        /// encoder of their own.
        let key: Int
    }

    /// The top-level value's node.
    static let root = 0

    // The stored properties opt out of run-time exclusivity checks, which cost more than
    // the writing itself. That is safe because every access is instantaneous and made by
    // this file's code: no access spans a call into `Encodable` code, and the closures
    // given an `inout JSONWriter` only touch that argument.

    /// The text of every node.
    @exclusivity(unchecked) var writer = JSONWriter(capacity: 256)
    /// The tree; ``root`` first. Nodes hold only integers, so the array is freed without
    /// visiting them.
    @exclusivity(unchecked) var nodes: [Node]
    /// The keys of the nodes that have one (nested values); a flat value has none, and
    /// the array then never allocates.
    @exclusivity(unchecked) var keys: [any CodingKey] = []
    /// The first misuse of the `Encoder` API (say, a keyed container asked of a value
    /// already encoded as a string), an `EncodingError`. Foundation traps; this is thrown
    /// from ``makeBuffer()``. Kept as `any Error`: checking an optional existential is a
    /// null test, checking an optional `EncodingError` goes through its value witnesses.
    @exclusivity(unchecked) var misuse: (any Error)?

    /// An empty tree: a ``root`` that holds nothing yet.
    private init() {
        nodes = []
        // Eight nodes fit in one small allocation; a flat value takes two.
        nodes.reserveCapacity(8)
        start()
    }

    /// Writes the spare byte and adds the root.
    private func start() {
        // The spare byte for an opening bracket; a space until then, which is never
        // part of any node's text.
        writer.write(UInt8(ascii: " "))
        nodes.append(Node(kind: .pending, start: 1, end: 1, parent: -1, key: -1))
    }

    /// Each thread's state between `encode` calls.
    private static let spare = ThreadLocalSpare<JSONEncodingState>()

    /// Node and key counts above which a state is not kept for reuse, so that one large
    /// document does not leave its arrays behind in every thread that encoded it.
    private static let reusableCapacity = 256

    /// An empty tree for one `encode` call: the calling thread's spare state, or a new one.
    ///
    /// Reusing a state saves allocating the state, its nodes and their release: with the
    /// writer's buffer, which leaves with the text, the whole cost of starting a flat
    /// value's encoding.
    static func make() -> JSONEncodingState {
        guard let state = spare.take() else { return JSONEncodingState() }
        state.writer = JSONWriter(capacity: 256)
        state.start()
        return state
    }

    /// Empties `state` after its `encode` call and keeps it as the thread's spare,
    /// unless something still refers to it (an `Encoder` or container that a value kept
    /// past its `encode(to:)`) or it grew large.
    static func recycle(_ state: inout JSONEncodingState) {
        // A writer whose text was copied out (nested values) still holds its buffer.
        if state.writer.hasBuffer { _ = state.writer.take() }
        guard isKnownUniquelyReferenced(&state),
            state.nodes.capacity <= reusableCapacity, state.keys.capacity <= reusableCapacity
        else { return }
        state.nodes.removeAll(keepingCapacity: true)
        // Flat values have no keys; an empty array needs no work.
        if !state.keys.isEmpty { state.keys.removeAll(keepingCapacity: true) }
        state.misuse = nil
        spare.put(state)
    }

    /// Adds a node at the end of `parent`'s children and returns its index; `key` is
    /// the node's key's index in ``keys``, or -1.
    private func appendNode(_ kind: Node.Kind, to parent: Int, key: Int) -> Int {
        let index = nodes.count
        nodes.append(Node(kind: kind, start: writer.count, end: writer.count, parent: parent, key: key))
        let last = nodes[parent].lastChild
        if last < 0 {
            nodes[parent].firstChild = index
        } else {
            nodes[last].nextSibling = index
        }
        nodes[parent].lastChild = index
        return index
    }

    /// Writes a scalar element into `container`, with `key` when the container is an
    /// object. Continues the container's last text node when nothing was written since.
    func appendScalar(to container: Int, key: String?, _ write: (inout JSONWriter) -> Void) {
        let last = nodes[container].lastChild
        let run: Int
        if last >= 0, nodes[last].kind == .text, nodes[last].end == writer.count {
            run = last
            writer.write(UInt8(ascii: ","))
        } else {
            run = appendNode(.text, to: container, key: -1)
        }
        if let key {
            writer.writeString(key)
            writer.write(UInt8(ascii: ":"))
        }
        write(&writer)
        nodes[run].end = writer.count
        nodes[container].count += 1
    }

    /// Writes `value` as a scalar element of `container` when it is a `String`, `Int` or
    /// `Bool`, the common elements of arrays and dictionaries, which reach containers
    /// through their generic `encode`; returns `false` for anything else.
    ///
    /// The metatype comparison makes the `unsafeBitCast` exact and costs no dynamic cast.
    func appendCommonScalar<Value>(_ value: Value, to container: Int, key: String?) -> Bool {
        if Value.self == String.self {
            let string = unsafeBitCast(value, to: String.self)
            appendScalar(to: container, key: key) { $0.writeString(string) }
        } else if Value.self == Int.self {
            let integer = unsafeBitCast(value, to: Int.self)
            appendScalar(to: container, key: key) { $0.writeInteger(integer) }
        } else if Value.self == Bool.self {
            let bool = unsafeBitCast(value, to: Bool.self)
            appendScalar(to: container, key: key) { $0.writeBool(bool) }
        } else {
            return false
        }
        return true
    }

    /// Adds an empty element to `container` for a nested value, container or super
    /// encoder to fill, writing `"keyText":` first for an object member.
    func appendChild(to container: Int, key: any CodingKey, keyText: String?) -> Int {
        keys.append(key)
        let child = appendNode(.pending, to: container, key: keys.count - 1)
        if let keyText {
            writer.writeString(keyText)
            writer.write(UInt8(ascii: ":"))
            nodes[child].end = writer.count
        }
        nodes[container].count += 1
        return child
    }

    /// Encodes `value` as a new element of `container`. If `value` throws, the element
    /// is taken out again, so a caller that catches the error leaves no trace of it.
    func encodeChild<Value: Encodable>(_ value: Value, to container: Int, key: any CodingKey, keyText: String?) throws {
        let previousLast = nodes[container].lastChild
        let child = appendChild(to: container, key: key, keyText: keyText)
        do {
            try encode(value, into: child)
        } catch {
            if nodes[container].lastChild == child {
                nodes[container].lastChild = previousLast
                if previousLast < 0 {
                    nodes[container].firstChild = -1
                } else {
                    nodes[previousLast].nextSibling = -1
                }
                nodes[container].count -= 1
            }
            throw error
        }
    }

    /// Encodes `value` into the empty `node`: the types Foundation's encoder treats
    /// specially by default (`Data` as base64, `URL` as its absolute string, `Decimal`
    /// as a number), anything else through its own `encode(to:)`.
    func encode<Value: Encodable>(_ value: Value, into node: Int) throws {
        if Value.self == Data.self {
            let base64 = (value as! Data).base64EncodedString()
            setScalar(node) { $0.writeString(base64) }
        } else if Value.self == URL.self {
            let text = (value as! URL).absoluteString
            setScalar(node) { $0.writeString(text) }
        } else if Value.self == Decimal.self {
            let decimal = value as! Decimal
            guard !decimal.isNaN else {
                throw EncodingError.invalidValue(decimal, .init(codingPath: codingPath(of: node), debugDescription: "Unable to encode Decimal.nan directly in JSON."))
            }
            setScalar(node) { $0.writeASCII(decimal.description) }
        } else {
            try value.encode(to: JSONValueEncoder(state: self, node: node))
        }
    }

    /// Writes the single value of `node`, which must still be empty.
    func setScalar(_ node: Int, _ write: (inout JSONWriter) -> Void) {
        guard nodes[node].kind == .pending else {
            recordMisuse(at: node, "a single value was encoded into a value that already holds \(nodes[node].kind)")
            return
        }
        if nodes[node].end != writer.count {
            // Something was written elsewhere since this node's key: move the key to
            // the end so the node's text stays one range.
            let start = writer.count
            writer.writeCopy(of: nodes[node].start..<nodes[node].end)
            nodes[node].start = start
        }
        write(&writer)
        nodes[node].end = writer.count
        nodes[node].kind = .text
    }

    /// Makes the empty `node` an object or an array. Asking again for the same kind
    /// continues the container, as Foundation does (a class and its superclass sharing
    /// one encoder write into one object).
    func makeContainer(_ node: Int, kind: Node.Kind) {
        switch nodes[node].kind {
        case .pending: nodes[node].kind = kind
        case kind: break
        default: recordMisuse(at: node, "asked for an \(kind) container of a value that already holds \(nodes[node].kind)")
        }
    }

    /// Keeps the first misuse of the `Encoder` API, to throw at the end.
    private func recordMisuse(at node: Int, _ description: String) {
        guard misuse == nil else { return }
        misuse = EncodingError.invalidValue(description, .init(codingPath: codingPath(of: node), debugDescription: "Encoder misused: \(description)"))
    }

    /// The keys from the root to `node`.
    func codingPath(of node: Int) -> [any CodingKey] {
        var path: [any CodingKey] = []
        var current = node
        while current > JSONEncodingState.root {
            let key = nodes[current].key
            if key >= 0 { path.append(keys[key]) }
            current = nodes[current].parent
        }
        return path.reversed()
    }

    /// The finished JSON: every node's text, with the brackets and commas between them.
    ///
    /// - Throws: the first recorded misuse of the `Encoder` API.
    func makeBuffer() throws -> ByteBuffer {
        if let misuse { throw misuse }
        let root = nodes[JSONEncodingState.root]
        let end = writer.count
        if root.kind == .text, root.start == 1, root.end == end {
            // One scalar, alone in the writer.
            var buffer = writer.take()
            buffer.moveReaderIndex(forwardBy: 1)
            return buffer
        }
        if root.kind == .object || root.kind == .array, root.firstChild >= 0, root.firstChild == root.lastChild,
            case let run = nodes[root.firstChild], run.kind == .text, run.start == 1, run.end == end
        {
            // Only scalars, written in one run that fills the writer: bracket it in place.
            let isObject = root.kind == .object
            writer.set(isObject ? UInt8(ascii: "{") : UInt8(ascii: "["), at: 0)
            writer.write(isObject ? UInt8(ascii: "}") : UInt8(ascii: "]"))
            return writer.take()
        }
        // Every byte of text is in at most one node; each node adds at most two brackets
        // and one comma.
        let capacity = end + 3 * nodes.count
        var buffer = ByteBufferAllocator().buffer(capacity: capacity)
        writer.withText { text in
            nodes.withUnsafeBufferPointer { nodes in
                _ = buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: capacity) { output in
                    var position = 0
                    JSONEncodingState.write(JSONEncodingState.root, nodes: nodes, text: text, into: output, at: &position)
                    return position
                }
            }
        }
        return buffer
    }

    /// Writes `node` and its children into `output` from `position` on.
    private static func write(
        _ node: Int,
        nodes: UnsafeBufferPointer<Node>,
        text: UnsafeBufferPointer<UInt8>,
        into output: UnsafeMutableRawBufferPointer,
        at position: inout Int
    ) {
        func append(_ byte: UInt8) {
            output[position] = byte
            position += 1
        }
        let range = nodes[node].start..<nodes[node].end
        UnsafeMutableRawBufferPointer(rebasing: output[position...]).copyMemory(from: UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: text[range])))
        position += range.count
        switch nodes[node].kind {
        case .text:
            break
        case .pending:
            append(UInt8(ascii: "{"))
            append(UInt8(ascii: "}"))
        case .object, .array:
            let isObject = nodes[node].kind == .object
            append(isObject ? UInt8(ascii: "{") : UInt8(ascii: "["))
            var child = nodes[node].firstChild
            while child >= 0 {
                if child != nodes[node].firstChild { append(UInt8(ascii: ",")) }
                write(child, nodes: nodes, text: text, into: output, at: &position)
                child = nodes[child].nextSibling
            }
            append(isObject ? UInt8(ascii: "}") : UInt8(ascii: "]"))
        }
    }
}
