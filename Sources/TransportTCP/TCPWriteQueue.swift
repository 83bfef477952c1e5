import NIOCore

/// Encoded frames waiting for a connection's next flush, in order.
///
/// Every `ChannelPipeline` write costs the pipeline's bookkeeping for one buffer, more
/// than encoding a small frame does, so the frames queued between two flushes are copied
/// into one buffer: a flush then makes one pipeline write however many calls it carries.
/// A body large enough to travel as its own buffer (see
/// ``TCPFrameEncoder/inlineBodyLimit``) is not copied; the frames after it go into a new
/// buffer.
struct TCPWriteQueue {
    /// The first buffer; the frames of most flushes all end up in it.
    private var first: ByteBuffer?
    /// The buffers after the first: large bodies, and the frames queued after them.
    private var rest: [ByteBuffer] = []
    /// Whether the last buffer takes more frames (it does not when it is a large body).
    private var lastTakesFrames = false

    /// Whether nothing is queued.
    var isEmpty: Bool { first == nil }

    /// Queues a frame: its `head` (the whole frame when the body is inline) and, when
    /// the body travels as its own buffer, the `body`.
    mutating func append(_ head: ByteBuffer, body: ByteBuffer?) {
        if first == nil {
            first = head
        } else if !lastTakesFrames {
            rest.append(head)
        } else if rest.isEmpty {
            first?.writeImmutableBuffer(head)
        } else {
            rest[rest.count - 1].writeImmutableBuffer(head)
        }
        lastTakesFrames = body == nil
        if let body { rest.append(body) }
    }

    /// Takes the queued buffers in order, leaving the queue empty; `nil` when it is.
    mutating func take() -> (first: ByteBuffer, rest: [ByteBuffer])? {
        guard let first = first.take() else { return nil }
        defer {
            rest = []
            lastTakesFrames = false
        }
        return (first, rest)
    }
}
